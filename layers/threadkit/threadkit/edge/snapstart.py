"""Lambda SnapStart (template parameter ``SnapStart=on``): one initialised environment is snapshotted and
restored many times, so whatever a restored environment must not share with its siblings, or must not keep
from before the snapshot, is dropped after each restore.

* Ids: nothing to do. Their random part comes from ``secrets`` (the OS's generator, which Lambda reseeds on
  restore), and their clock part from the clock read at each call (``contract.ids``).
* The DynamoDB client (``storage.reset``): its connections were opened before the snapshot, and its
  credentials may be the ones from the snapshot's time.
* The API key cache (``edge.auth``): a key revoked since the snapshot must stop working at once, not when a
  cached entry would have expired.

Lambda sets ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`` in such functions; elsewhere ``install`` does
nothing and imports nothing.
"""

from __future__ import annotations

import importlib
import os


def after_restore() -> None:
    """Forgets what a restored environment must build again (see the module docstring)."""
    from threadkit import storage
    from threadkit.edge import auth
    from threadkit.storage import keys

    storage.reset()
    auth.use_key_cache(keys.KeyCache())


def install() -> bool:
    """Registers ``after_restore`` with the runtime's hooks in a SnapStart function; whether it did."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return False
    hooks = importlib.import_module("snapshot_restore_py")  # part of Lambda's Python runtimes
    hooks.register_after_restore(after_restore)
    return True
