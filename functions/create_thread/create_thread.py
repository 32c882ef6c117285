"""POST /v1/threads: create a thread, optionally with its first messages."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.contract.models import CreateThreadRequest, Thread
from threadkit.domain import threads
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Body, IdempotencyKey, error_responses, new_app

app = new_app()


@app.post(
    "/v1/threads",
    summary="Create a thread",
    operation_id="createThread",
    tags=["Threads"],
    responses={200: {"description": "The thread", "content": {"application/json": {"model": Thread}}}}
    | error_responses(400, 409, 429, 500),
)
def create_thread(
    request: Annotated[CreateThreadRequest, Body()], idempotency_key: IdempotencyKey = None
) -> Thread:
    return threads.create_thread(current_tenant(app), request, idempotency_key=idempotency_key)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
