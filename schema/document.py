"""Limits on the shape and cost of a GraphQL document, in time bounded by a budget.

graphql-core and strawberry walk a fragment again at every spread (depth, aliases) and compare
every pair of fields that merge into one response key (overlapping fields), so a small
document can keep a server busy for seconds. Here the document is walked the way it executes:
fields with one response key at one place merge, a fragment spread twice into one selection
counts once, and every field reached counts against `limits.fields`, so the walk stops early
on a document that expands without bound. Within that budget it measures each operation's
depth, aliases, the most fields merging into one key (what graphql-core compares pairwise)
and its cost. Nothing here recurses, so no chain of fragments can exhaust the stack.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_composite_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from resolvers.limits import Limits

# What a list holds when the query does not say: a connection's page is `first` (20 when not
# given), `nodes(ids:)` as many as the ids; these plain lists as many as their arguments allow;
# any other plain list is assumed to hold ASSUMED_LIST_SIZE.
DEFAULT_FIRST = 20
ASSUMED_LIST_SIZE = 10
LIST_SIZES: dict[tuple[str, str], int] = {
    ("Namespace", "seatUsageHistory"): 366,  # days: ranges are capped at 366
    ("UsageReport", "periods"): 366,  # days, or up to 120 months
    ("MembersChangePreview", "people"): 1000,  # a preview names at most 1000 people
}


@cache
def introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    """Introspection's lists as long as this schema makes them on average (rounded up), so
    that `__schema { types { fields { args } } }` costs about what it returns."""
    types = list(schema.type_map.values())

    def mean(counts: list[int]) -> int:  # over all types: most have no fields or values
        return -(-sum(counts) // len(types))

    fields = [t.fields for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    field_args = [len(f.args) for type_fields in fields for f in type_fields.values()]
    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(schema.directives),
        ("__Type", "fields"): mean([len(f) for f in fields]),
        ("__Type", "inputFields"): mean(
            [len(t.fields) for t in types if isinstance(t, GraphQLInputObjectType)]
        ),
        ("__Type", "enumValues"): mean(
            [len(t.values) for t in types if isinstance(t, GraphQLEnumType)]
        ),
        ("__Type", "interfaces"): mean(
            [len(t.interfaces) for t in types if isinstance(t, GraphQLObjectType)]
        ),
        ("__Type", "possibleTypes"): mean(
            [len(schema.get_possible_types(t)) for t in types if is_abstract_type(t)]
        ),
        ("__Field", "args"): -(-sum(field_args) // max(len(field_args), 1)),
        ("__Directive", "args"): max((len(d.args) for d in schema.directives), default=0),
    }


@dataclass(frozen=True)
class Shape:
    depth: int  # nested object fields (introspection's not counted)
    aliases: int  # aliased fields reached, fragments counted at each place they are spread
    repeats: int  # the most fields merging into one response key at one place
    cost: int  # the objects the operation can return


# Fragments (inline or spread) nested in each other within one selection: graphql-core's own
# recursion gives up somewhere past 200; deeper than this is refused before it runs.
MAX_FRAGMENT_NESTING = 100


class TooManyFields(Exception):
    """The walk reached more fields than `limits.fields`, fragments expanded."""


class TooDeep(Exception):
    """Fragments nested in each other deeper than MAX_FRAGMENT_NESTING."""


Fields = list[tuple[FieldNode, GraphQLNamedType]]  # fields with the type each is selected on


@dataclass
class _Key:
    """The fields merging into one response key at one place of the result."""

    fields: Fields
    objects: int  # how many objects hold this key: the lists above multiplied out
    depth: int  # object fields above this place (introspection's not counted)
    page: int  # the page of the connection this place is in (for its edges and nodes)
    counted: bool  # False under introspection fields, whose depth is not counted


class _Walk:
    """Walks operations as they execute, spending one unit of a budget per field reached."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.defaults: dict[str, ValueNode | None] = {}
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.budget = 0

    def expand(self, selections: SelectionSetNode, parent: GraphQLNamedType) -> Fields:
        """The fields of one selection with inline fragments and spreads expanded, each with
        the type it is selected on; a fragment spread again into it adds nothing."""
        found: Fields = []
        spread: set[str] = set()
        stack = [(selections, parent, 0)]
        while stack:
            current, on, level = stack.pop()
            if level > MAX_FRAGMENT_NESTING:
                raise TooDeep
            for selection in reversed(current.selections):
                if isinstance(selection, FieldNode):
                    self.budget -= 1
                    if self.budget < 0:
                        raise TooManyFields
                    found.append((selection, on))
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    inner = self.schema.get_type(condition.name.value) if condition else on
                    stack.append((selection.selection_set, inner or on, level + 1))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in spread:
                        spread.add(name)
                        inner = self.schema.get_type(fragment.type_condition.name.value)
                        stack.append((fragment.selection_set, inner or on, level + 1))
        return found

    def operation(self, operation: OperationDefinitionNode) -> Shape:
        self.defaults = {
            d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
        }
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return Shape(0, 0, 0, 0)
        depth = aliases = repeats = cost = 0
        pending = _by_key(self.expand(operation.selection_set, root), 1, 0, DEFAULT_FIRST, True)
        while pending:
            key = pending.pop()
            repeats = max(repeats, len(key.fields))
            aliases += sum(node.alias is not None for node, _ in key.fields)
            definition, parent = self._definition(key.fields)
            if definition is None:
                continue
            named = get_named_type(definition.type)
            if not is_composite_type(named):
                continue
            name = key.fields[0][0].name.value
            counted = key.counted and not name.startswith("__")
            objects, page = self._objects(key, definition, parent, name)
            # a type's `ofType` only spells out its wrappers (`[Plan!]!`): not counted, so
            # that introspection costs about what it returns; what it holds is counted
            cost += 0 if (parent.name, name) == ("__Type", "ofType") else objects
            depth = max(depth, key.depth + counted)
            children: Fields = []
            for node, _ in key.fields:
                if node.selection_set is not None:
                    children += self.expand(node.selection_set, named)
            pending += _by_key(children, objects, key.depth + counted, page, counted)
        return Shape(depth, aliases, repeats, cost)

    def _definition(self, fields: Fields) -> tuple[GraphQLField | None, GraphQLNamedType]:
        for node, parent in fields:
            definition = _field_definition(self.schema, parent, node.name.value)
            if definition is not None:
                return definition, parent
        return None, fields[0][1]

    def _objects(
        self, key: _Key, definition: GraphQLField, parent: GraphQLNamedType, name: str
    ) -> tuple[int, int]:
        """The objects this key stands for, and the page its own fields are in."""
        arguments = {a.name.value: a.value for a in key.fields[0][0].arguments or ()}
        if "first" in definition.args:  # a connection: one object, its edges `first` or `last`
            size = self._value(arguments.get("first"))
            if not isinstance(size, int) and "last" in definition.args:
                size = self._value(arguments.get("last"))
            return key.objects, size if isinstance(size, int) and size >= 0 else DEFAULT_FIRST
        if not isinstance(get_nullable_type(definition.type), GraphQLList):
            return key.objects, key.page
        if parent.name.endswith("Connection") and name in ("edges", "nodes"):
            return key.objects * key.page, key.page
        ids = self._value(arguments.get("ids"))
        if isinstance(ids, list):
            return key.objects * len(ids), key.page
        sizes = introspection_sizes(self.schema) if parent.name.startswith("__") else LIST_SIZES
        return key.objects * sizes.get((parent.name, name), ASSUMED_LIST_SIZE), key.page

    def _value(self, node: ValueNode | None) -> Any:
        """An argument's value: a literal, a variable sent or its default; a float that is a
        whole number reads as the integer GraphQL's Int takes it for."""
        value: Any = None
        if isinstance(node, VariableNode):
            name = node.name.value
            if name not in self.variables:
                return self._value(self.defaults.get(name))
            value = self.variables[name]
        elif isinstance(node, IntValueNode | FloatValueNode):
            try:
                value = float(node.value)
            except ValueError:
                return None
        elif isinstance(node, ListValueNode):
            value = list(node.values)
        if isinstance(value, float):
            return int(value) if value.is_integer() else None
        return value


def _by_key(fields: Fields, objects: int, depth: int, page: int, counted: bool) -> list[_Key]:
    keys: dict[str, Fields] = defaultdict(list)
    for field in fields:
        keys[(field[0].alias or field[0].name).value].append(field)
    return [_Key(group, objects, depth, page, counted) for group in keys.values()]


def _field_definition(
    schema: GraphQLSchema, parent: GraphQLNamedType, name: str
) -> GraphQLField | None:
    if name == "__schema" and parent is schema.query_type:
        return SchemaMetaFieldDef
    if name == "__type" and parent is schema.query_type:
        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        field: GraphQLField | None = parent.fields.get(name)
        return field
    return None


@dataclass(frozen=True)
class Measured:
    errors: list[GraphQLError]  # past the depth, alias, repeat or field limits
    cost: int  # of the operation that will run (the costliest, when that is not clear)


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: Limits,
) -> Measured:
    """Walk the document's operations once each, within a budget of `limits.fields` fields
    for the whole document."""
    walk = _Walk(schema, document, variables if isinstance(variables, Mapping) else {})
    walk.budget = limits.fields
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    errors, costs = [], {}
    for operation in operations:
        try:
            shape = walk.operation(operation)
        except TooManyFields:
            message = (
                f"The document selects more than {limits.fields} fields once its fragments "
                "are expanded."
            )
            return Measured([GraphQLError(message, [operation])], 0)
        except TooDeep:
            message = f"The document nests fragments more than {MAX_FRAGMENT_NESTING} deep."
            return Measured([GraphQLError(message, [operation])], 0)
        costs[operation.name.value if operation.name else None] = shape.cost
        name = f"'{operation.name.value}'" if operation.name else "The operation"
        for found, limit, what in (
            (shape.depth, limits.depth, f"{name} exceeds maximum operation depth of {{}}"),
            (shape.aliases, limits.aliases, f"{name} has more than {{}} aliases"),
            (
                shape.repeats,
                limits.field_repeats,
                f"{name} repeats one field more than {{}} times in a selection",
            ),
        ):
            if found > limit:
                errors.append(GraphQLError(what.format(limit) + ".", [operation]))
    chosen = costs.get(operation_name) if operation_name in costs else None
    return Measured(errors, chosen if chosen is not None else max(costs.values(), default=0))


def objects_in(data: Any) -> int:
    """The objects a result holds (the root not counted): the actual cost of a query. A
    result is JSON-like (dicts, lists, scalars) and as deep as the document allows."""
    if type(data) is not dict:
        return 0
    return _objects_below(data)


def _objects_below(container: Any) -> int:
    count = 0
    for value in container.values() if type(container) is dict else container:
        kind = type(value)
        if kind is dict:
            count += 1 + _objects_below(value)
        elif kind is list:
            count += _objects_below(value)
    return count
