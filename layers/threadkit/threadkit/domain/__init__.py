"""The domain: what the API does, apart from HTTP and from DynamoDB.

* ``messages``, ``threads``: the operations, taking validated requests and returning wire models;
* ``idempotency``: ``once``, the wrapper that makes a create exactly-once per ``Idempotency-Key``;
* ``purge``: the removal of deleted threads' messages, run by the table's stream;
* ``addressing``: what an id in a path or query means (400, 404 or a key position);
* ``failures``: what a store failure means for the client.

It asks the storage (``threadkit.storage``) for what it needs and never speaks to DynamoDB itself.
"""
