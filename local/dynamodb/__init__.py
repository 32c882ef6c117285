"""An embedded, DynamoDB-compatible server for local runs, tests and benchmarks.

It speaks DynamoDB's JSON protocol to boto3 and other SDKs and keeps its data in SQLite, in memory
or in a file. Run it with ``python -m local.dynamodb`` or, inside a process, with
:class:`EmbeddedDynamoDB`.
"""

from .protocol import EmbeddedDynamoDB

__all__ = ["EmbeddedDynamoDB"]
