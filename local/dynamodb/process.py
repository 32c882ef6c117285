"""The embedded DynamoDB in a child process: how ``make serve``, the tests and the bench start and stop it.

The child (``python -m local.dynamodb``) prints one line, ``listening on http://HOST:PORT``, once it accepts
connections; reading that line is the wait, with a bound generous enough for a loaded machine, and a word to
the user while it lasts. A child process keeps the store's work off the server's interpreter (two cores are
two cores), and its data in one SQLite file that outlives it, or in memory.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0
"""Seconds to wait for the child to listen: it takes well under a second on an idle machine."""
NOTICE_AFTER = 3.0


class EmbeddedStoreError(RuntimeError):
    """The embedded DynamoDB did not start; the message says why, for a person."""


class EmbeddedProcess:
    """``python -m local.dynamodb`` on 127.0.0.1: on ``port`` (0: a free one), keeping its data in ``data``
    (a SQLite file, created with its folder if missing) or in memory (None). ``start`` returns once it
    listens; ``endpoint`` is its URL."""

    def __init__(
        self,
        data: Path | None,
        *,
        port: int = 0,
        timeout: float = START_TIMEOUT,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.data = data
        self.port = port
        self.timeout = timeout
        self.notice = notice
        self.endpoint = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child; closed by stop()

    def start(self) -> EmbeddedProcess:
        storage = ["--memory"] if self.data is None else ["--data", str(self.data)]
        command = [sys.executable, "-m", "local.dynamodb", "--host", "127.0.0.1", "--port", str(self.port)]
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, *storage],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            cwd=ROOT,  # python -m finds the local package from here
        )
        try:
            self.endpoint = self._wait_for_line()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_line(self) -> str:
        process = self._process
        if process is None or process.stdout is None:
            raise EmbeddedStoreError("the embedded DynamoDB was not started")
        started = time.monotonic()
        told = False
        line = b""
        while not line.endswith(b"\n"):
            waited = time.monotonic() - started
            if waited > self.timeout:
                raise EmbeddedStoreError(
                    f"the embedded DynamoDB did not start listening within {self.timeout:.0f} s"
                )
            if not told and waited > NOTICE_AFTER and self.notice is not None:
                self.notice("waiting for the embedded DynamoDB (a child process) to start listening ...")
                told = True
            ready, _, _ = select.select([process.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(process.stdout.fileno(), 256)
                if not chunk:
                    raise EmbeddedStoreError(f"the embedded DynamoDB did not start: {self._stderr()}")
                line += chunk
        text = line.decode(errors="replace").strip()
        if not text.startswith("listening on "):
            raise EmbeddedStoreError(f"the embedded DynamoDB said {text!r} instead of where it listens")
        return text.removeprefix("listening on ")

    def _stderr(self) -> str:
        self._errors.seek(0)
        return self._errors.read().decode(errors="replace").strip()[-800:] or "(no message)"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Asks the child to stop (it closes its database), and waits for it; kills it if it hangs."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._errors.close()

    def __enter__(self) -> EmbeddedProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
