"""Every ``python`` code block of README.md runs as it is written, each in a fresh interpreter, against the
local server, with the environment variables README tells its reader to set (and only those from README).

A block that cannot run against a local server must be listed in ``EXCLUDED`` with the reason, where the
test report shows it as skipped; the list is checked to name blocks that exist.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from local.template import ROOT
from tests.support.live import LIVE_API_KEY

README = ROOT / "README.md"
RUN_TIMEOUT = 120.0  # a bound for a busy machine, not an expectation
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<language>[\w+-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)

# A block (known by a line it holds) that cannot run against the local server, and why. Keep it short.
EXCLUDED: dict[str, str] = {}


def blocks(language: str) -> list[tuple[int, str]]:
    """Each block of ``language`` in README, dedented, with the line it starts on."""
    text = README.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group("language") == language:
            line = text.count("\n", 0, match.start()) + 1
            found.append((line, textwrap.dedent(match.group("body"))))
    return found


def exported() -> set[str]:
    """The variables README's shell blocks tell the reader to export."""
    return {name for _, body in blocks("sh") for name in re.findall(r"^export (\w+)=", body, re.M)}


def _excluded(code: str) -> str | None:
    return next((reason for line, reason in EXCLUDED.items() if line in code), None)


PYTHON_BLOCKS = blocks("python")


def test_readme_has_python_blocks_and_every_exclusion_names_one() -> None:
    assert len(PYTHON_BLOCKS) >= 2
    for line in EXCLUDED:
        assert sum(line in code for _, code in PYTHON_BLOCKS) == 1, line


def test_the_blocks_read_only_variables_that_readme_says_to_set() -> None:
    used = {name for _, code in PYTHON_BLOCKS for name in re.findall(r"os\.environ\[\"(\w+)\"\]", code)}
    assert used
    assert used <= exported()


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(
            code,
            id=f"README.md:{line}",
            marks=[pytest.mark.skip(reason=_excluded(code) or "")] if _excluded(code) else [],
        )
        for line, code in PYTHON_BLOCKS
    ],
)
def test_a_readme_python_block_runs_as_written(live_api: str, code: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESSAGES_API_", "OPENAI_", "PORTKEY_"))}
    env.update({"MESSAGES_API_BASE_URL": live_api, "MESSAGES_API_KEY": LIVE_API_KEY})
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,  # as a user's own folder: nothing of the project is imported by accident
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
