"""POST /v1/threads/{thread_id}/messages/{message_id}: replace a message's metadata."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.contract.models import Message, ModifyMessageRequest
from threadkit.domain import messages
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Body, Path, error_responses, new_app

app = new_app()


@app.post(
    "/v1/threads/<thread_id>/messages/<message_id>",
    summary="Modify a message",
    operation_id="modifyMessage",
    tags=["Messages"],
    responses={200: {"description": "The message", "content": {"application/json": {"model": Message}}}}
    | error_responses(400, 404, 429, 500),
)
def modify_message(
    thread_id: Annotated[str, Path(description="The thread the message belongs to.")],
    message_id: Annotated[str, Path(description="The message to modify.")],
    request: Annotated[ModifyMessageRequest, Body()],
) -> Message:
    return messages.modify_message(current_tenant(app), thread_id, message_id, request)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
