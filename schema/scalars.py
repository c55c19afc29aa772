"""Scalars that refuse what they cannot carry exactly: `Long` takes whole numbers only, and
`Date` / `DateTime` only days from 1900-01-01 to 2999-12-31, so that adding a term or a month
to any date a caller sends stays within what Python and PostgreSQL represent."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, NewType

import strawberry
from graphql import GraphQLError, IntValueNode, ValueNode, print_ast
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

Long = NewType("Long", int)
MAX_LONG = 2**53 - 1  # the largest whole number a JSON number carries exactly
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2999, 12, 31)


def parse_long(value: object) -> int:
    """A whole number within +-(2^53 - 1). `true`, "5" and 1.9 are refused, never truncated
    (int() would make them 1, 5 and 1); 5.0 is the number 5 in JSON and is taken."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise GraphQLError(f"Long cannot represent a non-integer value: {value!r}.")
    if not -MAX_LONG <= value <= MAX_LONG:
        raise GraphQLError(f"Long cannot represent {value}: beyond +-(2^53 - 1).")
    return value


def parse_long_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
    """Literals: only an integer literal (`1.9`, `true`, `"5"` are refused in validation)."""
    if not isinstance(node, IntValueNode):
        raise GraphQLError(f"Long cannot represent a non-integer value: {print_ast(node)}.", node)
    return parse_long(int(node.value))


LONG_SCALAR = strawberry.scalar(
    name="Long",
    description="A whole number beyond GraphQL's 32-bit Int, sent as a JSON number, from "
    "-(2^53 - 1) to 2^53 - 1 (exact). Fractions, booleans and strings are refused.",
    serialize=int,
    parse_value=parse_long,
    parse_literal=parse_long_literal,
)


def _in_range(name: str, parse: Callable[[object], Any]) -> Callable[[object], Any]:
    def parse_in_range(value: object) -> Any:
        parsed = parse(value)
        day = parsed.date() if isinstance(parsed, datetime.datetime) else parsed
        if not EARLIEST <= day <= LATEST:
            raise GraphQLError(f"{name} must be between {EARLIEST} and {LATEST}: {value!r}.")
        return parsed

    return parse_in_range


DATE_SCALAR = ScalarDefinition(
    name="Date",
    description=f"A day in ISO 8601, e.g. 2026-03-15; from {EARLIEST} to {LATEST}.",
    specified_by_url=None,
    serialize=DateDefinition.serialize,
    parse_value=_in_range("Date", DateDefinition.parse_value),  # type: ignore[arg-type]
    parse_literal=None,
    origin=datetime.date,
)
DATETIME_SCALAR = ScalarDefinition(
    name="DateTime",
    description="A moment in ISO 8601, e.g. 2026-03-15T09:30:00Z; its day from "
    f"{EARLIEST} to {LATEST}.",
    specified_by_url=None,
    serialize=DateTimeDefinition.serialize,
    parse_value=_in_range("DateTime", DateTimeDefinition.parse_value),  # type: ignore[arg-type]
    parse_literal=None,
    origin=datetime.datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    Long: LONG_SCALAR,
    datetime.date: DATE_SCALAR,
    datetime.datetime: DATETIME_SCALAR,
}
