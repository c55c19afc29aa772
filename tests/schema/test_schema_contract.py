"""The schema as a contract: committed SDL, descriptions everywhere, every error mapped."""

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)
from strawberry.printer import print_schema

from billing import errors as domain
from schema.build import schema, schema_sdl
from schema.errors import ERROR_TYPES, user_error

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_graphql_is_current() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema_sdl(), "schema.graphql is stale: run `make schema` and commit it"
    assert print_schema(schema) in committed


def test_the_committed_file_has_no_subscription_root() -> None:
    """Read as tools read it (graphql-core's `build_schema`, like graphql-js's), the file
    has our two roots, and the object type named Subscription is just an object type."""
    built = build_schema((ROOT / "schema.graphql").read_text())
    assert built.query_type is not None
    assert built.mutation_type is not None
    assert (built.query_type.name, built.mutation_type.name) == ("Query", "Mutation")
    assert built.subscription_type is None
    assert "Subscription" in built.type_map


def test_every_type_field_and_argument_is_described() -> None:
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__"):
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(
            graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(graphql_type, GraphQLEnumType) and name not in {"ErrorCode"}:
            assert graphql_type.values
    assert missing == []


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_billing_error_maps_to_a_schema_type() -> None:
    subclasses = _subclasses(domain.BillingError)
    assert subclasses == set(ERROR_TYPES)
    problem = domain.RecordProblem(3, "role", domain.ErrorCode.UNKNOWN_VALUE, "bad role")
    for cls in subclasses:
        if issubclass(cls, domain.InvalidBatchError):
            error = user_error(cls([problem]))
            assert error.problems[0].index == 3  # type: ignore[attr-defined]
        else:
            error = user_error(cls(domain.ErrorCode.INVALID_ID, "message", "field"))
            assert (error.message, error.field) == ("message", "field")
        assert isinstance(error, ERROR_TYPES[cls])


def test_every_error_type_is_reachable_in_the_schema() -> None:
    sdl = print_schema(schema)
    for error_type in ERROR_TYPES.values():
        name = error_type.__strawberry_definition__.name  # type: ignore[attr-defined]
        assert f"type {name} implements UserError" in sdl
