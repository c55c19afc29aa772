"""Reads of customers, namespaces, instances and subscriptions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.batch import Keyset, count_of, keyset_page
from db.tables import Customer, Namespace


async def customers_page(
    session: AsyncSession, *, page: Keyset, search: str | None
) -> list[Customer]:
    """A page of customers ordered by id, optionally matching `search` in name or email."""
    query = _customers(search)
    return await keyset_page(session, query, order_by=Customer.id, page=page)


async def count_customers(session: AsyncSession, *, search: str | None) -> int:
    """How many customers match `search` (all of them without it)."""
    return await count_of(session, _customers(search))


def _customers(search: str | None) -> Any:
    query = select(Customer)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(col(Customer.name).ilike(pattern), col(Customer.billing_email).ilike(pattern))
        )
    return query


_BY_PATH = select(Namespace).where(col(Namespace.path) == bindparam("path"))


async def namespace_by_path(session: AsyncSession, path: str) -> Namespace | None:
    return (await session.execute(_BY_PATH, {"path": path})).scalar_one_or_none()
