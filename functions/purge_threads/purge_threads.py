"""The table's stream -> purge of deleted threads (see threadkit.domain.purge). Not an HTTP function.

The event source mapping's filter passes only records whose new image is a thread item marked deleted, and
removals of import markers by the table's TTL. Each deleted thread's record is one run of that thread's purge;
a removed marker's turns what its dead import wrote into a deleted thread (whose purge then follows). A failed
record is reported alone, and the stream retries it.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from threadkit.domain import purge
from threadkit.edge.observability import logger

# Failed records are reported, never raised: the stream retries exactly those, with bisecting.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def _purge(record: DynamoDBRecord, context: LambdaContext) -> None:
    if record.raw_event.get("eventName") == "REMOVE":
        keys = record.dynamodb.keys if record.dynamodb else {}
        abandoned = purge.abandon_expired_import(dict(keys or {}))
        logger.info("expired import", extra={"thread_id": abandoned, "event_id": record.event_id})
        return
    image = record.dynamodb.new_image if record.dynamodb else {}
    outcome = purge.purge_deleted(dict(image or {}), time_left_ms=context.get_remaining_time_in_millis)
    if outcome is None:
        logger.info("nothing to purge", extra={"event_id": record.event_id})
        return
    logger.info(
        "purge run",
        extra={"thread_id": outcome.thread_id, "deleted": outcome.deleted, "finished": outcome.finished},
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event,
        record_handler=lambda record: _purge(record, context),
        processor=processor,
        context=context,
    )
