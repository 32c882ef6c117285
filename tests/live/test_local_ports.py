"""The local server's two ports, the API's (PORT) and its embedded DynamoDB's (PORT+1), and the busy-port
hint, which names a pair that is free (probed on loopback, not guessed)."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from local import ports
from local.ports import PortInUse
from local.serve import LocalServer
from tests.support.live import call, wait_until_ready
from threadkit import storage
from threadkit.edge import auth
from threadkit.storage import settings

HOST = "127.0.0.1"
ATTEMPTS = 50


def _hold(port: int) -> socket.socket | None:
    """A listening socket on ``port``, or None when the port is taken."""
    holder = socket.socket()
    try:
        holder.bind((HOST, port))
        holder.listen()
    except OSError:
        holder.close()
        return None
    return holder


@contextmanager
def held(*offsets: int, free: tuple[int, ...] = ()) -> Iterator[int]:
    """A base port B with B+offset held (listening) for each of ``offsets`` and B+offset free for each of
    ``free`` when the block starts; another base is tried while another process holds one of them."""
    for _ in range(ATTEMPTS):
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            base = probe.getsockname()[1]
        if base + max(offsets + free) > 65535:
            continue
        with ExitStack() as stack:
            holders = [_hold(base + offset) for offset in offsets]
            for holder in holders:
                if holder is not None:
                    stack.callback(holder.close)
            if all(h is not None for h in holders) and all(ports.is_free(HOST, base + o) for o in free):
                yield base
                return
    pytest.fail("no ports to hold were found on loopback")


ENV = {"AWS_ENDPOINT_URL_DYNAMODB": None, "LOCAL_DYNAMODB_PORT": None, "TABLE_NAME": "messages-ports"}


def _apply(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _forget() -> None:
    """What the functions of this process cached from the environment is rebuilt from the current one."""
    storage.reset()
    settings.get_settings.cache_clear()
    auth.key_cache().clear()


@contextmanager
def server_on(port: int) -> Iterator[LocalServer]:
    """A local server asked for ``port`` (in memory, ``ENV`` applied while it runs)."""
    saved = {key: os.environ.get(key) for key in ENV}
    _apply(ENV)
    _forget()
    server = LocalServer(HOST, port)
    try:
        yield server.start()
    finally:
        server.stop()
        _apply(saved)
        _forget()


def suggested(message: str) -> int:
    found = re.search(r"PORT=(\d+) make serve", message)
    assert found, message
    return int(found.group(1))


def test_the_store_takes_port_plus_one_unless_told_otherwise() -> None:
    assert ports.store_port(3000, {}) == 3001
    assert ports.store_port(3000, {"LOCAL_DYNAMODB_PORT": "8000"}) == 8000
    assert ports.store_port(0, {}) == 0  # PORT=0: a free port for each
    assert ports.store_port(65535, {}) == 0
    with pytest.raises(ports.LocalError, match="LOCAL_DYNAMODB_PORT"):
        ports.store_port(3000, {"LOCAL_DYNAMODB_PORT": "x"})


def test_the_free_pair_skips_a_port_whose_next_one_is_taken() -> None:
    # B is taken, B+1 is free but B+2 is taken: B+1 is no pair (its store port would be B+2).
    with held(0, 2, free=(1, 3, 4)) as base:
        pair = ports.free_pair(HOST, base)
        assert pair is not None
        assert pair >= base + 3
        assert ports.is_free(HOST, pair)
        assert ports.is_free(HOST, pair + 1)


def test_a_busy_api_port_names_a_free_pair() -> None:
    with held(0, 2, free=(1, 3, 4)) as base:
        message = str(PortInUse(HOST, base))
        assert message.startswith(f"Port {base} on {HOST} is already in use")
        pair = suggested(message)
        assert pair not in (base, base + 1, base + 2)
        assert ports.is_free(HOST, pair)
        assert ports.is_free(HOST, pair + 1)
        assert f"{pair} and {pair + 1} are free" in message


def test_a_server_on_a_port_keeps_its_store_on_the_next_one() -> None:
    with held(free=(0, 1)) as base:
        pass
    with server_on(base) as running:
        wait_until_ready(running.base_url)
        assert running.port == base
        assert running.store is not None
        assert running.store.endpoint == f"http://{HOST}:{base + 1}"
        assert call("GET", f"{running.base_url}/openapi.json").status == 200


def test_a_busy_store_port_stops_the_server_before_it_starts_and_names_a_free_pair() -> None:
    with held(1, free=(0, 2, 3)) as base:
        with pytest.raises(PortInUse) as caught, server_on(base):
            pass
        message = str(caught.value)
        assert message.startswith(f"Port {base + 1} on {HOST}, for the embedded DynamoDB (PORT+1)")
        pair = suggested(message)
        assert pair > base + 1
        assert ports.is_free(HOST, pair)
        assert ports.is_free(HOST, pair + 1)
        assert ports.is_free(HOST, base)  # the API's port was let go
