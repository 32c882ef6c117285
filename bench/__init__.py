"""Benchmarks of the Messages API: cold start, warm call time, DynamoDB work per call and package size.

Run from the repository root: ``.venv/bin/python -m bench`` (``make bench``). See ``bench/__main__.py``.

Importing the package prepares this process as a function's container before any threadkit module is
loaded: the functions' environment (``bench.env``), the layer and every function folder on ``sys.path`` (as
pyproject's pytest ``pythonpath`` does), and no bytecode written, so that a run writes nothing outside
``bench/``.
"""

from __future__ import annotations

import sys

from bench.env import configure_process
from bench.paths import code_paths

sys.dont_write_bytecode = True
configure_process()
for _path in reversed(code_paths()):
    if _path not in sys.path:
        sys.path.insert(0, _path)
