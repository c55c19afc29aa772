"""The cases where compiled execution could part from graphql-core's, each run through a small
schema twice (schema.compiled's executor, then strawberry's own) and compared as JSON: the
data, and the errors with their messages, locations and paths."""

from __future__ import annotations

import asyncio
import datetime
import enum
import json
from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.compiled import CompiledExecutionContext
from schema.scalars import SCALAR_MAP, Long


@strawberry.enum
class Role(enum.Enum):
    GUEST = "guest"
    OWNER = "owner"


@strawberry.interface
class Named:
    name: str | None


@strawberry.type
class Group(Named):
    path: str
    tags: list[str | None]
    grid: list[list[int]]


@strawberry.type
class Member:
    id: strawberry.ID
    name: str
    email: str | None
    role: Role
    usage: Long
    joined_on: datetime.date
    seen_at: datetime.datetime | None
    settings: JSON
    group: Group
    groups: list[Group] | None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return f"later {self.name}"


class ExplodingGroup(Group):
    """A group whose `tags` raise when read."""

    @property  # type: ignore[override]
    def tags(self) -> list[str | None]:
        raise ValueError("no tags today")


def _exploding_group() -> ExplodingGroup:
    group = object.__new__(ExplodingGroup)
    group.__dict__.update(name="Boom", path="boom", grid=[[1]])
    return group


class Ready:
    """An awaitable that is not a coroutine: graphql-core awaits what a field returns."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Iterator[Any]:
        yield from asyncio.sleep(0).__await__()
        return self.value


def _group(path_: str, **changes: Any) -> Group:
    fields: dict[str, Any] = {"name": path_.title(), "path": path_, "tags": ["a", None]}
    fields["grid"] = [[1, 2], [3]]
    return Group(**{**fields, **changes})


def _member(number: int, **changes: Any) -> Member:
    fields: dict[str, Any] = {
        "id": strawberry.ID(str(number)),
        "name": f"user{number}",
        "email": None if number % 2 else f"u{number}@example.com",
        "role": Role.OWNER if number % 3 == 0 else Role.GUEST,
        "usage": Long(2**53 - number),
        "joined_on": datetime.date(2026, 3, 1 + number),
        "seen_at": datetime.datetime(2026, 3, 1, number, tzinfo=datetime.UTC),
        "settings": {"theme": "dark", "n": [number, None, 1.5]},
        "group": _group("acme"),
        "groups": [_group("acme"), _group("globex")],
    }
    return Member(**{**fields, **changes})


PAGES: dict[str, list[Any]] = {
    "fine": [_member(number) for number in range(4)],
    # a None in non-null fields, at several depths
    "null name": [_member(0), _member(1, name=None), _member(2)],
    "null in group": [_member(0), _member(1, group=_group("x", path=None))],
    "null in list": [_member(0, groups=[_group("a"), None])],
    "null in grid": [_member(0, group=_group("a", grid=[[1, None]]))],
    # values graphql-core refuses, or awaits
    "bad enum": [_member(0), _member(1, role="nope")],
    "bad int": [_member(0, group=_group("a", grid=[["x"]]))],
    "not a list": [_member(0, groups=_group("a"))],
    "exception value": [_member(0, email=ValueError("an exception as a value"))],
    "raising attribute": [_member(0, group=_exploding_group())],
    "awaitable": [_member(0, email=Ready("awaited@example.com")), _member(1, name=Ready("x"))],
    "wrong type": [_member(0, group="not a group")],
}


@strawberry.type
class Query:
    @strawberry.field
    def page(self, kind: str = "fine") -> list[Member] | None:
        return PAGES[kind]

    @strawberry.field
    def strict(self, kind: str = "fine") -> list[Member]:
        return PAGES[kind]

    @strawberry.field
    def named(self) -> list[Named]:
        return [_group("acme")]


class Middleware(SchemaExtension):
    """A `resolve` hook that changes strings: it must see plain fields too."""

    def resolve(self, next_: Any, root: Any, info: Any, **kwargs: Any) -> Any:
        value = next_(root, info, **kwargs)
        return value.upper() if isinstance(value, str) else value


def _schema(context_class: type, extensions: tuple[Any, ...] = ()) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        types=[Group],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=context_class,
        extensions=list(extensions),
    )


COMPILED = _schema(CompiledExecutionContext)
ORDINARY = _schema(StrawberryGraphQLCoreExecutionContext)
ALL = """id name email role usage joinedOn seenAt settings
  group { name path tags grid } groups { path tags }"""


async def _answer(schema: strawberry.Schema, document: str, variables: Any = None) -> str:
    result = await schema.execute(document, variable_values=variables)
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors})


async def _same(document: str, variables: Any = None) -> dict[str, Any]:
    compiled = await _answer(COMPILED, document, variables)
    assert compiled == await _answer(ORDINARY, document, variables)
    answer: dict[str, Any] = json.loads(compiled)
    return answer


@pytest.mark.parametrize("kind", sorted(PAGES))
@pytest.mark.parametrize("root", ["page", "strict"])
async def test_every_value_completes_as_graphql_core(kind: str, root: str) -> None:
    await _same(f'{{ {root}(kind: "{kind}") {{ {ALL} }} }}')


async def test_errors_keep_their_message_and_path() -> None:
    answer = await _same('{ page(kind: "null in group") { name group { path } } }')
    assert answer["data"] == {"page": None}
    [error] = answer["errors"]
    assert error["message"] == "Cannot return null for non-nullable field Group.path."
    assert error["path"] == ["page", 1, "group", "path"]


async def test_custom_scalars_and_enums_serialize_as_graphql_core() -> None:
    answer = await _same("{ page { id role usage joinedOn seenAt settings } }")
    assert answer["data"]["page"][0] == {
        "id": "0",
        "role": "OWNER",
        "usage": 2**53,
        "joinedOn": "2026-03-01",
        "seenAt": "2026-03-01T00:00:00+00:00",
        "settings": {"theme": "dark", "n": [0, None, 1.5]},
    }


@pytest.mark.parametrize(
    "document",
    [
        "{ page { a: name name b: name name } }",
        "{ __typename page { __typename t: __typename group { __typename } } }",
        "{ page { ... on Member { name } ...M ... { email } } } fragment M on Member { role }",
        "{ page { name ... on Member { group { path } } group { name } } }",
        "{ page { name @skip(if: true) email @include(if: false) role @include(if: true) } }",
        "query($y: Boolean!, $n: Boolean!) { page { name @include(if: $y) email @skip(if: $y)"
        " ... @include(if: $n) { role } group @skip(if: $n) { path @include(if: $n) } } }",
        "{ page { group { name @skip(if: true) } } }",
        "{ page { name shout later email } }",
        "{ named { __typename name ... on Group { path } } }",
    ],
)
async def test_document_shapes_complete_as_graphql_core(document: str) -> None:
    await _same(document, {"y": True, "n": False})


async def test_plain_fields_skip_graphql_core_per_field_machinery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executed: list[str] = []
    original = CompiledExecutionContext.execute_field

    def execute_field(self: Any, parent_type: Any, *args: Any) -> Any:
        executed.append(parent_type.name)
        return original(self, parent_type, *args)

    monkeypatch.setattr(CompiledExecutionContext, "execute_field", execute_field)
    await _same(f"{{ page {{ {ALL} }} }}")
    assert executed == ["Query"]  # only the root field, which has a resolver
    executed.clear()
    await _same("{ page { name shout } }")
    assert executed == ["Query"] + ["Member"] * len(PAGES["fine"])  # `shout` has one


async def test_a_resolve_hook_sees_every_field() -> None:
    compiled = _schema(CompiledExecutionContext, (Middleware,))
    ordinary = _schema(StrawberryGraphQLCoreExecutionContext, (Middleware,))
    document = "{ page { name group { path } } }"
    answer = await _answer(compiled, document)
    assert answer == await _answer(ordinary, document)
    assert '"name": "USER0"' in answer


def test_enum_values_are_coerced_as_strawberry_coerces_them() -> None:
    """The compiled path's table of enum members gives strawberry's answer for every member
    of every enum of the schema, and defers to it for anything else (a raw value)."""
    from strawberry.schema.schema_converter import CustomGraphQLEnumType

    from schema.build import schema as built
    from schema.compiled import _fast_coercion

    types = [t for t in built._schema.type_map.values() if isinstance(t, CustomGraphQLEnumType)]
    assert len(types) > 10
    for graphql_enum in types:
        fast = _fast_coercion(graphql_enum)
        assert fast is not graphql_enum.coerce_output_value
        for member in graphql_enum.wrapped_cls:
            coerced = graphql_enum.coerce_output_value(member)
            assert fast(member) == coerced
            assert fast(member.value) == graphql_enum.coerce_output_value(member.value)
