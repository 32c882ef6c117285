"""docs/contract.md, "Paging", as a model: which messages a page holds, from the messages' order alone."""

from __future__ import annotations

from typing import Literal

Order = Literal["asc", "desc"]


def expected_page(
    created: list[str], order: Order, limit: int, after: str | None = None, before: str | None = None
) -> tuple[list[str], bool]:
    """The page's ids and has_more, from the creation order alone (``created`` is in creation order). A cursor
    that is no message of ``created`` is a position: it compares with the messages as ids do."""
    in_order = created if order == "asc" else created[::-1]
    rank = {message_id: n for n, message_id in enumerate(created)}

    def past(a: str, b: str) -> bool:
        """Whether ``a`` comes after ``b`` in ``order``; cursors that are no message compare as ids."""
        if a in rank and b in rank:
            return rank[a] > rank[b] if order == "asc" else rank[a] < rank[b]
        return a > b if order == "asc" else a < b

    candidates = [
        m for m in in_order if (after is None or past(m, after)) and (before is None or past(before, m))
    ]
    if before is not None and after is None:
        return candidates[-limit:], len(candidates) > limit
    return candidates[:limit], len(candidates) > limit
