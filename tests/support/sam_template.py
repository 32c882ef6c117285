"""Reads template.yaml, so that tests build exactly the table and routes that are deployed.

The reading itself lives in ``local.template`` (the local server uses it too); this module keeps the tests'
names for it.
"""

from __future__ import annotations

from local.template import ROOT, TEMPLATE, functions, resources, table_definition, template

__all__ = ["ROOT", "SUPPORT", "TEMPLATE", "functions", "resources", "table_definition", "template"]

SUPPORT = ROOT / "tests" / "support"
"""The tests' helpers and fixtures: the OpenAI spec subset, recorded traffic, the Node client and gateway."""
