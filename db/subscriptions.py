"""Subscription rows a change locks, and what the daily job finds due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.subscriptions import SubscriptionStatus
from db.batch import rows_grouped_by_key
from db.tables import Customer, Instance, Namespace, Plan, Price, Subscription, SubscriptionAddOn

ACTIVE = SubscriptionStatus.ACTIVE.value
# A locked row must be read from the database, not served from the session's identity map
# (a request's session may hold an older copy of it).
_FRESH = {"populate_existing": True}


async def lock_subscription(session: AsyncSession, subscription_id: int) -> Subscription | None:
    """The subscription, its row locked until the transaction ends: concurrent changes to one
    subscription take turns. The row is read afresh even when the session has it already."""
    query = select(Subscription).where(col(Subscription.id) == subscription_id).with_for_update()
    return (await session.execute(query, execution_options=_FRESH)).scalar_one_or_none()


async def lock_priced(
    session: AsyncSession, subscription_id: int
) -> tuple[Subscription, Plan, Price] | None:
    """The subscription (locked, as `lock_subscription`) with its plan and price, at once."""
    query = (
        select(Subscription, Plan, Price)
        .join(Plan, col(Plan.id) == Subscription.plan_id)
        .join(Price, col(Price.id) == Subscription.price_id)
        .where(col(Subscription.id) == subscription_id)
        .with_for_update(of=Subscription)
    )
    row = (await session.execute(query, execution_options=_FRESH)).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def lock_namespace_of(session: AsyncSession, subscription_id: int) -> None:
    """Lock the namespace of a subscription before the subscription itself, when the change
    may recount its seats: ingestion locks namespaces, then raises their subscriptions' peaks,
    so taking the two in the other order could deadlock with it."""
    await session.execute(
        select(col(Namespace.id))
        .join(Subscription, col(Subscription.namespace_id) == Namespace.id)
        .where(col(Subscription.id) == subscription_id)
        .with_for_update(of=Namespace)
    )


async def lock_namespace(session: AsyncSession, path: str) -> Namespace | None:
    query = select(Namespace).where(col(Namespace.path) == path).with_for_update()
    return (await session.execute(query, execution_options=_FRESH)).scalar_one_or_none()


async def lock_instance(session: AsyncSession, instance_id: int) -> Instance | None:
    query = select(Instance).where(col(Instance.id) == instance_id).with_for_update()
    return (await session.execute(query, execution_options=_FRESH)).scalar_one_or_none()


async def active_subscription_of(
    session: AsyncSession, *, namespace_id: int | None, instance_id: int | None
) -> Subscription | None:
    column = Subscription.namespace_id if namespace_id is not None else Subscription.instance_id
    query = select(Subscription).where(
        col(column) == (namespace_id if namespace_id is not None else instance_id),
        col(Subscription.status) == ACTIVE,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add_ons_of(session: AsyncSession, subscription_id: int) -> list[SubscriptionAddOn]:
    query = (
        select(SubscriptionAddOn)
        .where(col(SubscriptionAddOn.subscription_id) == subscription_id)
        .order_by(col(SubscriptionAddOn.id))
    )
    return list((await session.execute(query)).scalars())


async def add_ons_by_subscription(
    session: AsyncSession, subscription_ids: Sequence[int]
) -> list[list[SubscriptionAddOn]]:
    return await rows_grouped_by_key(
        session,
        SubscriptionAddOn,
        SubscriptionAddOn.subscription_id,
        subscription_ids,
        order_by=SubscriptionAddOn.id,
    )


async def due_for_reconciliation(session: AsyncSession) -> list[int]:
    """Active subscriptions with quarterly reconciliation and a quarter still to reconcile."""
    query = (
        select(col(Subscription.id))
        .where(
            col(Subscription.status) == ACTIVE,
            col(Subscription.quarterly_reconciliation),
            col(Subscription.quarters_reconciled) < 3,
        )
        .order_by(col(Subscription.id))
    )
    return [id_ for id_ in (await session.execute(query)).scalars() if id_ is not None]


async def ending_by(session: AsyncSession, day: date) -> list[int]:
    """Active subscriptions whose term has ended on or before `day`."""
    query = (
        select(col(Subscription.id))
        .where(col(Subscription.status) == ACTIVE, col(Subscription.end_date) <= day)
        .order_by(col(Subscription.id))
    )
    return [id_ for id_ in (await session.execute(query)).scalars() if id_ is not None]


async def active_instance_subscriptions(session: AsyncSession) -> list[int]:
    query = (
        select(col(Subscription.id))
        .where(col(Subscription.status) == ACTIVE, col(Subscription.instance_id).is_not(None))
        .order_by(col(Subscription.id))
    )
    return [id_ for id_ in (await session.execute(query)).scalars() if id_ is not None]


async def owners(session: AsyncSession, subscription_ids: list[int]) -> dict[int, str]:
    """Whom each subscription belongs to, as operators read it: `customer / namespace path`
    or `customer / instance hostname` (the daily job names what it acts on)."""
    if not subscription_ids:
        return {}
    query = (
        select(
            col(Subscription.id),
            col(Customer.name),
            func.coalesce(col(Namespace.path), func.concat("instance ", col(Instance.hostname))),
        )
        .join(Customer, col(Customer.id) == Subscription.customer_id)
        .outerjoin(Namespace, col(Namespace.id) == Subscription.namespace_id)
        .outerjoin(Instance, col(Instance.id) == Subscription.instance_id)
        .where(col(Subscription.id).in_(subscription_ids))
    )
    rows = await session.execute(query)
    return {id_: f"{customer} / {where}" for id_, customer, where in rows if id_ is not None}
