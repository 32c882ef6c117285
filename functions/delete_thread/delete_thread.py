"""DELETE /v1/threads/{thread_id}: delete a thread at once; its messages are purged in the background."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.contract.models import ThreadDeleted
from threadkit.domain import threads
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Path, error_responses, new_app

app = new_app()


@app.delete(
    "/v1/threads/<thread_id>",
    summary="Delete a thread",
    operation_id="deleteThread",
    tags=["Threads"],
    responses={
        200: {"description": "The deletion", "content": {"application/json": {"model": ThreadDeleted}}}
    }
    | error_responses(400, 404, 429, 500),
)
def delete_thread(thread_id: Annotated[str, Path(description="The thread to delete.")]) -> ThreadDeleted:
    return threads.delete_thread(current_tenant(app), thread_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
