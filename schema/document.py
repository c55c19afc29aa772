"""Limits on the shape and cost of a GraphQL document, in time linear in the document.

graphql-core and strawberry walk a fragment again at every spread (depth, aliases) and compare
every pair of same-named fields (overlapping fields), so a small document can keep a server busy
for seconds. Here each fragment is measured once and its measure reused wherever it is spread.
These checks run before graphql-core's own validation, which then only sees bounded documents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
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
    is_composite_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from resolvers.limits import Limits

M = TypeVar("M")

# What a list costs when its size is not in the query: connections show `first` (default 20);
# `ids` lists are as long as they are; every other list is assumed to hold this many.
DEFAULT_FIRST = 20
ASSUMED_LIST_SIZE = 10


@dataclass(frozen=True)
class Shape:
    depth: int  # nested object fields, introspection's not counted
    aliases: int  # aliased fields, fragments counted at each spread
    repeats: int  # the most times one response name occurs in one selection set


# Selection sets nested in each other, fragment spreads included: deeper than this is refused
# outright (the parser stops at 200 levels of braces, but not at chains of fragments).
MAX_NESTING = 150


class _Memo(Generic[M]):
    """A measure of selection sets with each named fragment measured once."""

    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        measure: Callable[[FragmentDefinitionNode], M],
        empty: M,
    ) -> None:
        self.fragments = fragments
        self.measure = measure
        self.empty = empty
        self.done: dict[str, M] = {}
        self.busy: set[str] = set()  # a cycle (refused by validation) measures as empty

    def fragment(self, name: str) -> M:
        if name in self.done:
            return self.done[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.busy:
            return self.empty
        self.busy.add(name)
        self.done[name] = self.measure(fragment)
        self.busy.discard(name)
        return self.done[name]


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class TooDeep(Exception):
    pass


_Measure = tuple[int, int, Counter[str]]  # depth, aliases, response names with their counts


class _ShapeWalker:
    """Measures each selection set once, bottom-up; a selection set's response names include
    those of the inline fragments and fragment spreads in it (they merge into one set)."""

    def __init__(self, document: DocumentNode) -> None:
        self.repeats = 0
        self.level = 0
        self.memo: _Memo[_Measure] = _Memo(
            _fragments(document), lambda f: self.walk(f.selection_set), (0, 0, Counter())
        )

    def walk(self, selections: SelectionSetNode) -> _Measure:
        self.level += 1
        if self.level > MAX_NESTING:
            raise TooDeep
        depth, aliases, names = 0, 0, Counter[str]()
        spread: set[str] = set()  # a fragment spread twice in one selection merges once
        for selection in selections.selections:
            if isinstance(selection, FragmentSpreadNode):
                if selection.name.value in spread:
                    continue
                spread.add(selection.name.value)
            if isinstance(selection, FieldNode):
                names[(selection.alias or selection.name).value] += 1
                aliases += selection.alias is not None
                if selection.selection_set is not None:
                    inner_depth, inner_aliases, _ = self.walk(selection.selection_set)
                    aliases += inner_aliases
                    if not selection.name.value.startswith("__"):
                        depth = max(depth, 1 + inner_depth)
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.memo.fragment(selection.name.value)
            depth, aliases = max(depth, inner[0]), aliases + inner[1]
            names.update(inner[2])
        self.repeats = max(self.repeats, max(names.values(), default=0))
        self.level -= 1
        return depth, aliases, names


def document_shape(document: DocumentNode) -> list[tuple[OperationDefinitionNode, Shape]]:
    """Each operation's shape; None for the depth of one nested past MAX_NESTING."""
    walker = _ShapeWalker(document)
    shapes = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            try:
                depth, aliases, _ = walker.walk(definition.selection_set)
            except TooDeep:
                depth, aliases, walker.level = MAX_NESTING, 0, 0
            shapes.append((definition, Shape(depth, aliases, walker.repeats)))
    return shapes


def shape_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """The document's operations past the depth, alias or repeated-field limits."""
    errors = []
    for operation, shape in document_shape(document):
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
    return errors


class Cost:
    """The query cost analysis: an object costs 1, and a list multiplies what its items cost
    by its size (`first` of a connection, the number of `ids`, or ASSUMED_LIST_SIZE). Scalars
    cost nothing. Fragments are costed once per type condition, then reused."""

    def __init__(self, schema: GraphQLSchema, variables: Mapping[str, Any] | None) -> None:
        self.schema = schema
        self.variables = variables or {}

    def operation(self, document: DocumentNode, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0

        def fragment_cost(fragment: FragmentDefinitionNode) -> int:
            parent = self.schema.get_type(fragment.type_condition.name.value)
            return self._selections(memo, parent, fragment.selection_set) if parent else 0

        memo: _Memo[int] = _Memo(_fragments(document), fragment_cost, 0)
        return self._selections(memo, root, operation.selection_set)

    def _selections(
        self,
        memo: _Memo[int],
        parent: GraphQLNamedType,
        selections: SelectionSetNode,
        page: int = DEFAULT_FIRST,
    ) -> int:
        """What `selections` on `parent` cost; `page` is the size of a connection's page."""
        total, spread = 0, set()
        for selection in selections.selections:
            if isinstance(selection, FragmentSpreadNode):
                if selection.name.value not in spread:
                    spread.add(selection.name.value)
                    total += memo.fragment(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self._selections(memo, inner or parent, selection.selection_set, page)
            elif isinstance(selection, FieldNode) and selection.selection_set is not None:
                total += self._field(memo, parent, selection, page)
        return total

    def _field(self, memo: _Memo[int], parent: GraphQLNamedType, node: FieldNode, page: int) -> int:
        definition = _field_definition(self.schema, parent, node.name.value)
        if definition is None or node.selection_set is None:
            return 0
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        if "first" in definition.args:  # a connection: its edges or nodes come `first` at most
            first = self._value(arguments.get("first"))
            size = first if isinstance(first, int) and first >= 0 else DEFAULT_FIRST
            return 1 + self._selections(memo, named, node.selection_set, size)
        inner = 1 + self._selections(memo, named, node.selection_set)
        if not isinstance(get_nullable_type(definition.type), GraphQLList):
            return inner
        if parent.name.endswith("Connection") and node.name.value in ("edges", "nodes"):
            return inner * page
        ids = self._value(arguments.get("ids"))
        return inner * (len(ids) if isinstance(ids, list) else ASSUMED_LIST_SIZE)

    def _value(self, node: ValueNode | None) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            try:
                return int(node.value)
            except ValueError:
                return None
        if isinstance(node, ListValueNode):
            return list(node.values)
        return None


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation that will run (of the costliest, when that is not clear)."""
    cost = Cost(schema, variables if isinstance(variables, Mapping) else None)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if o.name and o.name.value == operation_name]
    return max((cost.operation(document, o) for o in chosen or operations), default=0)


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


def objects_in(data: Any) -> int:
    """The objects a result holds (the root not counted): the actual cost of a query."""
    count, stack = 0, [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            count += 1
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return max(count - 1, 0)
