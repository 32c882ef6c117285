"""The local server's two ports, and what to say when one of them is taken.

``make serve`` listens on ``PORT`` (default 3000) and starts its embedded DynamoDB on ``PORT+1`` (or on
``LOCAL_DYNAMODB_PORT`` when set), so that both stay where they were from one run to the next: an
``--env-vars`` file, the AWS CLI or a DynamoDB browser can name the store's endpoint. With ``PORT=0`` both
ports are free ones, picked when the server starts (as the tests run it).

When either port is taken, the server stops before it starts anything else, with one line that names a
``PORT`` whose pair (``PORT`` and ``PORT+1``) was free a moment ago: probed, not guessed.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

STORE_HOST = "127.0.0.1"
"""Where the embedded DynamoDB listens, whatever ``HOST`` is: it is for this machine only."""
SEARCH = 200
"""How many ports past a busy one the hint looks through for a free pair."""
MAX_PORT = 65535


class LocalError(RuntimeError):
    """A start-up failure to tell the user in one line (no traceback)."""


def store_port(api_port: int, environ: Mapping[str, str]) -> int:
    """The embedded DynamoDB's port for a server asked to listen on ``api_port``: ``LOCAL_DYNAMODB_PORT`` if
    set, else ``api_port + 1``; 0 (a free port) when ``api_port`` is 0 or the last port there is."""
    chosen = environ.get("LOCAL_DYNAMODB_PORT")
    if chosen:
        if not chosen.isdigit() or int(chosen) > MAX_PORT:
            raise LocalError(f"LOCAL_DYNAMODB_PORT must be a number from 0 to {MAX_PORT}, not {chosen!r}")
        return int(chosen)
    return api_port + 1 if 0 < api_port < MAX_PORT else 0


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _bound(host: str, port: int) -> socket.socket | None:
    """A socket bound to (host, port) as the servers bind theirs (``SO_REUSEADDR``), or None if taken."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError:
        probe.close()
        return None
    return probe


def is_free(host: str, port: int) -> bool:
    """Whether a server could listen on (host, port) now."""
    probe = _bound(host, port)
    if probe is None:
        return False
    probe.close()
    return True


def free_pair(host: str, after: int) -> int | None:
    """The first port past ``after`` that is free on ``host`` while the next one is free for the store, both
    held at once while probing; None when none of the next ``SEARCH`` ports will do."""
    for candidate in range(max(after, 0) + 1, min(after + SEARCH, MAX_PORT - 1) + 1):
        first = _bound(host, candidate)
        if first is None:
            continue
        try:
            if is_free(STORE_HOST, candidate + 1):
                return candidate
        finally:
            first.close()
    return None


def busy_port_message(host: str, port: int, *, api_port: int, store_from: str | None = None) -> str:
    """The one line for a taken ``port``: the API's own, or (``store_from`` names where it came from:
    ``PORT+1`` or ``LOCAL_DYNAMODB_PORT``) its store's."""
    if store_from == "LOCAL_DYNAMODB_PORT":
        candidates = range(port + 1, min(port + SEARCH, MAX_PORT) + 1)
        free = next((p for p in candidates if is_free(STORE_HOST, p)), None)
        hint = f", e.g. LOCAL_DYNAMODB_PORT={free}" if free else ""
        return (
            f"Port {port} on {STORE_HOST} (LOCAL_DYNAMODB_PORT, for the embedded DynamoDB) is already in "
            f"use: stop what is using it, or choose another{hint}"
        )
    what = f"Port {port} on {host} is already in use"
    if store_from is not None:
        what = f"Port {port} on {STORE_HOST}, for the embedded DynamoDB (PORT+1), is already in use"
    pair = free_pair(host, max(port, api_port))
    if pair is None:
        return f"{what}: stop what is using it, or pick another PORT (the server takes PORT and PORT+1)"
    return (
        f"{what}: stop what is using it, or use a free pair, e.g. PORT={pair} make serve "
        f"(the server takes PORT and PORT+1: {pair} and {pair + 1} are free)"
    )


class PortInUse(LocalError):
    """One of the server's ports is taken; the message names a free pair."""

    def __init__(self, host: str, port: int, *, api_port: int | None = None, store_from: str | None = None):
        api = port if api_port is None else api_port
        super().__init__(busy_port_message(host, port, api_port=api, store_from=store_from))
        self.port = port
