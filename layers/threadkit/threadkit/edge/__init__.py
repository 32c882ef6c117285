"""The edge: what a function needs to answer API Gateway, and nothing of the domain's rules.

* ``resolver``: Powertools' resolver set up for this API (``new_app``, ``error_responses``, the
  ``IdempotencyKey`` header);
* ``invocation``: one invocation, event to proxy response (``serve``); ``events``: the event as this API reads
  it; ``auth``: the API key and the tenant (``current_tenant``);
* ``validation``: Powertools' and pydantic's validation errors worded as OpenAI worded them;
* ``observability``: the request's log line, its metrics, and tracing when it is on;
* ``snapstart``: what a function drops after a SnapStart restore.

A function module imports what it uses from here and the domain call it makes from ``threadkit.domain``.
Importing the edge first opens Powertools' resolver and event packages without their ``__init__``
(``lean_imports``): a cold start loads one resolver, not all of them.
"""

from threadkit.edge import snapstart
from threadkit.edge.lean_imports import open_lean

open_lean()
snapstart.install()
