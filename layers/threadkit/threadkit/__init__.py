"""The code every function of the Messages API shares, in four parts, each using only those below it:

    functions/<operation>   a route and a decorated lambda_handler; nothing else
        |
    threadkit.edge          the resolver, the event, the API key, the request's log line and metrics:
        |                   what a function needs to answer API Gateway
    threadkit.domain        what the API does (messages, threads, exactly-once creates, the purge) and what a
        |                   store failure means for the client
    threadkit.storage       the table: keys and items, the client and its time budget, the stores, API
        |                   keys. The only part that speaks to DynamoDB, the only one that imports boto3
    threadkit.contract      the wire models, the error catalogue, the ids, the answer-size limits: the
                            vocabulary every part above uses

The rule is a check, not a convention: ruff's banned-API rule (``ruff.toml`` in each part's folder and in
``functions/``) fails ``make lint`` when a module imports from a part above its own, or boto3 outside storage.
"""
