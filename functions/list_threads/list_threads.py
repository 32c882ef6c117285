"""GET /v1/threads: list the calling tenant's threads, one page at a time, optionally filtered by metadata."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from threadkit.contract.models import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, PLAIN_INTEGER, Order
from threadkit.contract.transfer import ThreadList
from threadkit.domain import threads
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Query, error_responses, new_app

app = new_app()


@app.get(
    "/v1/threads",
    summary="List threads",
    description="The calling tenant's threads by creation time. Filter by metadata with "
    "`metadata[<key>]=<value>` query parameters (up to 16; a thread must have every pair). A new thread "
    "appears in the list within about a second (the list reads an eventually consistent index).",
    operation_id="listThreads",
    tags=["Threads"],
    responses={
        200: {"description": "A page of threads", "content": {"application/json": {"model": ThreadList}}}
    }
    | error_responses(400, 429, 500),
)
def list_threads(
    limit: Annotated[
        int, Query(description="Page size, 1 to 100."), Field(ge=1, le=MAX_LIST_LIMIT), PLAIN_INTEGER
    ] = DEFAULT_LIST_LIMIT,
    order: Annotated[Order, Query(description="By creation time: `asc` or `desc`.")] = "desc",
    after: Annotated[str | None, Query(description="A thread id: the page starts past it.")] = None,
    before: Annotated[str | None, Query(description="A thread id: the page ends just short of it.")] = None,
) -> ThreadList:
    query = app.current_event.query_string_parameters or {}
    return threads.list_threads(
        current_tenant(app),
        limit=limit,
        order=order,
        after=after,
        before=before,
        metadata=threads.metadata_filter(query),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
