"""What ``make serve`` prints, and where the functions' own output goes.

The console gets the start banner, then one access line per request (``POST /v1/threads 200 12 ms``: method,
path with its query, status, time to answer) and any function crash with its stack (on stderr). The
functions' own output, Powertools' JSON log line of each request and its metrics in CloudWatch's embedded
format, goes to ``functions.log`` in the data folder (``.data/`` unless ``LOCAL_DATA_DIR`` names another),
started afresh at each start; with ``LOCAL_DATA_DIR=memory``, to a temporary file that goes with the server,
as its data does. ``LOCAL_LOGS=console`` puts those lines on the console instead, between the access lines.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from local.datastore import data_file
from local.ports import LocalError

LOG_FILE = "functions.log"
CONSOLE = "console"
LOG_CHOICES = ("file", CONSOLE)


@dataclass(frozen=True)
class LogTarget:
    """Where the functions' output goes: ``path``, or the console (None); a ``temporary`` file is removed when
    the server stops."""

    path: Path | None
    temporary: bool = False

    def describe(self) -> str:
        if self.path is None:
            return "on this console, between the access lines"
        kept = (
            "removed at stop, as the data is"
            if self.temporary
            else "JSON lines, started afresh at each start"
        )
        return f"{shown(self.path)} ({kept}; LOCAL_LOGS=console prints them here)"


def log_target(environ: Mapping[str, str]) -> LogTarget:
    """Where the functions' output goes, from ``LOCAL_LOGS`` and ``LOCAL_DATA_DIR``."""
    choice = (environ.get("LOCAL_LOGS") or "file").lower()
    if choice not in LOG_CHOICES:
        raise LocalError(f"LOCAL_LOGS must be one of {', '.join(LOG_CHOICES)}, not {choice!r}")
    if choice == CONSOLE:
        return LogTarget(None)
    data = data_file(environ)
    if data is None:
        handle, name = tempfile.mkstemp(prefix="messages-api-", suffix=".log")
        os.close(handle)
        return LogTarget(Path(name), temporary=True)
    return LogTarget(data.parent / LOG_FILE)


def shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def access_line(method: str, target: str, status: int, elapsed_ms: float) -> str:
    """One request, as the console shows it."""
    return f"{method} {target} {status} {elapsed_ms:.0f} ms"


def _stream_handlers() -> list[logging.StreamHandler[TextIO]]:
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.Logger.manager.loggerDict)]
    return [h for lg in loggers for h in lg.handlers if isinstance(h, logging.StreamHandler)]


@contextmanager
def functions_output(target: LogTarget) -> Iterator[TextIO]:
    """While it lasts, what is written to ``sys.stdout`` (the functions' log lines and metrics) goes to
    ``target``'s file, emptied first; log handlers already writing to the console are moved there too. Yields
    the console, for the server's own lines. With no file, nothing moves."""
    console = sys.stdout
    path = target.path
    if path is None:
        yield console
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        log = path.open("w", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise LocalError(f"cannot write the functions' logs to {path}: {exc.strerror or exc}") from None
    moved = [handler for handler in _stream_handlers() if handler.stream is console]
    with log:
        for handler in moved:
            handler.setStream(log)
        sys.stdout = log
        try:
            yield console
        finally:
            sys.stdout = console
            for handler in moved:
                handler.setStream(console)
    if target.temporary:
        path.unlink(missing_ok=True)
