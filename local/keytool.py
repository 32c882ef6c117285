"""The key tool: create, list and revoke API keys in the configured table (local or AWS).

    .venv/bin/python -m local.keytool [--local] create --tenant acme --name "billing app" [--secret S]
    .venv/bin/python -m local.keytool [--local] list
    .venv/bin/python -m local.keytool [--local] revoke key_0123456789ab

The table is ``TABLE_NAME`` (the stack's ``MessagesTableName`` output on AWS). Credentials and region are the
usual AWS ones; ``AWS_ENDPOINT_URL_DYNAMODB`` points elsewhere. ``--local`` means the store of a running
``make serve`` on this machine, whatever its ``PORT``: the server says where its embedded DynamoDB listens
in its data folder (``.data/server.json``, or ``LOCAL_DATA_DIR``). A secret is shown once, at creation; the
table keeps its hash. ``--secret`` makes a key with a secret of your choosing instead of a random one: the key
that the sample events in ``events/`` carry, or one a script already knows.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import urlsplit

from local.datastore import DUMMY_CREDENTIALS, region_of, running_server
from threadkit.storage import keys
from threadkit.storage.client import Caller

TOOL_ATTEMPTS = 3


class NoLocalServer(SystemExit):
    """``--local`` without a running ``make serve`` to find."""


def local_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables that point the tool at a running local server's embedded store."""
    advertised = running_server(environ)
    if advertised is None or not _listening(advertised.get("dynamodb", "")):
        raise NoLocalServer(
            "No running local server found (start one with `make serve`; with LOCAL_DATA_DIR set, set it "
            "here too)."
        )
    return {
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL_DYNAMODB": advertised["dynamodb"],
        "TABLE_NAME": advertised["table"],
    }


def _listening(endpoint: str) -> bool:
    """Whether something accepts connections at ``endpoint`` (a server killed without its stop leaves its
    file behind)."""
    parts = urlsplit(endpoint)
    if not parts.hostname or not parts.port:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=5):
            return True
    except OSError:
        return False


def table_caller(environ: Mapping[str, str]) -> tuple[str, Caller]:
    """The table named by ``TABLE_NAME`` and a way to call DynamoDB on it, with the environment's endpoint,
    region and credentials."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=environ.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=environ.get("AWS_SESSION_TOKEN"),
        region_name=region_of(environ),
    )
    client = session.client("dynamodb", endpoint_url=environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None)
    table = environ.get("TABLE_NAME")
    if not table:
        raise SystemExit("Set TABLE_NAME to the stack's MessagesTableName output (or use --local).")
    return table, Caller(client, max_attempts=TOOL_ATTEMPTS)


def key_store(environ: Mapping[str, str]) -> keys.KeyStore:
    return keys.KeyStore(*table_caller(environ))


def _when(timestamp: int | None) -> str:
    return "-" if timestamp is None else datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def run(argv: Sequence[str], environ: Mapping[str, str], out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.keytool", description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", action="store_true", help="the store of a running `make serve`")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make a key (its secret is printed once)")
    create.add_argument("--tenant", required=True, help="who owns the data this key reaches")
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument(
        "--secret",
        help="the secret to give the key instead of a random one (20 to 256 printable characters, no "
        "spaces), such as the sample events' key; it stays in your shell's history",
    )
    commands.add_parser("list", help="every key, without secrets")
    revoke = commands.add_parser("revoke", help="stop a key from working")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)

    env = {**environ, **local_environment(environ)} if args.local else dict(environ)
    store = key_store(env)
    try:
        if args.command == "create":
            if not keys.valid_tenant(args.tenant):
                print("--tenant: 1 to 64 letters, digits, '.', '_' or '-'", file=sys.stderr)
                return 2
            if args.secret is not None:
                return _create_with(store, args.tenant, args.name, args.secret, out)
            secret, key = store.create(args.tenant, args.name)
            print(f"{key.key_id}  tenant={key.tenant}  name={key.name}", file=out)
            print(f"secret (shown once): {secret}", file=out)
        elif args.command == "list":
            print(f"{'key_id':<17} {'tenant':<20} {'created':<21} {'revoked':<21} name", file=out)
            for key in store.list():
                print(
                    f"{key.key_id:<17} {key.tenant:<20} {_when(key.created_at):<21} "
                    f"{_when(key.revoked_at):<21} {key.name}",
                    file=out,
                )
        else:
            revoked = store.revoke(args.key_id)
            if revoked is None:
                print(f"no key {args.key_id}", file=sys.stderr)
                return 1
            print(f"{revoked.key_id} revoked at {_when(revoked.revoked_at)}", file=out)
    except keys.KeyStoreError as exc:
        print(f"the key table could not be reached: {exc}", file=sys.stderr)
        return 1
    return 0


def _create_with(store: keys.KeyStore, tenant: str, name: str, secret: str, out: TextIO) -> int:
    """Creates a key with a chosen secret; one that is there already, for the same tenant, is left as it is
    (so that a setup script can run twice)."""
    if not keys.is_plausible(secret):
        print("--secret: 20 to 256 printable ASCII characters, without spaces", file=sys.stderr)
        return 2
    existing = store.lookup(secret)
    if existing is not None:
        if existing.tenant != tenant or not existing.active:
            state = "revoked" if not existing.active else f"of tenant {existing.tenant}"
            print(f"a key with this secret exists already ({existing.key_id}, {state})", file=sys.stderr)
            return 1
        print(f"{existing.key_id}  tenant={tenant}  name={existing.name}  (exists already)", file=out)
        return 0
    _, key = store.create(tenant, name, secret=secret)
    print(f"{key.key_id}  tenant={key.tenant}  name={key.name}", file=out)
    return 0


def main() -> int:
    return run(sys.argv[1:], os.environ)


if __name__ == "__main__":
    sys.exit(main())


class KeyConfigError(ValueError):
    """MESSAGES_API_KEYS is not a comma-separated list of tenant:secret pairs."""


def parse_key_pairs(text: str) -> list[tuple[str, str]]:
    """``MESSAGES_API_KEYS``: comma-separated ``tenant:secret`` pairs."""
    pairs = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        tenant, sep, secret = entry.partition(":")
        if not sep or not keys.valid_tenant(tenant) or not keys.is_plausible(secret):
            raise KeyConfigError(
                "MESSAGES_API_KEYS must be comma-separated tenant:secret pairs (tenant: 1 to 64 letters, "
                "digits, '.', '_' or '-'; secret: 20 to 256 printable characters, no spaces)"
            )
        pairs.append((tenant, secret))
    return pairs


def provision(store: keys.KeyStore, environ: Mapping[str, str], *, make_local_key: bool) -> str | None:
    """Loads the keys named in ``MESSAGES_API_KEYS`` (existing ones are kept as they are) and, if asked,
    makes a fresh key for tenant ``local``; returns that key's secret."""
    for tenant, secret in parse_key_pairs(environ.get("MESSAGES_API_KEYS", "")):
        if store.lookup(secret) is None:
            store.create(tenant, "MESSAGES_API_KEYS", secret=secret)
    if not make_local_key:
        return None
    secret, _ = store.create("local", "make serve")
    return secret
