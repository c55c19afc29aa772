"""Catalog reads: plans, add-ons and the prices in force on a date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.tables import AddOn, AddOnPrice, Plan, Price

P = TypeVar("P", Price, AddOnPrice)


_ALL_PLANS = select(Plan).order_by(col(Plan.position))


async def all_plans(session: AsyncSession) -> list[Plan]:
    return list((await session.execute(_ALL_PLANS)).scalars())


async def plan_by_code(session: AsyncSession, code: str) -> Plan | None:
    return (await session.execute(select(Plan).where(col(Plan.code) == code))).scalar_one_or_none()


async def all_add_ons(session: AsyncSession) -> list[AddOn]:
    return list((await session.execute(select(AddOn).order_by(col(AddOn.position)))).scalars())


async def add_ons_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, AddOn]:
    rows = await session.execute(select(AddOn).where(col(AddOn.code).in_(set(codes))))
    return {row.code: row for row in rows.scalars()}


async def prices_in_force(
    session: AsyncSession,
    model: type[P],
    owner_ids: Sequence[int],
    *,
    on: date,
    currency: str | None = None,
    billing_period: str | None = None,
) -> list[list[P]]:
    """For each owner (plan or add-on) id, its prices in force on `on`: per currency and period,
    the newest one whose `valid_from` is not after `on`. One statement for all owners."""
    owner = model.owner_column()
    query = (
        select(model)
        .where(owner.in_(set(owner_ids)), col(model.valid_from) <= on)
        .ext(distinct_on(owner, col(model.currency), col(model.billing_period)))
        .order_by(owner, model.currency, model.billing_period, col(model.valid_from).desc())
    )
    if currency is not None:
        query = query.where(col(model.currency) == currency)
    if billing_period is not None:
        query = query.where(col(model.billing_period) == billing_period)
    grouped: dict[int, list[P]] = defaultdict(list)
    for price in (await session.execute(query)).scalars():
        grouped[getattr(price, owner.key)].append(price)
    return [grouped.get(owner_id, []) for owner_id in owner_ids]
