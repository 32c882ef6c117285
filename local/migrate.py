"""threads-api: move whole threads into this API, out of it, or from another Assistants API; manage its keys.

    threads-api import FILE_OR_DIR...           export documents (a folder: its *.json files)
    threads-api export THREAD_ID... --out DIR   one DIR/<thread_id>.json per thread
    threads-api copy --from-url URL --from-key KEY THREAD_ID...   (or --threads-file FILE)
    threads-api keys [--local] create|list|revoke ...              the key tool (local/keytool.py)

The API is ``--base-url`` (else MESSAGES_API_BASE_URL, else OPENAI_BASE_URL, else http://127.0.0.1:3000/v1)
with ``--api-key`` (else MESSAGES_API_KEY, else OPENAI_API_KEY). Each thread is imported with one request
carrying an Idempotency-Key made from its id and content, or, when that request would be over
``--max-request-bytes``, in parts (local/import_parts.py); a state file records what is done, so running the
same command again after an interruption skips those threads. The exit status is 0 when every thread
succeeded; otherwise each failed thread is named on stderr with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from local import thread_docs
from local.apiclient import DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT, ApiError, Endpoint
from local.import_parts import import_in_parts
from local.migration_state import STATE_NAME, Progress, State, StateError, write_atomically
from local.thread_docs import DocumentError, ImportRequest

DEFAULT_BASE_URL = "http://127.0.0.1:3000/v1"
PROG = "threads-api"
INTERRUPTED = 130


class UsageError(Exception):
    """A command line that cannot run (exit status 2)."""


@dataclass
class Session:
    """One command's run: the state file, the progress display and each thread's outcome."""

    state: State
    progress: Progress
    err: TextIO
    sleep: Callable[[float], None]
    attempts: int
    timeout: float
    # (thread id or path, the file it came from or "", done|skipped|failed, detail)
    outcomes: list[tuple[str, str, str, str]] = field(default_factory=list)

    def endpoint(self, base_url: str, api_key: str) -> Endpoint:
        def on_retry(message: str) -> None:
            self.progress.note(f"{self.progress.current or base_url}: {message}")

        try:
            return Endpoint(
                base_url, api_key, self.attempts, self.timeout, sleep=self.sleep, on_retry=on_retry
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from exc

    def finish(self, name: str, status: str, detail: str, where: str = "") -> None:
        self.outcomes.append((name, where, status, detail))
        self.progress.end(_label(name, where), f"failed: {detail}" if status == "failed" else detail)


def _label(name: str, where: str) -> str:
    return f"{name} ({where})" if where else name


# --- importing one thread -----------------------------------------------------------------------------------


def import_one(session: Session, target: Endpoint, scope: str, request: ImportRequest) -> tuple[str, str]:
    """Imports one thread unless the state file says it is done; returns (status, detail)."""
    state, thread_id, key = session.state, request.thread_id, request.idempotency_key
    entry = state.entry(scope, thread_id)
    if entry is not None and entry.get("status") == "done":
        return "skipped", "done in an earlier run (state file)"
    if request.parts:
        return import_in_parts(state, session.progress, target, scope, request)
    sent_before = entry is not None and entry.get("status") == "sent" and entry.get("idempotency_key") == key
    state.record(scope, thread_id, status="sent", idempotency_key=key, sent_at=int(time.time()))
    try:
        answer = target.post(request.body, "threads", "import", idempotency_key=key)
    except ApiError as exc:
        if exc.status == 409 and exc.code == "thread_exists":
            if sent_before or exc.uncertain_before:
                # This exact import was sent before and may have landed (in an earlier run, or an attempt of
                # this one whose answer was lost).
                state.record(
                    scope,
                    thread_id,
                    status="done",
                    idempotency_key=key,
                    new_thread_id=thread_id,
                    messages=request.message_count,
                    message_ids=None,
                    note="imported by an earlier attempt whose answer was lost: no id map",
                )
                session.progress.add_messages(request.message_count)
                return "done", "imported by an earlier attempt (the id map was not answered again)"
            state.record(scope, thread_id, status="failed", reason=str(exc))
            return "failed", f"already exists on the target ({exc.message})"
        if 400 <= exc.status < 500 and exc.status not in (408, 409, 429):
            state.record(scope, thread_id, status="failed", reason=str(exc))  # refused: nothing was written
        return "failed", str(exc)
    new_thread = answer.get("thread") if isinstance(answer, dict) else None
    message_ids = answer.get("message_ids") if isinstance(answer, dict) else None
    if not isinstance(new_thread, dict) or not isinstance(message_ids, dict):
        return "failed", "the import answer has no thread and message_ids: is this the threads API?"
    new_id = new_thread.get("id", thread_id)
    state.record(
        scope,
        thread_id,
        status="done",
        idempotency_key=key,
        new_thread_id=new_id,
        messages=request.message_count,
        message_ids=message_ids,
    )
    session.progress.add_messages(request.message_count)
    as_id = f" as {new_id}" if new_id != thread_id else ""
    return "done", f"imported {request.message_count:,} messages{as_id}"


# --- the commands -------------------------------------------------------------------------------------------


def _import(args: argparse.Namespace, session: Session) -> None:
    files, missing = args.files, args.missing
    target = session.endpoint(args.base_url, args.api_key)
    scope = State.scope("import", args.base_url, args.api_key)
    for name in missing:
        session.finish(name, "failed", "no such file or folder")
    for path in files:
        session.progress.begin(str(path))
        try:
            request = thread_docs.load(path, args.max_request_bytes)
        except DocumentError as exc:
            thread_id = thread_docs.thread_id_in(path)
            session.finish(thread_id or str(path), "failed", str(exc), str(path) if thread_id else "")
            continue
        session.progress.begin(request.thread_id)
        status, detail = import_one(session, target, scope, request)
        session.finish(request.thread_id, status, detail, str(path))


def _export(args: argparse.Namespace, session: Session) -> None:
    source = session.endpoint(args.base_url, args.api_key)
    scope = State.scope("export", args.base_url, args.api_key)
    out_dir: Path = args.out
    for thread_id in args.thread_ids:
        destination = out_dir / f"{thread_id}.json"
        if not thread_docs.is_file_safe_id(thread_id):
            session.finish(thread_id, "failed", "not a thread id (letters, digits, '_' and '-' only)")
            continue
        if session.state.is_done(scope, thread_id) and destination.is_file():
            session.finish(thread_id, "skipped", f"exported in an earlier run ({destination})")
            continue
        session.progress.begin(thread_id)
        try:
            document = thread_docs.export_thread(
                source, thread_id, args.page_size, on_page=session.progress.add_messages
            )
        except (ApiError, DocumentError) as exc:
            session.finish(thread_id, "failed", str(exc))
            continue
        write_atomically(destination, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
        count = len(document["messages"])
        session.state.record(scope, thread_id, status="done", file=str(destination), messages=count)
        session.finish(thread_id, "done", f"{count:,} messages to {destination}")


def _copy(args: argparse.Namespace, session: Session) -> None:
    source = session.endpoint(args.from_url, args.from_key)
    target = session.endpoint(args.base_url, args.api_key)
    scope = State.scope("import", args.base_url, args.api_key)
    for thread_id in args.thread_ids:
        if session.state.is_done(scope, thread_id):
            session.finish(thread_id, "skipped", "done in an earlier run (state file)")
            continue
        session.progress.begin(f"{thread_id} (reading)")
        try:
            document = thread_docs.read_thread(source, thread_id)
            request = thread_docs.import_request(document, args.max_request_bytes)
        except ApiError as exc:
            session.finish(thread_id, "failed", f"could not be read from {args.from_url}: {exc}")
            continue
        except DocumentError as exc:
            session.finish(thread_id, "failed", str(exc))
            continue
        session.progress.begin(thread_id)
        status, detail = import_one(session, target, scope, request)
        session.finish(thread_id, status, detail)


# --- the command line ---------------------------------------------------------------------------------------


def _parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    base_url = environ.get("MESSAGES_API_BASE_URL") or environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    api_key = environ.get("MESSAGES_API_KEY") or environ.get("OPENAI_API_KEY")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", default=base_url, help=f"this API (now: {base_url})")
    common.add_argument(
        "--api-key", default=api_key, help="its key (default MESSAGES_API_KEY or OPENAI_API_KEY)"
    )
    common.add_argument("--state", type=Path, help=f"the state file (default {STATE_NAME}, see each command)")
    common.add_argument("--attempts", type=int, default=DEFAULT_ATTEMPTS, help="tries per request (bounded)")
    common.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per request")
    sized = argparse.ArgumentParser(add_help=False)
    sized.add_argument(
        "--max-request-bytes",
        type=int,
        default=thread_docs.MAX_BODY_BYTES,
        help="the largest import request the API takes (default 6 MiB); a larger thread is sent in parts",
    )

    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{import,export,copy,keys}")
    imp = commands.add_parser(
        "import", parents=[common, sized], help="import export documents (files or folders of *.json)"
    )
    imp.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    exp = commands.add_parser("export", parents=[common], help="export whole threads, one file each")
    exp.add_argument("thread_ids", nargs="+", metavar="THREAD_ID")
    exp.add_argument("--out", type=Path, required=True, help="the folder for <thread_id>.json files")
    exp.add_argument("--page-size", type=int, default=thread_docs.EXPORT_PAGE_LIMIT, help=argparse.SUPPRESS)
    cp = commands.add_parser(
        "copy", parents=[common, sized], help="copy threads from any Assistants API into this one"
    )
    cp.add_argument("thread_ids", nargs="*", metavar="THREAD_ID")
    cp.add_argument("--from-url", required=True, help="the source API's base URL, e.g. https://host/v1")
    cp.add_argument(
        "--from-key",
        default=environ.get("SOURCE_API_KEY"),
        help="the source API's key (default SOURCE_API_KEY)",
    )
    cp.add_argument("--threads-file", type=Path, help="thread ids, one per line (# starts a comment)")
    commands.add_parser("keys", add_help=False, help="the key tool: threads-api keys --help")
    return parser


def _prepare(args: argparse.Namespace) -> int:
    """Checks the arguments and fills in what the command works on; returns the number of threads."""
    if not args.api_key:
        raise UsageError("no API key: pass --api-key or set MESSAGES_API_KEY (or OPENAI_API_KEY)")
    if args.attempts < 1 or args.timeout <= 0:
        raise UsageError("--attempts must be at least 1 and --timeout positive")
    if args.command == "import":
        args.files, args.missing = thread_docs.expand(args.paths)
        if args.state is None:
            args.state = Path(STATE_NAME)
        total = len(args.files) + len(args.missing)
        if total == 0:
            raise UsageError(f"no export documents (*.json) in {', '.join(args.paths)}")
        return total
    if args.command == "export":
        if not 1 <= args.page_size <= thread_docs.EXPORT_PAGE_LIMIT:
            raise UsageError(f"--page-size must be 1 to {thread_docs.EXPORT_PAGE_LIMIT}")
        if args.state is None:
            args.state = args.out / STATE_NAME
    else:
        if not args.from_key:
            raise UsageError("no key for the source: pass --from-key or set SOURCE_API_KEY")
        ids = list(args.thread_ids)
        if args.threads_file is not None:
            try:
                lines = args.threads_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise UsageError(f"--threads-file: {exc}") from exc
            ids.extend(line.split("#", 1)[0].strip() for line in lines)
        if args.state is None:
            args.state = Path(STATE_NAME)
        args.thread_ids = ids
    args.thread_ids = list(dict.fromkeys(i for i in args.thread_ids if i))
    if not args.thread_ids:
        raise UsageError("no thread ids given")
    return len(args.thread_ids)


def _report(command: str, session: Session, err: TextIO) -> int:
    failed = [(name, where, detail) for name, where, status, detail in session.outcomes if status == "failed"]
    done = sum(1 for outcome in session.outcomes if outcome[2] == "done")
    skipped = sum(1 for outcome in session.outcomes if outcome[2] == "skipped")
    verb = "exported" if command == "export" else "imported"
    for name, where, detail in failed:
        print(f"failed: {_label(name, where)}: {detail}", file=err)
    names = f" ({', '.join(name for name, _, _ in failed)})" if failed else ""
    total = len(session.outcomes)
    threads = "1 thread" if total == 1 else f"{total} threads"
    print(
        f"{PROG} {command}: {threads}: {done} {verb}, {skipped} already done, "
        f"{len(failed)} failed{names}; {session.progress.messages:,} messages {verb}; "
        f"state: {session.state.path}",
        file=err,
    )
    return 1 if failed else 0


def run(
    argv: Sequence[str],
    environ: Mapping[str, str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    tty: bool | None = None,
) -> int:
    """The command line ``argv`` (without the program name); returns the exit status. ``sleep`` is what the
    retries wait with; ``tty`` forces the progress bar on or off (default: whether ``err`` is a terminal)."""
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    argv = list(argv)
    if argv and argv[0] == "keys":
        try:
            from local import keytool  # the AWS SDK and PyYAML: only for this subcommand
        except ModuleNotFoundError as exc:
            print(
                f"{PROG} keys needs {exc.name}, which the other commands do not: install boto3 and PyYAML "
                "(the project's .venv made by `make` has them)",
                file=err,
            )
            return 2
        return keytool.run(argv[1:], environ, out=out)
    parser = _parser(environ)
    args = parser.parse_args(argv)
    try:
        total = _prepare(args)
        session = Session(
            State(args.state), Progress(total, err, tty), err, sleep, args.attempts, args.timeout
        )
        command = {"import": _import, "export": _export, "copy": _copy}[args.command]
        try:
            command(args, session)
        except KeyboardInterrupt:
            session.progress.close()
            print(
                f"interrupted after {len(session.outcomes)} of {total} threads; what is done is in "
                f"{session.state.path}: run the same command again to go on",
                file=err,
            )
            return INTERRUPTED
        session.progress.close()
        return _report(args.command, session, err)
    except (UsageError, StateError) as exc:
        print(f"{PROG}: {exc}", file=err)
        return 2


def main() -> int:
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
