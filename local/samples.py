"""The thread and the message that the sample events in ``events/`` address, made to exist in a table.

    .venv/bin/python -m local.samples [--local]

The events name one thread and one message by fixed ids, and carry one API key. With that key in the table
(``python -m local.keytool create --tenant default --name "sample events" --secret <the events' key>``), this
writes, for the key's tenant, the thread with those ids holding that one message: whatever the thread held
before (messages the events created, a delete an event made) is removed first. So every event, ``sam local
invoke``'d in any order, gets the answer of a thread that exists; run it again to start over. Nothing is
copied from one event into another.

The table is the key tool's: ``TABLE_NAME`` with the usual AWS configuration, or ``--local`` for the running
``make serve`` of this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from local import keytool
from local.template import ROOT
from threadkit.contract import ids
from threadkit.storage import keys, schema
from threadkit.storage.client import Caller
from threadkit.storage.faults import StoreError
from threadkit.storage.thread_store import ThreadStore

EVENTS = ROOT / "events"
TEXT = "A message the sample events address."


class SampleError(ValueError):
    """The events do not say what to write (no key, or more than one), or the key is not in the table."""


@dataclass(frozen=True)
class Samples:
    """What the events address: their key's secret, and each thread id with the message ids in it."""

    secret: str
    threads: dict[str, list[str]]


def _secret_of(headers: Mapping[str, Any]) -> str | None:
    portkey = headers.get("x-portkey-api-key")
    if isinstance(portkey, str):
        return portkey
    scheme, _, value = str(headers.get("authorization", "")).partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def read_events(paths: Iterable[Path]) -> Samples:
    """The key, threads and messages of the HTTP events among ``paths``; ids that this API could not have
    minted (the events that show a 400 or 404) are left out."""
    secrets: set[str] = set()
    threads: dict[str, list[str]] = {}
    for path in sorted(paths):
        event = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(event, dict) or "routeKey" not in event:
            continue  # not an API request (the stream record of the purge function)
        secret = _secret_of({str(k).lower(): v for k, v in (event.get("headers") or {}).items()})
        if secret is not None:
            secrets.add(secret)
        parameters = event.get("pathParameters") or {}
        thread_id, message_id = parameters.get("thread_id", ""), parameters.get("message_id", "")
        if not ids.is_well_formed(thread_id, ids.THREAD_PREFIX):
            continue
        messages = threads.setdefault(thread_id, [])
        if ids.is_well_formed(message_id, ids.MESSAGE_PREFIX) and message_id not in messages:
            messages.append(message_id)
    if len(secrets) != 1:
        raise SampleError(f"the events should carry one API key, not {len(secrets)}")
    return Samples(secrets.pop(), threads)


def _clear(table: str, call: Caller, pk: str) -> int:
    """Removes every item of the partition ``pk``; returns how many there were."""
    removed = 0
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ProjectionExpression": "pk, sk",
        "ConsistentRead": True,
    }
    while True:
        page = call("query", **query)
        for item in page.get("Items", []):
            call("delete_item", write=True, TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
            removed += 1
        if "LastEvaluatedKey" not in page:
            return removed
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def write_samples(table: str, call: Caller, samples: Samples, out: TextIO, *, local: bool = False) -> None:
    """Writes each thread of ``samples``, afresh, with its messages, for the tenant of their key."""
    key = keys.KeyStore(table, call).lookup(samples.secret)
    if key is None or not key.active:
        where = " --local" if local else ""
        raise SampleError(
            "the events' API key is not in the table (or is revoked): make it first with\n"
            f"  .venv/bin/python -m local.keytool{where} create --tenant default --name 'sample events' "
            f"--secret {samples.secret}"
        )
    now = int(time.time())
    store = ThreadStore(table, call)
    for thread_id, message_ids in samples.threads.items():
        _clear(table, call, schema.partition_key(key.tenant, thread_id))
        messages = [
            schema.MessageRecord(
                id=message_id,
                thread_id=thread_id,
                created_at=now,
                role="user",
                content=[{"type": "text", "text": {"value": TEXT, "annotations": []}}],
                metadata={"source": "sample"},
                completed_at=now,
            )
            for message_id in message_ids
        ]
        thread = schema.ThreadRecord(id=thread_id, created_at=now, metadata={"source": "sample"})
        store.create_thread(key.tenant, thread, messages)
        listed = ", ".join(message_ids) or "no messages"
        print(f"{thread_id} (tenant {key.tenant}) with {listed}", file=out)


def run(argv: Sequence[str], environ: Mapping[str, str], out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.samples", description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", action="store_true", help="the store of a running `make serve`")
    parser.add_argument("--events", type=Path, default=EVENTS, help=f"the events' folder (default {EVENTS})")
    args = parser.parse_args(argv)
    env = {**environ, **keytool.local_environment(environ)} if args.local else dict(environ)
    try:
        samples = read_events(args.events.glob("*.json"))
        write_samples(*keytool.table_caller(env), samples, out, local=args.local)
    except SampleError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (keys.KeyStoreError, StoreError) as exc:
        print(f"the table could not be reached: {exc}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    return run(sys.argv[1:], os.environ)


if __name__ == "__main__":
    sys.exit(main())
