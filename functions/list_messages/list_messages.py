"""GET /v1/threads/{thread_id}/messages: list a thread's messages, one page at a time."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from threadkit.contract.models import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, PLAIN_INTEGER, MessageList, Order
from threadkit.domain import messages
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Path, Query, error_responses, new_app

app = new_app()


@app.get(
    "/v1/threads/<thread_id>/messages",
    summary="List messages",
    operation_id="listMessages",
    tags=["Messages"],
    responses={
        200: {"description": "A page of messages", "content": {"application/json": {"model": MessageList}}}
    }
    | error_responses(400, 404, 429, 500),
)
def list_messages(
    thread_id: Annotated[str, Path(description="The thread whose messages to list.")],
    limit: Annotated[
        int, Query(description="Page size, 1 to 100."), Field(ge=1, le=MAX_LIST_LIMIT), PLAIN_INTEGER
    ] = DEFAULT_LIST_LIMIT,
    order: Annotated[Order, Query(description="By creation time: `asc` or `desc`.")] = "desc",
    after: Annotated[str | None, Query(description="A message id: the page starts past it.")] = None,
    before: Annotated[str | None, Query(description="A message id: the page ends just short of it.")] = None,
    run_id: Annotated[str | None, Query(description="Only the messages of this run.")] = None,
) -> MessageList:
    return messages.list_messages(
        current_tenant(app),
        thread_id,
        limit=limit,
        order=order,
        after=after,
        before=before,
        run_id=run_id,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
