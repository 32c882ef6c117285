"""The bench's fixed-width table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bench.cold import ColdResults, ColdStart, target_ratio
from bench.size import LIMIT_BYTES, SizeResults
from bench.warm import WarmResults
from bench.work import PAGE, Work, WorkResults

MIB = 1024 * 1024


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Columns as wide as their widest cell; numbers aligned right."""
    body = [list(row) for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(header, *body, strict=False)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if align else cell.ljust(width)
            for cell, width, align in zip(cells, widths, right, strict=False)
        ]
        return "   " + "  ".join(padded).rstrip()

    rule = "   " + "  ".join("-" * width for width in widths)
    return [line(header), rule, *(line(row) for row in body)]


def _section(title: str, notes: Sequence[str]) -> list[str]:
    return ["", title, *(f"   {note}" for note in notes), ""]


def _cold_row(start: ColdStart, base: ColdStart, limit: float) -> list[str]:
    if start.error is not None or not start.total_ms:
        return [start.name, "", "", "", "", "", "", f"ERROR: {start.error}"]
    ratio = start.median_ms / base.median_ms
    over = start.median_ms - limit * base.median_ms
    verdict = (
        f"PASS ({-over:.0f} ms to spare)"
        if ratio <= limit
        else f"MISS by {ratio - limit:.2f}x ({over:.0f} ms over {limit}x baseline)"
    )
    return [
        start.name,
        f"{start.median_ms:.1f} ms",
        f"{start.median_init_ms:.1f}",
        f"{start.median_first_call_ms:.1f}",
        f"{base.median_ms:.1f} ms",
        f"{ratio:.2f}x",
        f"<= {limit}x",
        verdict,
    ]


def cold(results: ColdResults) -> list[str]:
    base = results.baseline
    lines = _section(
        f"1. Cold start as deployed: median of {results.runs} fresh processes each, interleaved, against the"
        " embedded DynamoDB",
        [
            "from the child's first line (before any import) to the end of the first invocation of its",
            "sample event. init: the handler module's import; 1st call: settings, client, key, operation.",
            "baseline: import boto3, create the DynamoDB client, one GetItem against the same store.",
            "Functions and layer as `sam build` built them (.aws-sam/build); no bytecode is written.",
        ],
    )
    if base.error is not None or not base.total_ms:
        return [*lines, f"   baseline failed: {base.error}"]
    first = ["baseline", f"{base.median_ms:.1f} ms", f"{base.median_init_ms:.1f}"]
    rows = [[*first, f"{base.median_first_call_ms:.1f}", "", "", "", ""]]
    rows += [_cold_row(function, base, target_ratio(function.name)) for function in results.functions]
    rows.append(_cold_row(results.before, base, target_ratio("create_message")))
    header = ["function", "median", "init", "1st call", "baseline", "ratio", "target", "result"]
    table = _table(header, rows, [False, True, True, True, True, True, False, False])
    table.insert(-1, table[1])  # a rule before the "before" row
    notes = [
        "",
        "   before: create_message with the layer stripped of its bytecode, as the python3.13 build method",
        "   shipped it: Lambda's /opt is read-only, so every module was compiled at every cold start.",
    ]
    notes += [f"   native stand-in: {line}" for line in results.stand_ins]
    return lines + table + notes


def warm(outcome: WarmResults) -> list[str]:
    results = outcome.scenarios
    calls = results[0].calls if results else 0
    lines = _section(
        f"2. Warm call: median of {calls:,} in-process calls each, DynamoDB answered by botocore's Stubber",
        [
            "API key cached; each call gets a fresh copy of the event and the exact recorded responses.",
            "baseline: the same DynamoDB calls with the plain client (the recorded parameters), then",
            "json.dumps of what the last one answered. Judged on wall-clock medians; the CPU column is the",
            "same difference in thread CPU time, which other processes on the machine do not inflate.",
        ],
    )
    rows = []
    for result in results:
        calls_made = " + ".join(result.dynamodb_calls)
        if result.error is not None or not result.function_ms:
            rows.append([result.title, calls_made, "", "", "", "", "", f"ERROR: {result.error}"])
            continue
        spare = result.target_ms - result.difference
        verdict = f"PASS ({spare:.3f} ms to spare)" if spare >= 0 else f"MISS by {-spare:.3f} ms"
        rows.append(
            [
                result.title,
                calls_made,
                f"{result.function_median:.3f} ms",
                f"{result.baseline_median:.3f} ms",
                f"{result.difference:+.3f} ms",
                f"{result.cpu_difference:+.3f} ms",
                f"<= +{result.target_ms:g} ms",
                verdict,
            ]
        )
    header = ["call", "DynamoDB calls", "function", "baseline", "difference", "CPU", "target", "result"]
    return lines + _table(header, rows, [False, False, True, True, True, True, False, False])


def _work_row(work: Work) -> list[str]:
    return [
        work.label,
        "" if work.thread_messages is None else f"{work.thread_messages:,}",
        str(work.status),
        str(work.requests),
        ", ".join(work.operations) or "-",
        str(work.items_read),
        str(work.scanned) if work.scanned else "-",
        f"{work.bytes_read:,}",
        "-" if work.moto_capacity is None else f"{work.moto_capacity:g}",
    ]


def work(results: WorkResults) -> list[str]:
    lines = _section(
        "3. DynamoDB work per call: counted with botocore's event hooks, against moto in-process",
        [
            "items: returned to the function (Item, Items, Responses, Attributes); scanned: the query's",
            "ScannedCount; bytes: the items' size by DynamoDB's rule; moto CU: moto's ConsumedCapacity",
            "(ReturnConsumedCapacity=TOTAL), a fixed figure per request in moto, not per item or size.",
        ],
    )
    header = ["call", "thread", "status", "requests", "operations", "items", "scanned", "bytes", "moto CU"]
    right = [False, True, True, True, False, True, True, True, True]
    rows = [_work_row(w) for w in results.lists] + [_work_row(w) for w in results.operations]
    lines += _table(header, rows, right)
    pages = [w for w in results.lists if w.label == f"list of {PAGE}"]

    def each(values: Iterable[object]) -> str:
        return " / ".join(f"{value:,}" if isinstance(value, int) else str(value) for value in values)

    verdict = (
        "PASS: bounded by the page (limit + 1 items), not by the thread"
        if results.bounded
        else "MISS: grows with the thread"
    )
    return [
        *lines,
        "",
        f"   list of {PAGE} on {each(w.thread_messages for w in pages)} messages:",
        f"   requests {each(w.requests for w in pages)}, items {each(w.items_read for w in pages)}, "
        f"scanned {each(w.scanned for w in pages)}: {verdict}",
    ]


def _mib(size: int | None) -> str:
    return "-" if size is None else f"{size / MIB:.2f} MiB"


def size(results: SizeResults) -> list[str]:
    lines = _section(
        "4. Deployed size, unzipped: function code + layer, against Lambda's 250 MiB limit",
        [
            f"measured: {results.source}"
            + ("" if results.build_seconds is None else f"; the build took {results.build_seconds:.0f} s"),
            "boto3 is not bundled (the Lambda runtime provides it).",
        ],
    )
    if results.error is not None:
        return [*lines, f"   NOT MEASURED: {results.error}"]
    largest = ", ".join(f"{name} {_mib(size)}" for name, size in results.layer_largest)
    lines[-1:-1] = [
        f"   layer {results.layer}: {_mib(results.layer_bytes)} in {results.layer_files:,} files, "
        f"{results.layer_pyc_files:,} of them .pyc",
        f"   largest in the layer: {largest}",
    ]
    rows = []
    for function in results.functions:
        if function.total_bytes is None:
            rows.append([function.logical_id, _mib(function.code_bytes), "", "", "NOT BUILT"])
            continue
        spare = LIMIT_BYTES - function.total_bytes
        verdict = (
            f"PASS ({spare / MIB:.1f} MiB to spare)" if spare >= 0 else f"MISS by {-spare / MIB:.1f} MiB"
        )
        rows.append(
            [
                function.logical_id,
                f"{function.code_bytes or 0:,} B",
                _mib(function.total_bytes),
                f"{100 * function.total_bytes / LIMIT_BYTES:.1f}%",
                verdict,
            ]
        )
    header = ["function", "code", "with layer", "of limit", "result"]
    return lines + _table(header, rows, [False, True, True, True, False])
