"""Sizes of what a request sends, checked before graphql-core coerces a single variable.

Coercing is the expensive step (100,000 batch records took 9.3 s before a resolver could count
them), so this extension walks the raw JSON variables and the document's argument literals
first, in time linear in their size, and refuses the request when a list has more than
`limits.list_items` items or a string more than `limits.string_length` characters or a NUL
byte (PostgreSQL text cannot hold one). The error is top-level, `BAD_USER_INPUT`, with
`extensions.field` naming where: `input.records`, `ids`, `input.records.3.name`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    SKIP,
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    GraphQLInputType,
    ListValueNode,
    Node,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    ValuesOfCorrectTypeRule,
    VariableDefinitionNode,
    VisitorAction,
)
from graphql.utilities.validate_input_value import validate_input_literal
from strawberry.extensions import FieldExtension, SchemaExtension

from resolvers.errors import BadUserInput
from resolvers.limits import Limits

# A path is built only for the error: (key, parent) links, joined when something is refused.
Path = tuple[str | int, "Path"] | None


def dotted(path: Path) -> str:
    keys: list[str] = []
    while path is not None:
        key, path = path
        keys.append(str(key))
    return ".".join(reversed(keys))


def _refuse_string(value: str, path: Path, limits: Limits) -> None:
    if len(value) > limits.string_length:
        raise BadUserInput(
            f"`{dotted(path)}` is longer than {limits.string_length} characters.", dotted(path)
        )
    if "\x00" in value:
        raise BadUserInput(f"`{dotted(path)}` contains a NUL character.", dotted(path))


def _refuse_list(size: int, path: Path, limits: Limits) -> None:
    if size > limits.list_items:
        raise BadUserInput(
            f"`{dotted(path)}` has {size} items; at most {limits.list_items} are taken.",
            dotted(path),
        )


def check_variables(variables: dict[str, Any], limits: Limits) -> None:
    """Raise BadUserInput for the first list or string of the JSON variables past a limit.
    Iterative, so nesting depth costs no stack."""
    stack: list[tuple[Any, Path]] = [(value, (name, None)) for name, value in variables.items()]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            _refuse_string(value, path, limits)
        elif isinstance(value, list):
            _refuse_list(len(value), path, limits)
            stack.extend((item, (index, path)) for index, item in enumerate(value))
        elif isinstance(value, dict):
            stack.extend((item, (key, path)) for key, item in value.items())


def _check_literal(node: Node, path: Path, limits: Limits) -> None:
    stack: list[tuple[Node, Path]] = [(node, path)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, StringValueNode):
            _refuse_string(node.value, path, limits)
        elif isinstance(node, ListValueNode):
            _refuse_list(len(node.values), path, limits)
            stack.extend((item, (index, path)) for index, item in enumerate(node.values))
        elif isinstance(node, ObjectValueNode):
            stack.extend((field.value, (field.name.value, path)) for field in node.fields)


def check_document(document: DocumentNode, limits: Limits) -> None:
    """Raise BadUserInput for the first argument literal or variable default past a limit."""
    stack: list[Node] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, ArgumentNode):
            _check_literal(node.value, (node.name.value, None), limits)
        elif isinstance(node, VariableDefinitionNode):
            if node.default_value is not None:
                _check_literal(node.default_value, (node.variable.name.value, None), limits)
        else:
            for key in node.keys:
                child = getattr(node, key, None)
                if isinstance(child, Node):
                    stack.append(child)
                elif isinstance(child, tuple | list):
                    stack.extend(item for item in child if isinstance(item, Node))


class ValuesOfCorrectTypeNamingTheField(ValuesOfCorrectTypeRule):
    """graphql-core's rule for literals of the wrong type (`seats: 1.9`, `minorUnits: "5"`),
    whose errors also carry `extensions.field`: the argument or variable and the path inside
    it, as `input.amount.minorUnits`."""

    where: str | None = None

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.where = node.name.value

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        self.where = node.variable.name.value

    def is_valid_value_node(
        self, node: ValueNode, input_type: GraphQLInputType | None
    ) -> VisitorAction:
        if input_type:

            def on_error(error: GraphQLError, path: list[str | int]) -> None:
                field = ".".join(str(key) for key in (self.where, *path) if key is not None)
                error.extensions = {**(error.extensions or {}), "field": field}
                self.report_error(error)

            validate_input_literal(
                node, input_type, on_error, None, None, self.context.hide_suggestions
            )
        return SKIP


class InputLimits(SchemaExtension):
    """Refuses oversized lists and strings, and NUL bytes, before variables are coerced;
    literals of the wrong type name their field."""

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        execution.validation_rules = tuple(
            ValuesOfCorrectTypeNamingTheField if rule is ValuesOfCorrectTypeRule else rule
            for rule in execution.validation_rules
        )
        yield

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        limits: Limits = getattr(execution.context, "limits", None) or Limits()
        if execution.graphql_document is not None:
            check_document(execution.graphql_document, limits)
        if isinstance(execution.variables, dict):
            check_variables(execution.variables, limits)
        yield


class ListAtMost(FieldExtension):
    """A field's own cap on a list argument, where the real list is far below the global
    `list_items` (`nodes(ids:)` fetches one page of objects)."""

    def __init__(self, argument: str, at_most: int) -> None:
        super().__init__()
        self.argument, self.at_most = argument, at_most

    def _check(self, kwargs: dict[str, Any]) -> None:
        items = kwargs.get(self.argument)
        if items is not None and len(items) > self.at_most:
            raise BadUserInput(
                f"`{self.argument}` has {len(items)} items; at most {self.at_most} are taken.",
                self.argument,
            )

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        self._check(kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        self._check(kwargs)
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result
