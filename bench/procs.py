"""Processes the bench starts: every wait is bounded, and every process is ended, by its own id, on any exit
(Ctrl-C included)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import IO

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


def _end_group(process: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """Ends ``process`` and whatever it started (its own process group), politely first."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_bounded(
    command: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> Finished:
    """Runs ``command`` in its own process group and waits at most ``timeout`` seconds for it; on a timeout,
    Ctrl-C or any error the whole group is ended before this returns or raises."""
    process = subprocess.Popen(  # noqa: S603 (the bench's own commands, no shell)
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end_group(process)
        raise TimeoutError(f"{command[0]} did not finish within {timeout:.0f} s") from None
    finally:
        _end_group(process)
    return Finished(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class MotoServer:
    """``python -m moto.server`` on a free loopback port, for as long as the ``with`` block lasts."""

    def __init__(self, env: dict[str, str], *, start_timeout: float = 30.0) -> None:
        self._env = env
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def __enter__(self) -> MotoServer:
        self.port = free_port()
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(  # noqa: S603 (no shell, fixed command)
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self._env,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._start_timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1.0):  # noqa: S310 (loopback)
                    return
            except urllib.error.HTTPError:
                return  # it answers: it is up
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto server not ready within {self._start_timeout:.0f} s")
            time.sleep(0.1)

    def log_tail(self, size: int = 2000) -> str:
        if self._log is None:
            return ""
        self._log.seek(0, os.SEEK_END)
        end = self._log.tell()
        self._log.seek(max(0, end - size))
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self._process is not None:
            _end_group(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
