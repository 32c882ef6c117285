"""One cold start, in a fresh interpreter started by ``bench.cold`` (run as a script, never imported).

The clock starts on the first line, before any import; the child then does what a Lambda container does on
its first request and prints one ``BENCH_RESULT {json}`` line with the seconds spent (the interpreter's own
boot is not counted).

    cold_child.py function <module> <layer dirs, os.pathsep-separated> <function dir> <event file>
        imports the handler's module (init), then invokes ``lambda_handler`` with the event: the first
        invocation reads the settings, builds the DynamoDB client, reads the API key and does the operation.
    cold_child.py baseline <table> <key json>
        imports boto3, builds a DynamoDB client and makes one GetItem.
"""

from time import perf_counter

STARTED = perf_counter()

MARKER = "BENCH_RESULT "


class _Context:
    """What Powertools' Logger reads from a Lambda context."""

    function_name = "bench-cold-start"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-cold-start"
    aws_request_id = "00000000-0000-4000-8000-000000000000"


def _function(module_name: str, layers: str, code: str, event_file: str) -> dict[str, float | int]:
    import importlib
    import json
    import os
    import sys

    sys.path[:0] = [code, *layers.split(os.pathsep)]
    module = importlib.import_module(module_name)
    imported = perf_counter()
    with open(event_file, encoding="utf-8") as handle:
        event = json.load(handle)
    answer = module.lambda_handler(event, _Context())
    finished = perf_counter()
    return {
        "total": finished - STARTED,
        "init": imported - STARTED,
        "first_call": finished - imported,
        "status": int(answer["statusCode"]),
    }


def _baseline(table: str, key: str) -> dict[str, float | int]:
    import json

    import boto3

    imported = perf_counter()
    client = boto3.client("dynamodb")
    answer = client.get_item(TableName=table, Key=json.loads(key), ConsistentRead=True)
    finished = perf_counter()
    return {
        "total": finished - STARTED,
        "init": imported - STARTED,
        "first_call": finished - imported,
        "status": int(answer["ResponseMetadata"]["HTTPStatusCode"]),
    }


def main(argv: list[str]) -> None:
    import json

    mode, *args = argv
    if mode == "function":
        result = _function(*args)
    elif mode == "baseline":
        result = _baseline(*args)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
