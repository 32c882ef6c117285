"""``python -m local.dynamodb``: serves until SIGTERM or SIGINT, then closes the database and exits 0.

Once it accepts connections it prints one line, ``listening on http://HOST:PORT``, and nothing else
on stdout; errors go to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .protocol import EmbeddedDynamoDB


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.dynamodb", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one")
    storage = parser.add_mutually_exclusive_group(required=True)
    storage.add_argument(
        "--data", metavar="FILE", help="SQLite file that keeps the data (created if missing)"
    )
    storage.add_argument("--memory", action="store_true", help="keep the data in memory only")
    parser.add_argument("--region", default="us-east-1", help="region shown in table ARNs")
    parser.add_argument("--log-requests", action="store_true", help="one line per request on stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = EmbeddedDynamoDB(
        None if arguments.memory else arguments.data,
        host=arguments.host,
        port=arguments.port,
        region=arguments.region,
        log_requests=arguments.log_requests,
    )
    try:
        server.start()
    except Exception as exc:  # the port is taken, the file cannot be opened ...
        print(f"local.dynamodb: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"listening on {server.endpoint}", flush=True)
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
