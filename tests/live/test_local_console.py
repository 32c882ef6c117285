"""What ``make serve`` prints: the banner, then one short access line per request; the functions' JSON log
lines and metrics go to a file in the data folder, or to the console with LOCAL_LOGS=console. The command
runs as a subprocess, on free ports, with its data in a temporary folder."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from local.console import LogTarget, functions_output, log_target
from local.template import ROOT
from tests.support.live import call, wait_until_ready

START_TIMEOUT = 120.0  # bounds for a busy machine; every wait polls
LINE_TIMEOUT = 60.0
ACCESS_LINE = re.compile(r"(GET|POST|DELETE) (/\S*) (\d{3}) (\d+) ms")


@dataclass
class Command:
    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)
    base_url: str = ""
    key: str = ""
    banner: list[str] = field(default_factory=list)

    def next_line(self) -> str:
        line = self.lines.get(timeout=LINE_TIMEOUT)
        self.seen.append(line)
        return line

    def until(self, text: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if text in self.next_line():
                return
        raise AssertionError(f"{text!r} never came; seen: {self.seen}")


@contextmanager
def serve(data: Path, **extra: str) -> Iterator[Command]:
    """``python -m local.serve`` on free ports, its data in ``data``; yields once it has printed its banner
    and answers."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL_DYNAMODB", "TABLE_NAME")}
    env.update({"PYTHONUNBUFFERED": "1", "PORT": "0", "LOCAL_DATA_DIR": str(data), **extra})
    env.pop("LOCAL_DYNAMODB_PORT", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    command = Command(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            command.lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        first = command.next_line()
        while " at http://" not in first:
            first = command.next_line()
        command.base_url = first.split(" at ", 1)[1].strip()
        command.until("Ctrl-C stops the server.")
        command.key = re.search(r"API key: (\S+)", "\n".join(command.seen)).group(1)  # type: ignore[union-attr]
        banner = len(command.seen)
        wait_until_ready(command.base_url)
        command.until("GET /v1/openapi.json 200")  # the readiness probe's own line
        command.banner = command.seen[:banner]
        command.seen.clear()
        yield command
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=START_TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)


def _requests(command: Command) -> list[str]:
    """Two requests, one of each outcome; returns the access lines they should print."""
    created = call("POST", f"{command.base_url}/threads", {}, api_key=command.key)
    assert created.status == 200, created.body
    assert call("GET", f"{command.base_url}/threads/abc?limit=1", api_key=command.key).status == 400
    return ["POST /v1/threads 200", "GET /v1/threads/abc?limit=1 400"]


def _access_lines(command: Command, count: int) -> list[str]:
    found: list[str] = []
    while len(found) < count:
        line = command.next_line()
        if ACCESS_LINE.fullmatch(line):
            found.append(line.rsplit(" ", 2)[0])
    return found


def _json_lines(lines: list[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_each_request_is_one_short_line_and_the_json_logs_go_to_the_data_folder(tmp_path: Path) -> None:
    with serve(tmp_path) as command:
        expected = _requests(command)
        assert _access_lines(command, 2) == expected
        console = list(command.seen)
        # Nothing else on the console for these requests: no log line, no metrics blob.
        assert [line for line in console if not ACCESS_LINE.fullmatch(line)] == []
        logged = _json_lines((tmp_path / "functions.log").read_text().splitlines())
    assert f"logs:    {tmp_path / 'functions.log'}" in "\n".join(command.banner)
    requests = [line for line in logged if line.get("message") == "request"]
    assert [(r["operation"], r["status"]) for r in requests] == [
        ("POST /v1/threads", 200),
        ("GET /v1/threads/{thread_id}", 400),
    ]
    assert len([line for line in logged if "_aws" in line]) == 2  # the metrics, in embedded format
    assert command.key not in (tmp_path / "functions.log").read_text()


def test_local_logs_console_shows_the_json_lines_between_the_access_lines(tmp_path: Path) -> None:
    with serve(tmp_path, LOCAL_LOGS="console") as command:
        expected = _requests(command)
        assert _access_lines(command, 2) == expected
        console = list(command.seen)
    assert "logs:    on this console" in "\n".join(command.banner)
    logged = _json_lines(console)
    assert [line["status"] for line in logged if line.get("message") == "request"] == [200, 400]
    assert not (tmp_path / "functions.log").exists()


def test_log_targets(tmp_path: Path) -> None:
    assert log_target({"LOCAL_DATA_DIR": str(tmp_path)}) == LogTarget(tmp_path / "functions.log")
    assert log_target({"LOCAL_DATA_DIR": str(tmp_path), "LOCAL_LOGS": "console"}) == LogTarget(None)
    in_memory = log_target({"LOCAL_DATA_DIR": "memory"})
    assert in_memory.temporary
    assert in_memory.path is not None
    assert not in_memory.path.is_relative_to(ROOT)  # nothing written in the project
    with functions_output(in_memory):
        pass
    assert not in_memory.path.exists()
    with pytest.raises(RuntimeError, match="LOCAL_LOGS must be one of file, console"):
        log_target({"LOCAL_LOGS": "loud"})
