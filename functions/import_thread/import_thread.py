"""POST /v1/threads/import: a whole thread with its history, as OpenAI returned it, all or nothing."""

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.contract.transfer import ImportThreadRequest, ThreadImported
from threadkit.domain import thread_transfer
from threadkit.edge.auth import current_tenant
from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import Body, IdempotencyKey, error_responses, new_app

app = new_app()


@app.post(
    "/v1/threads/import",
    summary="Import a thread",
    description="One thread and all its messages, in the shapes OpenAI returned them (an export of this API "
    "too). The thread keeps its id, `created_at` and metadata; each message everything but its id: new ids "
    "are minted in `created_at` order and `message_ids` maps each given id to its new one. No route sees the "
    "thread until every message is stored; a failed import leaves nothing visible behind.",
    operation_id="importThread",
    tags=["Threads"],
    responses={
        200: {
            "description": "The imported thread and its message id map",
            "content": {"application/json": {"model": ThreadImported}},
        }
    }
    | error_responses(400, 409, 429, 500),
)
def import_thread(
    request: Annotated[ImportThreadRequest, Body()], idempotency_key: IdempotencyKey = None
) -> ThreadImported:
    return thread_transfer.import_thread(current_tenant(app), request, idempotency_key=idempotency_key)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
