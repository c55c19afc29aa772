"""Compiled execution of plain fields answers exactly as graphql-core's ordinary execution:
documents generated over the whole schema (test_fuzz's, then given aliases, repeated fields,
`__typename`, inline and named fragments, `@skip` / `@include` with literals and variables) go
through the real app twice, on two databases holding the same demo data and the same history,
once with schema.compiled's executor and once with strawberry's own; the responses must be the
same bytes, the `extensions` block (timings, cost) apart."""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import graphql
import pytest
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.settings import Settings
from schema.build import schema
from schema.compiled import CompiledExecutionContext
from tests.conftest import FixedClock
from tests.schema.selections import reaching_queries
from tests.schema.test_fuzz import ROLES, Stage, documents

# documents per role: queries that reach the data, and test_fuzz's (mostly refused before
# execution, but with the mutations); COMPILED_PER_ROLE=1000 for a longer run by hand
PER_ROLE = int(os.environ.get("COMPILED_PER_ROLE", "80"))
FUZZ_PER_ROLE = PER_ROLE // 4
VARIABLES = {"yes": True, "no": False}


def _name(value: str) -> NameNode:
    return NameNode(value=value)


def _condition(rng: random.Random, used: set[str]) -> DirectiveNode:
    """`@include` or `@skip`, on a literal or on one of the variables `$yes` / `$no`."""
    value: Any
    if rng.random() < 0.5:
        value = BooleanValueNode(value=rng.random() < 0.5)
    else:
        variable = rng.choice(("yes", "no"))
        used.add(variable)
        value = VariableNode(name=_name(variable))
    directive = rng.choice(("include", "skip"))
    return DirectiveNode(
        name=_name(directive), arguments=(ArgumentNode(name=_name("if"), value=value),)
    )


class Decorate(Visitor):
    """Rewrites every selection set of a document with the shapes graphql-core must collect:
    aliases, repeated fields, `__typename`, conditions, inline and named fragments."""

    def __init__(self, rng: random.Random, type_info: TypeInfo) -> None:
        super().__init__()
        self.rng, self.type_info = rng, type_info
        self.fragments: list[FragmentDefinitionNode] = []
        self.used: set[str] = set()

    def leave_selection_set(self, node: SelectionSetNode, *_: Any) -> SelectionSetNode:
        rng, parent = self.rng, self.type_info.get_parent_type()
        selections: list[Any] = []
        for selection in node.selections:
            if isinstance(selection, FieldNode) and rng.random() < 0.1:
                alias = f"a{len(self.fragments)}{rng.randrange(1000)}_{selection.name.value}"
                selection = FieldNode(  # noqa: PLW2901
                    alias=_name(alias),
                    name=selection.name,
                    arguments=selection.arguments,
                    directives=selection.directives,
                    selection_set=selection.selection_set,
                )
            if rng.random() < 0.15:
                selection = InlineFragmentNode(  # noqa: PLW2901
                    directives=(_condition(rng, self.used),),
                    selection_set=SelectionSetNode(selections=(selection,)),
                )
            selections.append(selection)
            if rng.random() < 0.15:  # the same field again: merged into one response key
                selections.append(selection)
        if rng.random() < 0.3:
            selections.insert(
                rng.randrange(len(selections) + 1), FieldNode(name=_name("__typename"))
            )
        if parent is not None and len(selections) > 1 and rng.random() < 0.3:
            cut = rng.randrange(1, len(selections))
            inner = SelectionSetNode(selections=tuple(selections[cut:]))
            condition = NamedTypeNode(name=_name(parent.name))
            if rng.random() < 0.5:
                selections[cut:] = [
                    InlineFragmentNode(type_condition=condition, selection_set=inner)
                ]
            else:
                name = f"F{len(self.fragments)}"
                self.fragments.append(
                    FragmentDefinitionNode(
                        name=_name(name), type_condition=condition, selection_set=inner
                    )
                )
                selections[cut:] = [FragmentSpreadNode(name=_name(name))]
        return SelectionSetNode(selections=tuple(selections))


def decorate(document: str, rng: random.Random) -> str:
    """The document with its selections decorated, or as it was when it does not parse."""
    try:
        parsed = graphql.parse(document)
    except graphql.GraphQLError:
        return document
    definitions: list[Any] = []
    for definition in parsed.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            definitions.append(definition)
            continue
        type_info = TypeInfo(schema._schema)
        decorator = Decorate(rng, type_info)
        operation = graphql.visit(definition, TypeInfoVisitor(type_info, decorator))
        boolean = NonNullTypeNode(type=NamedTypeNode(name=_name("Boolean")))
        operation = dataclasses.replace(
            operation,
            variable_definitions=(
                *(operation.variable_definitions or ()),
                *(
                    VariableDefinitionNode(variable=VariableNode(name=_name(name)), type=boolean)
                    for name in sorted(decorator.used)
                ),
            ),
        )
        definitions += [operation, *decorator.fragments]
    return graphql.print_ast(graphql.DocumentNode(definitions=tuple(definitions)))


@contextmanager
def ordinary_execution() -> Iterator[None]:
    """strawberry's own executor for what runs inside (one request at a time)."""
    assert schema.execution_context_class is CompiledExecutionContext
    schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        yield
    finally:
        schema.execution_context_class = CompiledExecutionContext


def _answer(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text}"
    if isinstance(body, dict):
        body.pop("extensions", None)
        # when several fields fail at once and null the same parent, graphql-core answers the
        # error of the first to fail, which depends on which statement returns first, not on
        # the executor: list indices are not compared, nor, when the whole answer is null,
        # which error it was
        for error in body.get("errors") or []:
            if isinstance(error.get("path"), list):
                error["path"] = ["#" if isinstance(p, int) else p for p in error["path"]]
        if "data" in body and body["data"] is None and body.get("errors"):
            body["errors"] = "a root field failed"
    return f"{response.status_code} {json.dumps(body, ensure_ascii=False)}"


@pytest.mark.parametrize("role", ROLES)
async def test_compiled_execution_answers_as_graphql_core(
    role: str,
    make_database: Callable[..., Any],
    settings: Settings,
    clock: FixedClock,
    token: Callable[..., str],
) -> None:
    rng = random.Random(ROLES.index(role))
    generated = [
        *reaching_queries(schema._schema, ROLES.index(role), PER_ROLE),
        *documents(100 + ROLES.index(role), FUZZ_PER_ROLE),
    ]
    different, with_data = [], 0
    async with (
        Stage(await make_database(), settings, clock) as compiled,
        Stage(await make_database(), settings, clock) as ordinary,
    ):
        assert compiled.customer_id == ordinary.customer_id
        headers = {}
        if role != "anonymous":
            customer = compiled.customer_id if role == "customer" else None
            headers["Authorization"] = f"Bearer {token(role, customer)}"
        for number, document in enumerate(decorate(text, rng) for text in generated):
            body = {"query": document, "variables": VARIABLES}
            headers["X-Request-Id"] = f"compiled-{role}-{number}"
            answer = _answer(await compiled.client.post("/graphql", json=body, headers=headers))
            with ordinary_execution():
                expected = _answer(
                    await ordinary.client.post("/graphql", json=body, headers=headers)
                )
            with_data += answer.startswith('200 {"data": {')
            if answer != expected:
                different.append(f"{document}\n compiled: {answer}\n ordinary: {expected}")
    # most documents must run, not stop at validation, for the comparison to mean anything
    assert with_data >= len(generated) // 3, f"only {with_data} of {len(generated)} ran"
    assert not different, f"{len(different)} documents answered differently:\n" + "\n\n".join(
        different[:5]
    )
