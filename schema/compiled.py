"""Compiled execution of plain fields: graphql-core's executor, with the fields that are only
an attribute read completed from a plan instead of its per-field machinery.

A field is plain when strawberry resolves it by reading the attribute (no resolver, no field
extension, no permission class, no exception handler: strawberry's `_get_basic_result`), it
takes no arguments, and its type is a scalar, an enum, or an object (or a list of these, at
any depth) whose selected fields are all plain; `__typename` is plain too. For each selection
the executor meets (graphql-core has already collected it: aliases, fragments, `@skip` and
`@include` applied) a plan is computed once per request and reused for every object of a
list; a plain field then costs one `getattr` and the type's `coerce_output_value`, with no
`Path`, no `GraphQLResolveInfo`, no middleware and no awaitable checks on the result.

Exactness comes from falling back: when a plain field meets anything that is not the
ordinary case (None where the type is non-null, a value that is an exception, awaitable or
not a list where a list is expected, an exception from the read or the coercion, an object
whose `is_type_of` refuses it), the whole field is executed again by graphql-core's own
`execute_field`, which gives the same value, error message, path and null propagation as
before. Reading an attribute twice is harmless: plain fields are data, not computations.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from enum import EnumMeta
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType

# A plan: one entry per response field, in the collected order; `read` is None when the
# field goes through graphql-core's `execute_field`.
Read = Callable[[Any], Any]
Plan = tuple[tuple[str, FieldDetailsList, Read | None], ...]

STRAWBERRY_DEFINITION = "strawberry-definition"


class Unusual(Exception):
    """Not the ordinary case: graphql-core executes the field instead."""


# Whether values of a type are ordinary data: not an exception (graphql-core raises those),
# not awaitable, not a generator. Decided once per type.
_ordinary_types: dict[type, bool] = {}


def _is_ordinary(value: Any) -> bool:
    kind = type(value)
    ordinary = _ordinary_types.get(kind)
    if ordinary is None:
        ordinary = not (
            issubclass(kind, (BaseException, CoroutineType, GeneratorType))
            or hasattr(kind, "__await__")
        )
        _ordinary_types[kind] = ordinary
    return ordinary


def _strawberry_is_type_of(is_type_of: Any) -> bool:
    """strawberry's generated `is_type_of` ignores its `info` argument; a hand-written one
    might not, so objects that have one are not plain."""
    return getattr(is_type_of, "__qualname__", "").startswith("GraphQLCoreConverter.")


def _is_plain_field(field: GraphQLField, first: Any) -> bool:
    resolve = field.resolve
    if resolve is None or getattr(resolve, "__name__", "") != "_get_basic_result":
        return False
    definition = (field.extensions or {}).get(STRAWBERRY_DEFINITION)
    return (
        definition is not None
        and definition.default_resolver is getattr
        and not field.args
        and not first.node.arguments
    )


def _fast_coercion(leaf: Any) -> Callable[[Any], Any]:
    """The leaf type's `coerce_output_value`; for strawberry's enums, the same answer from a
    table of the enum's members (strawberry's own scans the enum's values for each one)."""
    coerce: Callable[[Any], Any] = leaf.coerce_output_value
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, CustomGraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return coerce
    names: dict[Any, Any] = {}
    for member in list(wrapped):  # type: ignore[var-annotated]
        with contextlib.suppress(Exception):  # not exposed: coerced (and refused) as before
            names[member] = coerce(member)

    def coerce_member(value: Any) -> Any:
        if type(value) is wrapped and value in names:
            return names[value]
        return coerce(value)

    return coerce_member


class CompiledExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor with plain fields completed from a plan (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # a schema extension with a `resolve` hook must see every field: then nothing is plain
        self.compiles = manager is None or not manager.middlewares
        # keyed like graphql-core's collect_subfields memo: by the identity of the grouped
        # field set, which is kept alive with the plan so that its id is not reused
        self.plans: dict[int, tuple[GroupedFieldSet, Plan | None]] = {}
        self.completers: dict[tuple[Any, int], tuple[FieldDetailsList, Read | None]] = {}

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """The response, once everything has run; then the executor lets go of its plans.
        They are closures over it, and graphql-core's helpers are bound methods of it: the
        executor is a reference cycle that waits for the garbage collector, which should find
        only the executor then, not every plan and object its plans reached."""
        response = super().build_response(data)
        self.plans.clear()
        self.completers.clear()
        self._relevant_sub_fields.clear()
        return response

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if position_context is not None or not self.compiles:  # @defer / @stream at work
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plan = self.plan(parent_type, grouped_field_set)
        if plan is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        # graphql-core's execute_fields, with the plain fields read from the plan
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, read in plan:
                if read is not None:
                    try:
                        results[response_name] = read(source_value)
                        continue
                    except Exception:  # noqa: S110 - graphql-core does it again, exactly
                        pass
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def complete_value(  # noqa: PLR0917 - graphql-core's signature
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A value of a plain type (a page of plain objects a resolver returned) from the
        plan; anything else, or anything unusual, as graphql-core completes it."""
        if position_context is None and self.compiles:
            key = (return_type, id(field_details_list))
            cached = self.completers.get(key)
            if cached is None:
                cached = (field_details_list, self.completer(return_type, field_details_list))
                self.completers[key] = cached
            complete = cached[1]
            if complete is not None:
                try:
                    return complete(result)
                except Exception:  # noqa: S110 - graphql-core does it again, exactly
                    pass
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> Plan | None:
        """The plan of a selection on a type, or None when none of its fields is plain."""
        key = id(grouped)
        cached = self.plans.get(key)
        if cached is not None:
            return cached[1]
        entries = []
        any_plain = False
        for response_name, field_details_list in grouped.items():
            read = self.field_reader(parent_type, field_details_list)
            any_plain = any_plain or read is not None
            entries.append((response_name, field_details_list, read))
        plan = tuple(entries) if any_plain else None
        self.plans[key] = (grouped, plan)
        return plan

    def field_reader(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Read | None:
        """How to complete a plain field from its parent object, or None if it is not plain."""
        first = field_details_list[0]
        name = first.node.name.value
        if name == "__typename":
            typename = parent_type.name
            return lambda _source: typename
        field = parent_type.fields.get(name)
        if field is None or not _is_plain_field(field, first):
            return None
        attribute = field.extensions[STRAWBERRY_DEFINITION].python_name
        non_null = isinstance(field.type, GraphQLNonNull)
        inner: Any = field.type.of_type if non_null else field.type
        if is_leaf_type(inner):  # the most common field, in one function
            coerce = _fast_coercion(inner)
            ordinary_types = _ordinary_types

            def read_leaf(source: Any) -> Any:
                value = getattr(source, attribute)
                if value is None:
                    if non_null:
                        raise Unusual
                    return None
                if ordinary_types.get(type(value)) is not True and not _is_ordinary(value):
                    raise Unusual
                coerced = coerce(value)
                if coerced is None or coerced is Undefined:
                    raise Unusual
                return coerced

            return read_leaf
        complete = self.completer(field.type, field_details_list)
        if complete is None:
            return None

        def read(source: Any) -> Any:
            return complete(getattr(source, attribute))

        return read

    def completer(
        self, type_: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Read | None:
        """graphql-core's complete_value for a value of a plain type, raising Unusual where
        graphql-core would do anything but return the ordinary value; None if not plain."""
        non_null = isinstance(type_, GraphQLNonNull)
        inner: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if is_leaf_type(inner):
            coerce = _fast_coercion(inner)

            def complete(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise Unusual
                    return None
                if not _is_ordinary(value):
                    raise Unusual
                coerced = coerce(value)
                if coerced is None or coerced is Undefined:
                    raise Unusual
                return coerced

            return complete
        if isinstance(inner, GraphQLList):
            complete_item = self.completer(inner.of_type, field_details_list)
            if complete_item is None:
                return None

            def complete_list(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise Unusual
                    return None
                if type(value) is not list and type(value) is not tuple:
                    raise Unusual
                return [complete_item(item) for item in value]

            return complete_list
        if isinstance(inner, GraphQLObjectType):
            return self.object_completer(inner, field_details_list, non_null)
        return None  # interfaces and unions: graphql-core resolves the type

    def object_completer(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList, non_null: bool
    ) -> Read | None:
        is_type_of: Any = object_type.is_type_of
        if is_type_of is not None and not _strawberry_is_type_of(is_type_of):
            return None
        grouped, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages:
            return None
        plan = self.plan(object_type, grouped)
        if plan is None or any(read is None for _, _, read in plan):
            return None
        reads: tuple[tuple[str, Read], ...] = tuple(
            (response_name, read) for response_name, _, read in plan if read is not None
        )

        def complete(value: Any) -> Any:
            if value is None:
                if non_null:
                    raise Unusual
                return None
            if not _is_ordinary(value):
                raise Unusual
            if is_type_of is not None and not is_type_of(value, None):
                raise Unusual
            return {response_name: read(value) for response_name, read in reads}

        return complete
