"""Queries that reach the demo data: a root field with arguments that find rows, then random
selections over the whole type graph below it (every object, interface and union type, with
fragments on the possible types). test_fuzz's documents are mostly refused before anything
runs; these mostly run, so that execution itself is what gets compared."""

from __future__ import annotations

import base64
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)
from hypothesis import strategies as st

from tests.helpers import drawn

MAX_DEPTH = 5


def _id(kind: str, number: int) -> str:
    return '"' + base64.b64encode(f"{kind}:{number}".encode()).decode() + '"'


IDS = [_id(kind, number) for kind in ("Customer", "Subscription") for number in (1, 2, 3)] + [
    _id(kind, number)
    for kind in ("Invoice", "Plan", "User", "Namespace", "License", "Instance", "AddOn")
    for number in (1, 2, 4)
]
PATHS = ('"acme"', '"acme-labs"', '"globex"', '"hobby-project"')
ROOTS = (
    *("plans", 'plans(currency: "USD")', "addOns", 'addOns(currency: "EUR")', "viewer"),
    *("customers(first: 10)", "auditEvents(first: 10)", "analytics"),
    *(f"namespace(path: {path})" for path in PATHS),
    *(f"node(id: {id_})" for id_ in IDS),
    *(
        f"{field}(id: {_id(field.title(), n)})"
        for field in ("customer", "subscription")
        for n in (1, 2, 3)
    ),
    *(f"instance(id: {_id('Instance', n)})" for n in (1, 2)),
    f"nodes(ids: [{', '.join(IDS)}])",
    f"licenseFile(subscriptionId: {_id('Subscription', 1)})",
)
# values for the arguments that nested fields require
KNOWN = {
    "Date": ('"2025-01-01"', '"2026-03-15"', '"2026-12-31"'),
    "String": ('"ada"', '"ben"', '"renovate-bot"', '"nobody"', '"USD"'),
    "Int": ("1", "3", "20"),
    "ID": tuple(IDS),
}


def _argument_value(draw: Any, type_: Any) -> str | None:
    """A literal for an argument of this type, or None when there is none to give."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        item = _argument_value(draw, inner.of_type)
        return None if item is None else f"[{item}]"
    if isinstance(inner, GraphQLEnumType):
        return str(draw(st.sampled_from(sorted(inner.values))))
    if isinstance(inner, GraphQLInputObjectType):
        return None
    known = KNOWN.get(inner.name)
    return None if known is None else str(draw(st.sampled_from(known)))


def _arguments(draw: Any, field: GraphQLField) -> str | None:
    """The field's required arguments and, at times, its optional ones; None if a required
    one cannot be given."""
    given_ = []
    for name, argument in field.args.items():
        required = isinstance(argument.type, GraphQLNonNull)
        if not required and (name == "after" or not draw(st.booleans())):
            continue
        value = _argument_value(draw, argument.type)
        if value is None:
            if required:
                return None
            continue
        given_.append(f"{name}: {value}")
    return f"({', '.join(given_)})" if given_ else ""


def _selection(draw: Any, schema: GraphQLSchema, type_: Any, depth: int) -> str:
    if isinstance(type_, GraphQLUnionType):
        possible = list(type_.types)
        fragments = draw(st.lists(st.sampled_from(possible), unique=True, max_size=3))
        parts = ["__typename"] + [
            f"... on {kind.name} {_selection(draw, schema, kind, depth)}" for kind in fragments
        ]
        return "{ " + " ".join(parts) + " }"
    fields = type_.fields
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, min_size=1, max_size=8))
    parts = []
    for name in chosen:
        field = fields[name]
        arguments = _arguments(draw, field)
        if arguments is None:
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(f"{name}{arguments}")
        elif depth < MAX_DEPTH:
            parts.append(f"{name}{arguments} {_selection(draw, schema, named, depth + 1)}")
    if isinstance(type_, GraphQLInterfaceType):
        for kind in draw(st.lists(st.sampled_from(schema.get_possible_types(type_)), max_size=2)):
            parts.append(f"... on {kind.name} {_selection(draw, schema, kind, depth)}")
    return "{ " + (" ".join(parts) or "__typename") + " }"


@st.composite
def reaching_query(draw: Any, schema: GraphQLSchema) -> str:
    query = schema.query_type
    assert isinstance(query, GraphQLObjectType)
    roots = draw(st.lists(st.sampled_from(ROOTS), unique=True, min_size=1, max_size=2))
    parts = []
    for root in roots:
        field = query.fields[root.split("(")[0]]
        named = get_named_type(field.type)
        body = "" if is_leaf_type(named) else " " + _selection(draw, schema, named, 1)
        alias = f"r{len(parts)}: " if len(roots) > 1 else ""
        parts.append(f"{alias}{root}{body}")
    return "{ " + " ".join(parts) + " }"


def reaching_queries(schema: GraphQLSchema, role_seed: int, count: int) -> list[str]:
    """`count` queries, the same ones on every run for one seed."""
    return drawn(reaching_query(schema), role_seed, count)
