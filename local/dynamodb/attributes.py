"""Attribute values as DynamoDB's JSON protocol carries them (``{"S": "x"}``, ``{"N": "1.5"}`` ...).

This module checks values sent by clients and normalises their numbers, compares them the way
conditions do, computes an item's size by DynamoDB's rule, and turns key values into bytes whose
order is DynamoDB's sort order, so that SQLite can keep items sorted by key.

Binary values stay in their base64 text form (normalised) inside items and are decoded only when
compared, sized or encoded.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from .exceptions import invalid, validation

Value = dict[str, Any]
Item = dict[str, Value]

SET_ELEMENT = {"SS": "S", "NS": "N", "BS": "B"}
TYPE_NAMES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
MAX_ITEM_SIZE = 400 * 1024
MAX_HASH_KEY = 2048
MAX_RANGE_KEY = 1024
MAX_DEPTH = 32

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Wide enough that normalising or adding two valid numbers is exact; the result is checked afterwards.
NUMERIC = Context(prec=100, Emax=999_999, Emin=-999_999)
_SET_NAMES = {"SS": "string set", "NS": "number set", "BS": "binary set"}


def type_of(value: Value) -> str:
    """The type tag of a value that has passed :func:`check_value`."""
    return next(iter(value))


def normalise_number(text: object) -> str:
    """A number's text in DynamoDB's normal form ("1.50" -> "1.5", "1e2" -> "100", "-0" -> "0"),
    after checking it is a number DynamoDB can hold (38 significant digits, 1E-130 to 1E+126)."""
    if not isinstance(text, str) or not _NUMBER.fullmatch(text):
        raise validation("A value provided cannot be converted into a number")
    return format_number(Decimal(text))


def format_number(number: Decimal) -> str:
    if number.is_zero():
        return "0"
    magnitude = number.adjusted()
    if magnitude > 125:
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if magnitude < -130:
        raise validation(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    normal = number.normalize(NUMERIC)
    if len(normal.as_tuple().digits) > 38:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    return format(normal, "f")


def decode_binary(text: str) -> bytes:
    return base64.b64decode(text)


def _normalise_binary(data: object) -> str:
    if not isinstance(data, str):
        raise validation("Binary values must be base64 text")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise validation("Binary values must be valid base64") from None
    return base64.b64encode(raw).decode("ascii")


def _scalar(kind: str, data: object) -> Any:
    if kind == "S":
        if not isinstance(data, str):
            raise validation("String values must be JSON strings")
        return data
    if kind == "N":
        return normalise_number(data)
    return _normalise_binary(data)


def check_value(value: object, depth: int = 0) -> Value:
    """A normalised copy of a client's attribute value, or a ValidationException naming the problem."""
    if depth > MAX_DEPTH:
        raise validation("Nesting Levels have exceeded supported limits")
    if not isinstance(value, dict) or not value:
        raise validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) > 1:
        raise validation(
            "Supplied AttributeValue has more than one datatypes set, "
            "must contain exactly one of the supported datatypes"
        )
    ((kind, data),) = value.items()
    if kind in ("S", "N", "B"):
        return {kind: _scalar(kind, data)}
    if kind in SET_ELEMENT:
        if not isinstance(data, list):
            raise validation(f"The {_SET_NAMES[kind]} must be a list")
        if not data:
            raise invalid(f"An {_SET_NAMES[kind]}  may not be empty")
        elements = [_scalar(SET_ELEMENT[kind], element) for element in data]
        if len(set(elements)) != len(elements):
            raise invalid(f"Input collection {data} contains duplicates.")
        return {kind: elements}
    if kind == "M":
        if not isinstance(data, dict):
            raise validation("A map value must be a JSON object")
        return {"M": check_attributes(data, depth + 1)}
    if kind == "L":
        if not isinstance(data, list):
            raise validation("A list value must be a JSON array")
        return {"L": [check_value(element, depth + 1) for element in data]}
    if kind == "NULL":
        if data is not True:
            raise invalid("Null attribute value types must have the value of true")
        return {"NULL": True}
    if kind == "BOOL":
        if not isinstance(data, bool):
            raise validation("A BOOL value must be true or false")
        return {"BOOL": data}
    raise validation(f"Supplied AttributeValue has an unsupported datatype: {kind}")


def check_attributes(attributes: object, depth: int = 0) -> Item:
    """A normalised copy of a map of names to values (an item, a key, a nested map)."""
    if not isinstance(attributes, dict):
        raise validation("Expected a map of attribute names to attribute values")
    checked: Item = {}
    for name, value in attributes.items():
        if not name:
            raise invalid("An AttributeName cannot be empty")
        if len(name.encode("utf-8")) > 65535:
            raise invalid("An AttributeName is longer than 65535 bytes")
        checked[name] = check_value(value, depth)
    return checked


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def _binary_size(text: str) -> int:
    return len(text) * 3 // 4 - text[-2:].count("=")


def value_size(value: Value) -> int:
    """A value's size by DynamoDB's rule: string bytes, binary bytes, about half a byte per number digit
    plus one, one for BOOL and NULL, three plus the contents for lists and maps."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return _binary_size(data)
    if kind == "SS":
        return sum(len(element.encode("utf-8")) for element in data)
    if kind == "NS":
        return sum(_number_size(element) for element in data)
    if kind == "BS":
        return sum(_binary_size(element) for element in data)
    if kind == "M":
        return 3 + item_size(data)
    if kind == "L":
        return 3 + sum(value_size(element) for element in data)
    return 1


def item_size(item: Item) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def check_item_size(item: Item) -> int:
    size = item_size(item)
    if size > MAX_ITEM_SIZE:
        raise validation("Item size has exceeded the maximum allowed size")
    return size


def _ordered(value: Value) -> Any:
    kind, data = next(iter(value.items()))
    if kind == "S":
        return data.encode("utf-8")
    if kind == "N":
        return Decimal(data)
    return decode_binary(data)


def compare(left: Value, right: Value) -> int | None:
    """-1, 0 or 1 for two values of the same ordered type (S by UTF-8 bytes, N by value, B by unsigned
    bytes), None for any other pair: such values are neither smaller nor greater than each other."""
    kind = type_of(left)
    if kind not in ("S", "N", "B") or kind != type_of(right):
        return None
    a, b = _ordered(left), _ordered(right)
    return int(a > b) - int(a < b)


def equal(left: Value, right: Value) -> bool:
    """DynamoDB's equality: same type and same value; sets ignore order, maps and lists compare deeply.
    Numbers and binary values are normalised on the way in, so their texts compare exactly."""
    kind = type_of(left)
    if kind != type_of(right):
        return False
    a, b = left[kind], right[kind]
    if kind in SET_ELEMENT:
        return set(a) == set(b)
    if kind == "L":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "M":
        return a.keys() == b.keys() and all(equal(a[name], b[name]) for name in a)
    return bool(a == b)


def encode_number(number: Decimal) -> bytes:
    """Bytes whose order is the numbers' order. Zero is one byte between the negatives and the
    positives; a positive number is its decimal exponent then its digits; a negative one is the same
    with every part complemented and a terminator that sorts after any digit."""
    if number.is_zero():
        return b"\x01"
    sign, digits, _ = number.normalize(NUMERIC).as_tuple()
    exponent = number.adjusted() + 0x8000
    if not sign:
        return b"\x02" + exponent.to_bytes(2, "big") + bytes(0x30 + digit for digit in digits)
    mirrored = bytes(0x39 - digit for digit in digits)
    return b"\x00" + (0xFFFF - exponent).to_bytes(2, "big") + mirrored + b"\xff"


def encode_key(value: Value) -> bytes:
    """The sortable bytes of a key value of type S (UTF-8), B (raw bytes) or N (see encode_number)."""
    kind, data = next(iter(value.items()))
    if kind == "S":
        return bytes(data.encode("utf-8"))
    if kind == "B":
        return decode_binary(data)
    return encode_number(Decimal(data))


@dataclass(frozen=True)
class KeySchema:
    """The key of a table or an index: its partition (HASH) attribute and optional sort (RANGE) one."""

    hash_name: str
    hash_type: str
    range_name: str | None = None
    range_type: str | None = None

    def parts(self) -> list[tuple[str, str]]:
        parts = [(self.hash_name, self.hash_type)]
        if self.range_name is not None and self.range_type is not None:
            parts.append((self.range_name, self.range_type))
        return parts

    def names(self) -> list[str]:
        return [name for name, _ in self.parts()]

    def encode(self, item: Item) -> tuple[bytes, bytes]:
        """The (hash, range) bytes of an item that is known to carry this key; b"" when there is no range."""
        hash_key = encode_key(item[self.hash_name])
        range_key = encode_key(item[self.range_name]) if self.range_name else b""
        return hash_key, range_key

    def project(self, item: Item) -> Item:
        return {name: item[name] for name in self.names() if name in item}


def _check_key_value(name: str, value: Value, is_hash: bool) -> None:
    kind, data = next(iter(value.items()))
    if kind in ("S", "B") and not data:
        what = "string" if kind == "S" else "binary"
        raise validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
            f"contain an empty {what} value. Key: {name}"
        )
    size = value_size(value)
    if is_hash and size > MAX_HASH_KEY:
        raise invalid(f"Size of hashkey has exceeded the maximum size limit of {MAX_HASH_KEY} bytes")
    if not is_hash and size > MAX_RANGE_KEY:
        raise invalid(
            f"Aggregated size of all range keys has exceeded the size limit of {MAX_RANGE_KEY} bytes"
        )


def check_item_key(schema: KeySchema, item: Item) -> None:
    """Checks that an item to be written carries the table's key attributes with their declared types."""
    for position, (name, kind) in enumerate(schema.parts()):
        value = item.get(name)
        if value is None:
            raise invalid(f"Missing the key {name} in the item")
        if type_of(value) != kind:
            raise invalid(f"Type mismatch for key {name} expected: {kind} actual: {type_of(value)}")
        _check_key_value(name, value, position == 0)


def check_key(schema: KeySchema, key: object) -> Item:
    """The normalised ``Key`` parameter of a request: exactly the schema's attributes, with their types."""
    checked = check_attributes(key)
    if sorted(checked) != sorted(schema.names()) or any(
        type_of(checked[name]) != kind for name, kind in schema.parts()
    ):
        raise validation("The provided key element does not match the schema")
    for position, (name, _) in enumerate(schema.parts()):
        _check_key_value(name, checked[name], position == 0)
    return checked


def index_key(schema: KeySchema, item: Item, index: str) -> tuple[bytes, bytes] | None:
    """The (hash, range) bytes of an item in a global secondary index, or None when the item lacks one
    of the index's key attributes (indexes are sparse). A key attribute of the wrong type is refused."""
    for name, kind in schema.parts():
        value = item.get(name)
        if value is None:
            return None
        if type_of(value) != kind:
            raise invalid(
                f"Type mismatch for Index Key {name} Expected: {kind} Actual: {type_of(value)} "
                f"IndexName: {index}"
            )
        if kind in ("S", "B") and not value[kind]:
            raise validation(
                "One or more parameter values are not valid. A value specified for a secondary index key is "
                "not supported. The AttributeValue for a key attribute cannot contain an empty string value. "
                f"IndexName: {index}, IndexKey: {name}"
            )
    return schema.encode(item)


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string that starts with ``prefix`` (None if none)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])
