"""Generic batch loads: one statement for many keys, results in key order (DataLoader contract)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)
K = TypeVar("K", bound=Hashable)


# Statements are built once per shape and reused: SQLAlchemy then finds their compiled form
# without building them again or computing their cache key (a third of a short read's cost).
# The keys are an expanding parameter, the page's cursor and size parameters too.
_statements: dict[tuple[Any, ...], Any] = {}


def _statement(shape: tuple[Any, ...], build: Any) -> Any:
    statement = _statements.get(shape)
    if statement is None:
        statement = _statements[shape] = build()
    return statement


async def rows_by_key(
    session: AsyncSession, model: type[M], column: Any, keys: Sequence[K]
) -> list[M | None]:
    """The row whose `column` equals each key, or None, in the order of `keys`."""
    statement = _statement(
        ("by key", model, column.key),
        lambda: select(model).where(column.in_(bindparam("keys", expanding=True))),
    )
    result = await session.execute(statement, {"keys": list(set(keys))})
    found = {getattr(row, column.key): row for row in result.scalars()}
    return [found.get(key) for key in keys]


class Keyset(NamedTuple):
    """One page of a list ordered by a unique ascending id: the rows after `after` and before
    `before` (either may be None), `size` of them counted from the start, or from the end when
    `backward`. One row more is fetched, on the far side, to tell whether more lie beyond."""

    after: int | None
    before: int | None
    size: int
    backward: bool = False


async def rows_grouped_by_key(
    session: AsyncSession,
    model: type[M],
    column: Any,
    keys: Sequence[K],
    *,
    order_by: Any,
    page: Keyset | None = None,
) -> list[list[M]]:
    """For each key, its rows ordered by `order_by` (the primary key), optionally one keyset page
    (with its extra row), always in ascending order; a window function keeps it one statement
    however many keys there are."""
    bounds = (page.after is not None, page.before is not None, page.backward) if page else None
    shape = ("grouped", model, column.key, order_by.key, bounds)
    statement = _statement(shape, lambda: _grouped(model, column, order_by, bounds))
    parameters: dict[str, Any] = {"keys": list(set(keys))}
    if page is not None:
        parameters["limit"] = page.size + 1
        parameters.update(
            {k: v for k in ("after", "before") if (v := getattr(page, k)) is not None}
        )
    rows = (await session.execute(statement, parameters)).scalars()
    grouped: dict[Any, list[M]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, column.key)].append(row)
    return [grouped.get(key, []) for key in keys]


def _grouped(model: Any, column: Any, order_by: Any, bounds: tuple[bool, bool, bool] | None) -> Any:
    query = select(model).where(column.in_(bindparam("keys", expanding=True)))
    if bounds is None:
        return query.order_by(column, order_by)
    after, before, backward = bounds
    if after:
        query = query.where(order_by > bindparam("after"))
    if before:
        query = query.where(order_by < bindparam("before"))
    ranked = query.add_columns(
        func.row_number()
        .over(partition_by=column, order_by=order_by.desc() if backward else order_by)
        .label("rank")
    ).subquery()
    alias = ranked.c
    return select(model).from_statement(
        select(*[alias[c.key] for c in model.__table__.columns])
        .where(alias.rank <= bindparam("limit"))
        .order_by(alias[column.key], alias[order_by.key])
    )


async def counts_by_key(
    session: AsyncSession, model: type[M], column: Any, keys: Sequence[K]
) -> list[int]:
    """How many rows of `model` each key has in `column`, in the order of `keys`: one statement."""
    statement = _statement(
        ("count by key", model, column.key),
        lambda: (
            select(column, func.count())
            .where(column.in_(bindparam("keys", expanding=True)))
            .group_by(column)
        ),
    )
    result = await session.execute(statement, {"keys": list(set(keys))})
    found: dict[Any, int] = dict(result.all())
    return [found.get(key, 0) for key in keys]


async def count_of(session: AsyncSession, query: Any) -> int:
    """How many rows `query` has in all pages."""
    return int(
        (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    )


async def keyset_page(
    session: AsyncSession, query: Any, *, order_by: Any, page: Keyset
) -> list[Any]:
    """One page of `query` ordered by the unique `order_by` column (with its extra row), in
    ascending order."""
    if page.after is not None:
        query = query.where(order_by > page.after)
    if page.before is not None:
        query = query.where(order_by < page.before)
    ordered = query.order_by(order_by.desc() if page.backward else order_by).limit(page.size + 1)
    rows = list((await session.execute(ordered)).scalars())
    return rows[::-1] if page.backward else rows
