"""POST /v1/threads/{thread_id}/messages: create a message in a thread."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.contract.models import CreateMessageRequest, Message
from threadkit.domain import messages
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Body, IdempotencyKey, Path, error_responses, new_app

app = new_app()


@app.post(
    "/v1/threads/<thread_id>/messages",
    summary="Create a message",
    operation_id="createMessage",
    tags=["Messages"],
    responses={200: {"description": "The message", "content": {"application/json": {"model": Message}}}}
    | error_responses(400, 404, 409, 429, 500),
)
def create_message(
    thread_id: Annotated[str, Path(description="The thread to add the message to.")],
    request: Annotated[CreateMessageRequest, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Message:
    return messages.create_message(current_tenant(app), thread_id, request, idempotency_key=idempotency_key)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
