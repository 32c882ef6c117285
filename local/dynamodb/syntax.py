"""The syntax trees of DynamoDB expressions, and the placeholders an expression may use.

``#name`` placeholders are replaced by the names they stand for and ``:value`` ones by their values
while parsing (see ``expressions``); :class:`Placeholders` keeps track of which ones were used.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TypeAlias

from .attributes import Value, check_value
from .exceptions import DynamoError, validation


@dataclass(frozen=True)
class Path:
    """A document path: attribute names for map members and integers for list positions."""

    elements: tuple[str | int, ...]

    def __str__(self) -> str:
        return "[" + ", ".join(str(element) for element in self.elements) + "]"


@dataclass(frozen=True)
class Literal:
    """An expression attribute value (``:v``), resolved."""

    name: str
    value: Value


@dataclass(frozen=True)
class Call:
    """A function call: a condition function, ``size``, ``if_not_exists`` or ``list_append``."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class Arithmetic:
    """``a + b`` or ``a - b`` on the right of a SET action."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Comparison:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True)
class In:
    subject: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True)
class Logical:
    op: str  # "AND" or "OR"
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Not:
    condition: Condition


@dataclass(frozen=True)
class Action:
    """One action of an update expression; ``value`` is None for REMOVE."""

    clause: str
    path: Path
    value: Operand | None


Operand: TypeAlias = Path | Literal | Call | Arithmetic
Condition: TypeAlias = Comparison | Between | In | Logical | Not | Call


class Placeholders:
    """A request's ExpressionAttributeNames and ExpressionAttributeValues, and which of them were used."""

    def __init__(self, names: object, values: object) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Value] = {}
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self.expressions = 0
        if names is not None:
            if not isinstance(names, dict) or not names:
                raise validation("ExpressionAttributeNames must not be empty")
            for key, name in names.items():
                if not key.startswith("#") or len(key) < 2:
                    raise validation(
                        f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                    )
                if not isinstance(name, str) or not name:
                    raise validation(
                        f"ExpressionAttributeNames contains invalid value: Empty attribute name; key: {key}"
                    )
                self.names[key] = name
        if values is not None:
            if not isinstance(values, dict) or not values:
                raise validation("ExpressionAttributeValues must not be empty")
            for key, value in values.items():
                if not key.startswith(":") or len(key) < 2:
                    raise validation(
                        f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                    )
                try:
                    self.values[key] = check_value(value)
                except DynamoError as exc:
                    message = f"ExpressionAttributeValues contains invalid value: {exc.message} for key {key}"
                    raise validation(message) from None

    def name(self, key: str, kind: str) -> str:
        if key not in self.names:
            raise validation(
                f"Invalid {kind}: An expression attribute name used in the document path is not defined; "
                f"attribute name: {key}"
            )
        self.used_names.add(key)
        return self.names[key]

    def value(self, key: str, kind: str) -> Value:
        if key not in self.values:
            raise validation(
                f"Invalid {kind}: An expression attribute value used in expression is not defined; "
                f"attribute value: {key}"
            )
        self.used_values.add(key)
        return self.values[key]

    def check_all_used(self) -> None:
        """After every expression of the request is parsed: refuses placeholders that none of them used."""
        if self.expressions == 0:
            if self.names:
                raise validation("ExpressionAttributeNames can only be specified when using expressions")
            if self.values:
                raise validation("ExpressionAttributeValues can only be specified when using expressions")
        unused_names = sorted(set(self.names) - self.used_names)
        if unused_names:
            keys = ", ".join(unused_names)
            raise validation(
                f"Value provided in ExpressionAttributeNames unused in expressions: keys: {{{keys}}}"
            )
        unused_values = sorted(set(self.values) - self.used_values)
        if unused_values:
            keys = ", ".join(unused_values)
            raise validation(
                f"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{keys}}}"
            )


def _sort_key(path: Path) -> tuple[tuple[int, str | int], ...]:
    return tuple((0, element) if isinstance(element, str) else (1, element) for element in path.elements)


def check_overlaps(paths: list[Path], kind: str) -> None:
    """Refuses two paths where one is the other or lies inside it (``a`` and ``a.b``). After sorting,
    such a pair is always adjacent, so one pass over neighbours finds any."""
    ordered = sorted(paths, key=_sort_key)
    for first, second in itertools.pairwise(ordered):
        if second.elements[: len(first.elements)] == first.elements:
            raise validation(
                f"Invalid {kind}: Two document paths overlap with each other; must remove or rewrite one of "
                f"these paths; path one: {first}, path two: {second}"
            )
