"""Look-ahead at a field's selection, so a list reads in one statement what its page shows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import SelectedField, Selection

from schema.base import Info


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # a fragment spread or an inline fragment: its fields are its parent's
            yield from _fields(selection.selections)


def selects(info: Info, *path: str) -> bool:
    """Whether the current field's selection reaches the fields named by `path` (GraphQL
    names, e.g. "edges", "node", "user"), under any alias, through fragment spreads and
    inline fragments, in any of the field's nodes. `@skip`/`@include` are not evaluated: a
    field they may drop counts as selected (reading it costs a column, missing it a query)."""
    level = [child for field in info.selected_fields for child in _fields(field.selections)]
    for name in path:
        matched = [field for field in level if field.name == name]
        if not matched:
            return False
        level = [child for field in matched for child in _fields(field.selections)]
    return True
