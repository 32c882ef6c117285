"""Processes the bench starts: every wait is bounded, and every process is ended, by its own id, on any exit
(Ctrl-C included)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

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
