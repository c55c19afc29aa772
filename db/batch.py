"""Generic batch loads: one statement for many keys, results in key order (DataLoader contract)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

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


async def rows_grouped_by_key(
    session: AsyncSession,
    model: type[M],
    column: Any,
    keys: Sequence[K],
    *,
    order_by: Any,
    after: int | None = None,
    limit: int | None = None,
) -> list[list[M]]:
    """For each key, its rows ordered by `order_by` (the primary key), optionally one keyset page.

    A page is the rows with `order_by > after`, at most `limit` of them per key; a window
    function keeps it one statement however many keys there are.
    """
    shape = ("grouped", model, column.key, order_by.key, after is not None, limit is not None)
    statement = _statement(
        shape, lambda: _grouped(model, column, order_by, after is not None, limit is not None)
    )
    parameters: dict[str, Any] = {"keys": list(set(keys))}
    if after is not None:
        parameters["after"] = after
    if limit is not None:
        parameters["limit"] = limit
    rows = (await session.execute(statement, parameters)).scalars()
    grouped: dict[Any, list[M]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, column.key)].append(row)
    return [grouped.get(key, []) for key in keys]


def _grouped(model: Any, column: Any, order_by: Any, after: bool, limit: bool) -> Any:
    query = select(model).where(column.in_(bindparam("keys", expanding=True)))
    if after:
        query = query.where(order_by > bindparam("after"))
    if not limit:
        return query.order_by(column, order_by)
    ranked = query.add_columns(
        func.row_number().over(partition_by=column, order_by=order_by).label("rank")
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
    session: AsyncSession, query: Any, *, order_by: Any, after: int | None, limit: int
) -> list[Any]:
    """One page of `query` ordered by the unique `order_by` column, after the cursor value."""
    if after is not None:
        query = query.where(order_by > after)
    return list((await session.execute(query.order_by(order_by).limit(limit))).scalars())
