"""GET /v1/threads/{thread_id}/export: a thread and its messages, ascending, as import takes them; paged."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from threadkit.contract.models import PLAIN_INTEGER
from threadkit.contract.transfer import DEFAULT_EXPORT_LIMIT, MAX_EXPORT_LIMIT, ThreadExport
from threadkit.domain import thread_transfer
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Path, Query, error_responses, new_app

app = new_app()


@app.get(
    "/v1/threads/<thread_id>/export",
    summary="Export a thread",
    description="The document `POST /v1/threads/import` takes: the thread and its messages, oldest first. "
    "A long thread comes in pages: while `has_more`, ask again with `after` set to `last_id`.",
    operation_id="exportThread",
    tags=["Threads"],
    responses={
        200: {"description": "A page of the export", "content": {"application/json": {"model": ThreadExport}}}
    }
    | error_responses(400, 404, 429, 500),
)
def export_thread(
    thread_id: Annotated[str, Path(description="The thread to export.")],
    after: Annotated[str | None, Query(description="A message id: the page starts past it.")] = None,
    limit: Annotated[
        int,
        Query(description="Messages per page, 1 to 1,000."),
        Field(ge=1, le=MAX_EXPORT_LIMIT),
        PLAIN_INTEGER,
    ] = DEFAULT_EXPORT_LIMIT,
) -> ThreadExport:
    return thread_transfer.export_thread(current_tenant(app), thread_id, after=after, limit=limit)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
