"""GET /v1/threads/{thread_id}: read a thread."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.contract.models import Thread
from threadkit.domain import threads
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Path, error_responses, new_app

app = new_app()


@app.get(
    "/v1/threads/<thread_id>",
    summary="Retrieve a thread",
    operation_id="getThread",
    tags=["Threads"],
    responses={200: {"description": "The thread", "content": {"application/json": {"model": Thread}}}}
    | error_responses(400, 404, 429, 500),
)
def retrieve_thread(thread_id: Annotated[str, Path(description="The thread to read.")]) -> Thread:
    return threads.retrieve_thread(current_tenant(app), thread_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
