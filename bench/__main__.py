"""``.venv/bin/python -m bench`` (``make bench``): the four measurements, each next to a baseline measured in
the same run, as a table on stdout and as JSON in ``bench/results.json``.

1. cold start of each HTTP function as ``sam build`` built it, fresh processes against the embedded
   DynamoDB (``bench.cold``);
2. warm call time, in-process, DynamoDB stubbed (``bench.warm``);
3. DynamoDB requests and items per call, threads up to 100,000 messages (``bench.work``);
4. deployed size per function with the layer (``bench.size``).

Progress goes to stderr. Exit status: 0 when every part ran (a missed target is a result, shown in the
table), 1 when a part could not run, 130 on Ctrl-C. Every process the bench starts is ended on any exit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

import boto3
from botocore.config import Config

from bench import cold, env, fixtures, report, size, warm, work
from bench.paths import RESULTS
from local.dynamodb.process import EmbeddedProcess

PARTS = ("cold", "warm", "work", "size")


class Outcome(Protocol):
    def as_json(self) -> dict[str, object]: ...


OutcomeT = TypeVar("OutcomeT", bound=Outcome)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Cold start, warm call time, DynamoDB work per call and package size of the functions.",
    )
    parser.add_argument("--runs", type=_positive, default=10, help="cold starts per function (default 10)")
    parser.add_argument(
        "--calls", type=_positive, default=1000, help="warm calls per scenario (default 1000)"
    )
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part (repeatable)")
    parser.add_argument("--no-build", action="store_true", help="never run sam build for the size part")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f} s] {message}", file=sys.stderr, flush=True)


def _cold(runs: int, progress: Progress) -> cold.ColdResults:
    progress("cold start: starting the embedded DynamoDB")
    with EmbeddedProcess(None) as store:
        client = boto3.client(
            "dynamodb",
            endpoint_url=store.endpoint,
            region_name=env.REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - the embedded store checks no credentials
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2}),
        )
        fixtures.create_table(client)
        fixtures.store_key(client)
        return cold.measure(client, store.endpoint, runs, progress)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _meta() -> dict[str, str]:
    packages = ("boto3", "moto", "aws-lambda-powertools", "pydantic")
    return {
        "load_at_start": _load(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs",
        "packages": ", ".join(f"{name} {version(name)}" for name in packages),
    }


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    parts = args.only or list(PARTS)
    # Ctrl-C and SIGTERM end the run cleanly, even when started in the background (where SIGINT arrives
    # ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    progress = Progress()
    meta = _meta()
    results: dict[str, Any] = {"meta": meta}
    errors: dict[str, str] = {}
    lines: list[str] = []

    def run(part: str, measure: Callable[[], OutcomeT], render: Callable[[OutcomeT], list[str]]) -> None:
        if part not in parts:
            return
        try:
            outcome = measure()
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            errors[part] = f"{type(exc).__name__}: {exc}"
            lines.extend(["", f"{part}: could not run: {errors[part]}"])
            return
        results[part] = outcome.as_json()
        lines.extend(render(outcome))

    try:
        run("cold", lambda: _cold(args.runs, progress), report.cold)
        with env.stdout_discarded():
            run("warm", lambda: warm.measure(args.calls, progress), report.warm)
            run("work", lambda: work.measure(progress), report.work)
        run("size", lambda: size.measure(not args.no_build, progress), report.size)
    except KeyboardInterrupt:
        print("\ninterrupted: every process the bench started has been ended", file=sys.stderr)
        return 130
    total = time.monotonic() - progress.started
    meta["load_at_end"] = _load()
    results["errors"] = errors
    results["total_seconds"] = total
    heading = f"Messages API bench, {meta['started']}: Python {meta['python']}, {meta['machine']}"
    print(heading)
    print("=" * len(heading))
    print(meta["packages"])
    print(
        f"load average (1, 5, 15 min): {meta['load_at_start']} at the start, {meta['load_at_end']} at the "
        "end; above the CPU count, other processes inflate the timings"
    )
    print("\n".join(lines))
    print(f"\nTotal run time: {total:.1f} s")
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"Results: {args.json}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
