"""The API's $default route: any method and path no other route takes gets OpenAI's 404 envelope."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.edge.invocation import serve
from threadkit.edge.observability import logger
from threadkit.edge.resolver import new_app

# No routes: the resolver's not-found handler answers every request.
app = new_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
