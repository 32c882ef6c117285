"""Parsing DynamoDB's expression languages into small syntax trees.

One tokenizer and one recursive-descent parser serve the five kinds of expression: conditions (also
used for FilterExpression and KeyConditionExpression), update expressions and projection expressions.
Placeholders are resolved while parsing: ``#name`` becomes the attribute name it stands for and
``:value`` the attribute value, and :class:`Placeholders` remembers which ones were used so that the
request can be refused, as DynamoDB does, when one is missing or left unused.

Precedence in conditions, from loosest to tightest: OR, AND, NOT, then comparisons, BETWEEN, IN and
function calls; parentheses group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .attributes import SET_ELEMENT, TYPE_NAMES, compare, type_of
from .exceptions import DynamoError, validation
from .reserved import RESERVED_WORDS
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
    Placeholders,
    check_overlaps,
)

MAX_EXPRESSION = 4096
COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
# Functions that are conditions by themselves, with their number of arguments.
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "value", "word", "number" or "op"
    text: str
    at: int


_TOKEN = re.compile(
    r"\s*(?:(?P<name>\#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>\d+)|(?P<op><>|<=|>=|[=<>()\[\],.+\-]))"
)


class _Parser:
    def __init__(self, text: object, kind: str, placeholders: Placeholders) -> None:
        if not isinstance(text, str):
            raise validation(f"{kind} must be a string")
        if not text.strip():
            raise validation(f"Invalid {kind}: The expression can not be empty;")
        if len(text.encode("utf-8")) > MAX_EXPRESSION:
            raise validation(
                f"Invalid {kind}: Expression size has exceeded the maximum allowed size; "
                f"expression size: {len(text.encode('utf-8'))}"
            )
        self.text = text
        self.kind = kind
        self.placeholders = placeholders
        placeholders.expressions += 1
        self.tokens: list[_Token] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.lastgroup is None:
                if not text[position:].strip():
                    break
                start = len(text) - len(text[position:].lstrip())
                raise self._syntax(text[start], start)
            group = match.lastgroup
            self.tokens.append(_Token(group, match.group(group), match.start(group)))
            position = match.end()
        self.position = 0

    # Token handling.

    def _syntax(self, token: str, at: int) -> DynamoError:
        near = self.text[max(0, at - 10) : at + 10]
        return validation(f'Invalid {self.kind}: Syntax error; token: "{token}", near: "{near}"')

    def fail(self) -> DynamoError:
        token = self.peek()
        if token is None:
            return self._syntax("<EOF>", len(self.text))
        return self._syntax(token.text, token.at)

    def error(self, message: str) -> DynamoError:
        return validation(f"Invalid {self.kind}: {message}")

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail()
        self.position += 1
        return token

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text in ops

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.upper() == word

    def expect(self, op: str) -> None:
        if not self.at_op(op):
            raise self.fail()
        self.position += 1

    def expect_word(self, word: str) -> None:
        if not self.at_word(word):
            raise self.fail()
        self.position += 1

    def finish(self) -> None:
        if self.peek() is not None:
            raise self.fail()

    def at_call(self) -> bool:
        token, following = self.peek(), self.peek(1)
        return (
            token is not None
            and token.kind == "word"
            and following is not None
            and following.kind == "op"
            and following.text == "("
        )

    # Paths and operands.

    def path(self) -> Path:
        elements: list[str | int] = [self.path_name()]
        while True:
            if self.at_op("."):
                self.position += 1
                elements.append(self.path_name())
            elif self.at_op("["):
                self.position += 1
                token = self.take()
                if token.kind != "number":
                    raise self._syntax(token.text, token.at)
                elements.append(int(token.text))
                self.expect("]")
            else:
                return Path(tuple(elements))

    def path_name(self) -> str:
        token = self.take()
        if token.kind == "name":
            return self.placeholders.name(token.text, self.kind)
        if token.kind == "word":
            if token.text.upper() in RESERVED_WORDS:
                raise self.error(f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
            return token.text
        raise self._syntax(token.text, token.at)

    def literal(self) -> Literal:
        token = self.take()
        if token.kind != "value":
            raise self._syntax(token.text, token.at)
        return Literal(token.text, self.placeholders.value(token.text, self.kind))

    def call(self, allowed: dict[str, int]) -> Call:
        name = self.take().text
        known = {**CONDITION_FUNCTIONS, **UPDATE_FUNCTIONS, "size": 1}
        if name not in known:
            raise self.error(f"Invalid function name; function: {name}")
        if name not in allowed:
            if self.kind == "UpdateExpression":
                raise self.error(f"The function is not allowed in an update expression; function: {name}")
            raise self.error(
                f"The function is not allowed to be used this way in an expression; function: {name}"
            )
        self.expect("(")
        args = [self.argument()]
        while self.at_op(","):
            self.position += 1
            args.append(self.argument())
        self.expect(")")
        if len(args) != allowed[name]:
            raise self.error(
                f"Incorrect number of operands for operator or function; operator or function: {name}, "
                f"number of operands: {len(args)}"
            )
        call = Call(name, tuple(args))
        self.check_call(call)
        return call

    def argument(self) -> Operand:
        if self.kind == "UpdateExpression":
            return self.set_operand()
        return self.operand()

    def check_call(self, call: Call) -> None:
        first = call.args[0]
        if call.name not in ("list_append", "size") and not isinstance(first, Path):
            raise self.error(
                f"Operator or function requires a document path; operator or function: {call.name}"
            )
        if (
            call.name == "size"
            and isinstance(first, Literal)
            and type_of(first.value) in ("N", "BOOL", "NULL")
        ):
            raise self.error(
                "Incorrect operand type for operator or function; operator or function: size, "
                f"operand type: {type_of(first.value)}"
            )
        second = call.args[1] if len(call.args) > 1 else None
        if not isinstance(second, Literal):
            return
        kind = type_of(second.value)
        if call.name == "attribute_type" and (kind != "S" or second.value["S"] not in TYPE_NAMES):
            shown = second.value.get("S", kind)
            raise self.error(
                f"Invalid attribute type name found; type: {shown}, "
                "valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"
            )
        wanted = {"begins_with": ("S", "B"), "list_append": ("L",)}.get(call.name)
        if wanted is not None and kind not in wanted:
            raise self.error(
                f"Incorrect operand type for operator or function; operator or function: {call.name}, "
                f"operand type: {kind}"
            )

    def operand(self) -> Operand:
        token = self.peek()
        if token is not None and token.kind == "value":
            return self.literal()
        if self.at_call():
            return self.call({"size": 1})
        return self.path()

    # Conditions.

    def condition(self) -> Condition:
        left = self.conjunction()
        while self.at_word("OR"):
            self.position += 1
            left = Logical("OR", left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.at_word("AND"):
            self.position += 1
            left = Logical("AND", left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.at_word("NOT"):
            self.position += 1
            return Not(self.negation())
        return self.predicate()

    def predicate(self) -> Condition:
        if self.at_op("("):
            self.position += 1
            inner = self.condition()
            self.expect(")")
            return inner
        token = self.peek()
        if self.at_call() and token is not None and token.text in CONDITION_FUNCTIONS:
            return self.call(CONDITION_FUNCTIONS)
        subject = self.operand()
        if self.at_op(*COMPARATORS):
            op = self.take().text
            return Comparison(op, subject, self.operand())
        if self.at_word("BETWEEN"):
            self.position += 1
            low = self.operand()
            self.expect_word("AND")
            high = self.operand()
            self.check_bounds(low, high)
            return Between(subject, low, high)
        if self.at_word("IN"):
            self.position += 1
            self.expect("(")
            choices = [self.operand()]
            while self.at_op(","):
                self.position += 1
                choices.append(self.operand())
            self.expect(")")
            if len(choices) > 100:
                raise self.error("The IN operator is limited to 100 operands")
            return In(subject, tuple(choices))
        raise self.fail()

    def check_bounds(self, low: Operand, high: Operand) -> None:
        if isinstance(low, Literal) and isinstance(high, Literal):
            order = compare(low.value, high.value)
            if order is not None and order > 0:
                raise self.error(
                    "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
                    f"lower bound operand: AttributeValue: {low.value}, upper bound operand: AttributeValue: "
                    f"{high.value}"
                )

    # Update expressions.

    def update(self) -> list[Action]:
        actions: list[Action] = []
        seen: set[str] = set()
        while self.peek() is not None:
            token = self.take()
            clause = token.text.upper()
            if token.kind != "word" or clause not in CLAUSES:
                raise self._syntax(token.text, token.at)
            if clause in seen:
                raise self.error(f'The "{clause}" section can only be used once in an update expression;')
            seen.add(clause)
            while True:
                actions.append(self.action(clause))
                if not self.at_op(","):
                    break
                self.position += 1
        return actions

    def action(self, clause: str) -> Action:
        path = self.path()
        if clause == "SET":
            self.expect("=")
            return Action(clause, path, self.set_value())
        if clause == "REMOVE":
            return Action(clause, path, None)
        value = self.literal()
        kind = type_of(value.value)
        if kind not in SET_ELEMENT and (clause == "DELETE" or kind != "N"):
            raise self.error(
                f"Incorrect operand type for operator or function; operator: {clause}, operand type: {kind}"
            )
        return Action(clause, path, value)

    def set_value(self) -> Operand:
        left = self.set_operand()
        if self.at_op("+", "-"):
            op = self.take().text
            return Arithmetic(op, left, self.set_operand())
        return left

    def set_operand(self) -> Operand:
        token = self.peek()
        if token is not None and token.kind == "value":
            return self.literal()
        if self.at_call():
            return self.call(UPDATE_FUNCTIONS)
        return self.path()

    # Projections.

    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self.at_op(","):
            self.position += 1
            paths.append(self.path())
        return paths


def parse_condition(text: object, kind: str, placeholders: Placeholders) -> Condition:
    """A ConditionExpression, FilterExpression or KeyConditionExpression (``kind`` names it in errors)."""
    parser = _Parser(text, kind, placeholders)
    condition = parser.condition()
    parser.finish()
    return condition


def parse_update(text: object, placeholders: Placeholders) -> list[Action]:
    parser = _Parser(text, "UpdateExpression", placeholders)
    actions = parser.update()
    check_overlaps([action.path for action in actions], "UpdateExpression")
    return actions


def parse_projection(text: object, placeholders: Placeholders) -> list[Path]:
    parser = _Parser(text, "ProjectionExpression", placeholders)
    paths = parser.projection()
    parser.finish()
    check_overlaps(paths, "ProjectionExpression")
    return paths
