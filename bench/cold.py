"""Part 1: the cold start of each HTTP function as deployed, against its baseline, in fresh processes.

Each function's child imports its handler module and answers its sample event against the embedded DynamoDB
(see ``cold_child.py``); the baseline child imports boto3, builds a client and makes one GetItem against the
same store. Rounds alternate: the baseline, then every function, once each, ``runs`` times after one warm-up
round (that fills the OS's file cache and checks every answer); the figure is the median.

Every function runs from a copy of ``.aws-sam/build`` as ``sam build`` made it, writing no bytecode, as on
Lambda (see ``bench.deployment``). One more row, "before", runs create_message with the same layer stripped
of its bytecode: what the layer cost before it was compiled at build time.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench import deployment, env, fixtures, procs
from bench.paths import BENCH, HTTP_FUNCTIONS, event_path
from threadkit.storage import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CHILD = BENCH / "cold_child.py"
MARKER = "BENCH_RESULT "
CHILD_TIMEOUT = 60.0
TARGET_RATIO = 1.5  # create message
OTHER_TARGET_RATIO = 1.6  # every other function


def target_ratio(name: str) -> float:
    """The most a function's cold start may take, as a multiple of the baseline's."""
    return TARGET_RATIO if name.startswith("create_message") else OTHER_TARGET_RATIO


BASELINE = "baseline"
BEFORE = "create_message, layer without bytecode (before)"
# Events that change what the next events need: the bench puts the thread and its messages back after them.
_DESTRUCTIVE = frozenset({"delete_thread", "delete_message"})


class ChildFailed(RuntimeError):
    pass


@dataclass
class ColdStart:
    name: str
    total_ms: list[float] = field(default_factory=list)
    init_ms: list[float] = field(default_factory=list)
    first_call_ms: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.total_ms)

    @property
    def median_init_ms(self) -> float:
        return statistics.median(self.init_ms)

    @property
    def median_first_call_ms(self) -> float:
        return statistics.median(self.first_call_ms)

    def as_json(self) -> dict[str, object]:
        summary: dict[str, object] = {"name": self.name, "error": self.error, "runs_ms": self.total_ms}
        if self.total_ms:
            summary |= {
                "median_ms": self.median_ms,
                "median_init_ms": self.median_init_ms,
                "median_first_call_ms": self.median_first_call_ms,
                "min_ms": min(self.total_ms),
                "max_ms": max(self.total_ms),
            }
        return summary


@dataclass
class ColdResults:
    runs: int
    baseline: ColdStart
    functions: list[ColdStart]
    before: ColdStart
    stand_ins: list[str]

    def as_json(self) -> dict[str, object]:
        rows = []
        for function in [*self.functions, self.before]:
            row = function.as_json()
            if function.total_ms and self.baseline.total_ms:
                ratio = function.median_ms / self.baseline.median_ms
                row |= {
                    "ratio": ratio,
                    "target": target_ratio(function.name),
                    "pass": ratio <= target_ratio(function.name),
                }
            rows.append(row)
        return {
            "runs": self.runs,
            "baseline": self.baseline.as_json(),
            "functions": rows,
            "native_stand_ins": self.stand_ins,
        }


def _child(args: list[str], environment: dict[str, str]) -> dict[str, float]:
    finished = procs.run_bounded([sys.executable, str(CHILD), *args], timeout=CHILD_TIMEOUT, env=environment)
    if finished.returncode != 0:
        raise ChildFailed(f"exit {finished.returncode}: {finished.stderr.strip()[-600:]}")
    for line in reversed(finished.stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, float] = json.loads(line[len(MARKER) :])
            return result
    raise ChildFailed(f"no result line: {finished.stdout.strip()[-600:]}")


def _arguments(name: str, deployed: deployment.Deployment) -> list[str]:
    if name == BASELINE:
        key = {"pk": {"S": keys.KEYS_PK}, "sk": {"S": keys.digest(fixtures.api_key())}}
        return ["baseline", fixtures.TABLE_NAME, json.dumps(key)]
    layer = deployed.layer
    if name == BEFORE:
        name, layer = "create_message", deployed.layer_before
    return ["function", name, str(layer), str(deployed.code(name)), str(event_path(name))]


def measure(
    client: DynamoDBClient,
    endpoint: str,
    runs: int,
    progress: Callable[[str], None],
) -> ColdResults:
    """``client`` reaches the embedded DynamoDB at ``endpoint``, whose table holds the API key already."""
    environment = env.child_environment(endpoint)
    message_ids = [fixtures.event_message_id(), *(fixtures.new_message_id() for _ in range(2))]
    fixtures.reset_event_thread(client, message_ids)
    starts = {name: ColdStart(name) for name in (BASELINE, *HTTP_FUNCTIONS, BEFORE)}
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as scratch:
        deployed = deployment.prepare(Path(scratch))
        for round_number in range(runs + 1):
            stage = "warm-up round" if round_number == 0 else f"round {round_number}/{runs}"
            progress(f"cold start: {stage}")
            for name, start in starts.items():
                if start.error is None:
                    _run(start, _arguments(name, deployed), environment, keep=round_number > 0)
                if name in _DESTRUCTIVE:
                    fixtures.reset_event_thread(client, message_ids)
    return ColdResults(
        runs=runs,
        baseline=starts[BASELINE],
        functions=[starts[name] for name in HTTP_FUNCTIONS],
        before=starts[BEFORE],
        stand_ins=deployed.stand_ins,
    )


def _run(start: ColdStart, arguments: list[str], environment: dict[str, str], *, keep: bool) -> None:
    """One cold start; its figures are kept unless it is a warm-up; a failure ends that row."""
    try:
        result = _child(arguments, environment)
    except (ChildFailed, TimeoutError) as exc:
        start.error = str(exc)
        return
    expected = fixtures.expected_status(start.name)
    if result["status"] != expected:
        start.error = f"answered {result['status']:.0f}, expected {expected}"
    elif keep:
        start.total_ms.append(result["total"] * 1000)
        start.init_ms.append(result["init"] * 1000)
        start.first_call_ms.append(result["first_call"] * 1000)
