"""The Lambda runtime stand-in: a function's container (one request at a time), its context and its
environment variables from the template."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from local.datastore import Store
from local.gateway import ACCOUNT_ID
from local.routes import FunctionSpec, Handler
from local.template import TABLE, parameter_defaults, resolve, resources, with_conditions


class LambdaContext:
    """What a Python handler gets as ``context`` in Lambda (the fields Powertools and handlers read)."""

    def __init__(self, spec: FunctionSpec, region: str, timeout_s: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = spec.memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{spec.name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


LOCAL_FUNCTION_TIMEOUT = 300.0
"""Seconds a function may take locally (``LOCAL_FUNCTION_TIMEOUT``). Lambda stops a function at its
Timeout; locally nothing stops it, and its context says it has this long: a busy laptop is slow, not
failing."""


class Function:
    """One function's container: its handler, called one request at a time."""

    def __init__(
        self,
        spec: FunctionSpec,
        handler: Handler,
        region: str,
        init_lock: threading.Lock,
        timeout_s: float = LOCAL_FUNCTION_TIMEOUT,
    ) -> None:
        self.spec = spec
        self.handler = handler
        self.region = region
        self.timeout_s = max(float(spec.timeout_s), timeout_s)
        self.lock = threading.Lock()
        self._init_lock = init_lock
        self._warm = False

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.lock:
            if self._warm:
                return self.handler(event, LambdaContext(self.spec, self.region, self.timeout_s))
            # A cold start's first call builds clients and caches that functions may share in this process:
            # one at a time, so that no two build them at once (boto3's session is not thread-safe).
            with self._init_lock:
                result = self.handler(event, LambdaContext(self.spec, self.region, self.timeout_s))
                self._warm = True
                return result


def function_environment(
    tmpl: Mapping[str, Any], specs: Mapping[str, FunctionSpec], store: Store, environ: Mapping[str, str]
) -> dict[str, str]:
    """The functions' environment variables from the template, resolved for this machine.

    A reference to the table is the table in use; a parameter is its default. A variable the user has set
    in the environment wins (``POWERTOOLS_LOG_LEVEL=DEBUG``), except the table, which is the store's.
    """
    names = dict(parameter_defaults(tmpl))
    names["AWS::Region"] = store.region
    for name in tmpl.get("Resources", {}):
        names.setdefault(name, name)
    arn = f"arn:aws:dynamodb:{store.region}:{ACCOUNT_ID}:table/{store.table_name}"
    for name in resources(TABLE, tmpl):
        names.update({name: store.table_name, f"{name}.Arn": arn})
    table_refs = set(resources(TABLE, tmpl))
    names = with_conditions(tmpl, names)
    merged: dict[str, str] = {}
    for spec in specs.values():
        for key, value in spec.environment.items():
            if key in merged:
                continue
            refers_to_table = isinstance(value, Mapping) and value.get("Ref") in table_refs
            resolved = resolve(value, names)
            merged[key] = resolved if refers_to_table else environ.get(key, resolved)
    return merged
