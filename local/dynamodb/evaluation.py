"""Evaluating parsed expressions against items: conditions, update actions and projections.

Items are plain dicts of attribute values as the wire carries them. Functions that change an item
change the dict they are given, so callers pass a copy of anything they still need.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from .attributes import SET_ELEMENT, Item, Value, compare, decode_binary, equal, format_number, type_of
from .exceptions import invalid, validation
from .syntax import (
    Action,
    Arithmetic,
    Between,
    Call,
    Comparison,
    Condition,
    In,
    Literal,
    Logical,
    Not,
    Operand,
    Path,
)


def resolve(item: Item, path: Path) -> Value | None:
    """The value at a document path, or None when any step of the path is missing or of another type."""
    first, *rest = path.elements
    current = item.get(str(first))
    for element in rest:
        if current is None:
            return None
        if isinstance(element, int):
            elements = current.get("L")
            current = elements[element] if elements is not None and element < len(elements) else None
        else:
            members = current.get("M")
            current = members.get(element) if members is not None else None
    return current


def _size(value: Value | None) -> Value | None:
    if value is None:
        return None
    kind, data = next(iter(value.items()))
    if kind == "S":  # DynamoDB counts a string's UTF-16 code units
        return {"N": str(len(data.encode("utf-16-le")) // 2)}
    if kind == "B":
        return {"N": str(len(data) * 3 // 4 - data[-2:].count("="))}
    if kind in SET_ELEMENT or kind in ("L", "M"):
        return {"N": str(len(data))}
    return None


def _operand(operand: Operand, item: Item) -> Value | None:
    if isinstance(operand, Path):
        return resolve(item, operand)
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, Call) and operand.name == "size":
        return _size(_operand(operand.args[0], item))
    return None


def _contains(container: Value | None, element: Value | None) -> bool:
    if container is None or element is None:
        return False
    kind, data = next(iter(container.items()))
    wanted = type_of(element)
    if kind == "S" and wanted == "S":
        return bool(element["S"] in data)
    if kind == "B" and wanted == "B":
        return decode_binary(element["B"]) in decode_binary(data)
    if kind in SET_ELEMENT:
        return SET_ELEMENT[kind] == wanted and element[wanted] in data
    if kind == "L":
        return any(equal(member, element) for member in data)
    return False


def _begins_with(value: Value | None, prefix: Value | None) -> bool:
    if value is None or prefix is None or type_of(value) != type_of(prefix):
        return False
    kind = type_of(value)
    if kind == "S":
        return bool(value["S"].startswith(prefix["S"]))
    if kind == "B":
        return decode_binary(value["B"]).startswith(decode_binary(prefix["B"]))
    return False


def _function(call: Call, item: Item) -> bool:
    name = call.name
    first = _operand(call.args[0], item)
    if name == "attribute_exists":
        return first is not None
    if name == "attribute_not_exists":
        return first is None
    second = _operand(call.args[1], item)
    if name == "attribute_type":
        return first is not None and second is not None and type_of(first) == second.get("S")
    if name == "begins_with":
        return _begins_with(first, second)
    if name == "contains":
        return _contains(first, second)
    return False


def holds(condition: Condition, item: Item) -> bool:
    """Whether a condition is true of an item (an absent item is the empty dict)."""
    if isinstance(condition, Logical):
        if condition.op == "AND":
            return holds(condition.left, item) and holds(condition.right, item)
        return holds(condition.left, item) or holds(condition.right, item)
    if isinstance(condition, Not):
        return not holds(condition.condition, item)
    if isinstance(condition, Call):
        return _function(condition, item)
    if isinstance(condition, Comparison):
        left, right = _operand(condition.left, item), _operand(condition.right, item)
        if condition.op == "=":
            return left is not None and right is not None and equal(left, right)
        if condition.op == "<>":
            return left is None or right is None or not equal(left, right)
        order = compare(left, right) if left is not None and right is not None else None
        if order is None:
            return False
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[condition.op]
    if isinstance(condition, Between):
        subject = _operand(condition.subject, item)
        low, high = _operand(condition.low, item), _operand(condition.high, item)
        if subject is None or low is None or high is None:
            return False
        above, below = compare(subject, low), compare(subject, high)
        return above is not None and below is not None and above >= 0 and below <= 0
    assert isinstance(condition, In)
    subject = _operand(condition.subject, item)
    if subject is None:
        return False
    return any(
        (choice := _operand(option, item)) is not None and equal(subject, choice)
        for option in condition.choices
    )


# Update expressions.

_WRONG_TYPE = "An operand in the update expression has an incorrect data type"
_BAD_PATH = "The document path provided in the update expression is invalid for update"


def _update_operand(operand: Operand, item: Item) -> Value:
    if isinstance(operand, Literal):
        return operand.value
    if isinstance(operand, Path):
        value = resolve(item, operand)
        if value is None:
            raise validation("The provided expression refers to an attribute that does not exist in the item")
        return value
    if isinstance(operand, Arithmetic):
        left, right = _update_operand(operand.left, item), _update_operand(operand.right, item)
        if type_of(left) != "N" or type_of(right) != "N":
            raise validation(_WRONG_TYPE)
        a, b = Decimal(left["N"]), Decimal(right["N"])
        return {"N": format_number(a + b if operand.op == "+" else a - b)}
    if operand.name == "if_not_exists":
        path = operand.args[0]
        existing = resolve(item, path) if isinstance(path, Path) else None
        return existing if existing is not None else _update_operand(operand.args[1], item)
    first, second = (_update_operand(arg, item) for arg in operand.args)
    if type_of(first) != "L" or type_of(second) != "L":
        raise validation(_WRONG_TYPE)
    return {"L": [*first["L"], *second["L"]]}


def _container(item: Item, path: Path) -> dict[str, Value] | list[Value]:
    """The map members or list elements that hold the last step of a path."""
    if len(path.elements) == 1:
        return item
    parent = resolve(item, Path(path.elements[:-1]))
    last = path.elements[-1]
    if parent is not None:
        if isinstance(last, str) and type_of(parent) == "M":
            members: dict[str, Value] = parent["M"]
            return members
        if isinstance(last, int) and type_of(parent) == "L":
            elements: list[Value] = parent["L"]
            return elements
    raise validation(_BAD_PATH)


def _set(item: Item, path: Path, value: Value) -> None:
    container, last = _container(item, path), path.elements[-1]
    if isinstance(container, list):
        assert isinstance(last, int)
        if last < len(container):
            container[last] = value
        else:
            container.append(value)
    else:
        container[str(last)] = value


def _remove(item: Item, path: Path) -> None:
    container, last = _container(item, path), path.elements[-1]
    if isinstance(container, list):
        assert isinstance(last, int)
        if last < len(container):
            del container[last]
    else:
        container.pop(str(last), None)


def _add(item: Item, path: Path, value: Value) -> None:
    existing = resolve(item, path)
    if existing is None:
        _set(item, path, value)
        return
    kind = type_of(existing)
    if kind != type_of(value):
        raise validation(_WRONG_TYPE)
    if kind == "N":
        existing["N"] = format_number(Decimal(existing["N"]) + Decimal(value["N"]))
    else:
        present = set(existing[kind])
        existing[kind] = [*existing[kind], *(element for element in value[kind] if element not in present)]


def _delete(item: Item, path: Path, value: Value) -> None:
    existing = resolve(item, path)
    if existing is None:
        return
    kind = type_of(existing)
    if kind != type_of(value):
        raise validation(_WRONG_TYPE)
    unwanted = set(value[kind])
    remaining = [element for element in existing[kind] if element not in unwanted]
    if remaining:
        existing[kind] = remaining
    else:
        _remove(item, path)


def _removal_order(action: Action) -> tuple[tuple[int, str | int], ...]:
    return tuple((0, e) if isinstance(e, str) else (1, e) for e in action.path.elements)


def apply_update(actions: list[Action], old: Item, key_names: list[str]) -> Item:
    """The item after an update expression. Every operand is read from ``old`` (the item before the
    update, or just its key when it does not exist), as DynamoDB evaluates all actions against the
    item as it was; ``old`` itself is left unchanged."""
    for action in actions:
        if action.path.elements[0] in key_names:
            raise invalid(
                f"Cannot update attribute {action.path.elements[0]}. This attribute is part of the key"
            )
    values = [
        _update_operand(action.value, old) if action.clause == "SET" and action.value is not None else None
        for action in actions
    ]
    new = copy.deepcopy(old)
    for action, value in zip(actions, values, strict=True):
        if value is not None:
            _set(new, action.path, copy.deepcopy(value))
    # Later list positions go first so that removing one does not shift the others.
    for action in sorted((a for a in actions if a.clause == "REMOVE"), key=_removal_order, reverse=True):
        _remove(new, action.path)
    for action in actions:
        if isinstance(action.value, Literal) and action.clause == "ADD":
            _add(new, action.path, copy.deepcopy(action.value.value))
        elif isinstance(action.value, Literal) and action.clause == "DELETE":
            _delete(new, action.path, action.value.value)
    return new


# Projections.


class _Node:
    """A branch of a projected item under construction: a value, or members keyed by name or position."""

    def __init__(self) -> None:
        self.value: Value | None = None
        self.children: dict[str | int, _Node] = {}

    def build(self) -> Value:
        if self.value is not None:
            return self.value
        if any(isinstance(key, int) for key in self.children):
            return {"L": [self.children[key].build() for key in sorted(self.children, key=int)]}
        return {"M": {str(key): child.build() for key, child in self.children.items()}}


def project(item: Item, paths: list[Path]) -> Item:
    """Only the given paths of an item. Selected list elements are packed together in their order, as
    DynamoDB returns them; paths that lead nowhere are left out."""
    root = _Node()
    for path in paths:
        value = resolve(item, path)
        if value is None:
            continue
        node = root
        for element in path.elements:
            node = node.children.setdefault(element, _Node())
        node.value = value
    return {str(name): child.build() for name, child in root.children.items()}
