"""Generic batch loads: one statement for many keys, results in key order (DataLoader contract)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)
K = TypeVar("K", bound=Hashable)


async def rows_by_key(
    session: AsyncSession, model: type[M], column: Any, keys: Sequence[K]
) -> list[M | None]:
    """The row whose `column` equals each key, or None, in the order of `keys`."""
    result = await session.execute(select(model).where(column.in_(set(keys))))
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
    query = select(model).where(column.in_(set(keys)))
    if after is not None:
        query = query.where(order_by > after)
    if limit is not None:
        ranked = query.add_columns(
            func.row_number().over(partition_by=column, order_by=order_by).label("rank")
        ).subquery()
        alias = ranked.c
        entity = select(model).from_statement(
            select(*[alias[c.key] for c in model.__table__.columns])  # type: ignore[attr-defined]
            .where(alias.rank <= limit)
            .order_by(alias[column.key], alias[order_by.key])
        )
        rows = (await session.execute(entity)).scalars()
    else:
        rows = (await session.execute(query.order_by(column, order_by))).scalars()
    grouped: dict[Any, list[M]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, column.key)].append(row)
    return [grouped.get(key, []) for key in keys]


async def keyset_page(
    session: AsyncSession, query: Any, *, order_by: Any, after: int | None, limit: int
) -> list[Any]:
    """One page of `query` ordered by the unique `order_by` column, after the cursor value."""
    if after is not None:
        query = query.where(order_by > after)
    return list((await session.execute(query.order_by(order_by).limit(limit))).scalars())
