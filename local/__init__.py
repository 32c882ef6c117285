"""Runs the API on this machine as it is deployed: template.yaml's functions and routes behind one server.

``python -m local.serve`` starts it (see ``local/serve.py``); ``python -m local.openapi`` writes openapi.json.
"""

import sys
from pathlib import Path

# The shared layer's code from this checkout comes first, as on Lambda (whatever else is installed).
_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "threadkit")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
