"""Licenses follow their instance subscription: whenever what it grants changes (a purchase,
seats, a plan, a renewal, add-ons, a reconciliation), a new license is signed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import Term
from billing.instance_preview import Reconciliation, SeatTerms
from billing.licenses import Licensee, LicenseGrant, LicenseType
from billing.money import Money
from billing.subscriptions import SubscriptionStatus
from db.licenses import latest_license
from db.subscriptions import add_ons_of
from db.tables import AddOn, Customer, License, Plan, Price, Subscription
from resolvers.context import Context, LicenseSigner
from resolvers.errors import ObjectNotFound


async def refresh_license(
    session: AsyncSession, subscription: Subscription, *, sign: LicenseSigner | None, now: datetime
) -> License | None:
    """Sign a new license for an active instance subscription when what it grants differs from
    its latest license; the new row, or None when nothing changed or nothing can be signed
    (no signing key: billing goes on, and the daily job signs what is missing once a key is
    configured, reporting until then)."""
    if subscription.instance_id is None or subscription.status != SubscriptionStatus.ACTIVE:
        return None
    if sign is None:
        return None
    assert subscription.id is not None
    plan, customer, add_ons = await _granted(session, subscription)
    terms = _terms(subscription, plan, add_ons)
    if not await _differs(session, subscription, terms):
        return None
    price = await session.get(Price, subscription.price_id)
    assert price is not None
    grant = LicenseGrant(
        licensee=Licensee(customer.name, customer.billing_email, customer.name),
        plan=plan.code,
        seats=subscription.seats,
        add_ons=tuple(add_ons),
        starts_on=subscription.start_date,
        expires_on=subscription.end_date,
        license_type=LicenseType(subscription.license_type),
        subscription_id=subscription.id,
        issued_at=now.replace(microsecond=0),
        seat_terms=seat_terms_of(subscription, plan, price),
    )
    kid, token = sign(grant)
    row = License(
        subscription_id=subscription.id,
        instance_id=subscription.instance_id,
        kid=kid,
        token=token,
        license_type=subscription.license_type,
        plan=plan.code,
        seats=subscription.seats,
        add_ons=terms[2],
        starts_on=subscription.start_date,
        expires_on=subscription.end_date,
        issued_at=grant.issued_at,
    )
    session.add(row)
    return row


def seat_terms_of(subscription: Subscription, plan: Plan, price: Price) -> SeatTerms:
    """What seats over the paid count cost this subscription: the license carries it, and the
    online preview computes from it, so both warn alike."""
    return SeatTerms(
        plan_name=plan.name,
        seat_price=Money(price.unit_amount, price.currency),
        term=Term(subscription.start_date, subscription.end_date),
        reconciliation=Reconciliation.QUARTERLY
        if subscription.quarterly_reconciliation
        else Reconciliation.TRUE_UP,
        paid=plan.code != "free" and not subscription.trial,
        guests_free=plan.excludes_guests,
        plan_changed_on=subscription.plan_changed_on,
    )


async def _granted(
    session: AsyncSession, subscription: Subscription
) -> tuple[Plan, Customer, list[tuple[str, int]]]:
    assert subscription.id is not None
    plan = await session.get(Plan, subscription.plan_id)
    customer = await session.get(Customer, subscription.customer_id)
    assert plan is not None
    assert customer is not None
    add_ons = []
    for owned in await add_ons_of(session, subscription.id):
        add_on = await session.get(AddOn, owned.add_on_id)
        assert add_on is not None
        add_ons.append((add_on.code, owned.quantity))
    return plan, customer, sorted(add_ons)


def _terms(
    subscription: Subscription, plan: Plan, add_ons: list[tuple[str, int]]
) -> tuple[Any, ...]:
    """What a license grants, in the shape its row stores it."""
    return (
        plan.code,
        subscription.seats,
        [{"code": code, "quantity": quantity} for code, quantity in add_ons],
        subscription.start_date,
        subscription.end_date,
        subscription.license_type,
    )


async def _differs(
    session: AsyncSession, subscription: Subscription, terms: tuple[Any, ...]
) -> bool:
    assert subscription.id is not None
    latest = await latest_license(session, subscription.id)
    return latest is None or terms != (
        latest.plan,
        latest.seats,
        latest.add_ons,
        latest.starts_on,
        latest.expires_on,
        latest.license_type,
    )


async def needs_license(session: AsyncSession, subscription: Subscription) -> bool:
    """Whether what the subscription grants differs from its latest license (or it has none)."""
    plan, _, add_ons = await _granted(session, subscription)
    return await _differs(session, subscription, _terms(subscription, plan, add_ons))


async def license_file(context: Context, subscription_id: int) -> License:
    """The subscription's current license, for the customer and admins (a license is a
    credential: analysts do not get it)."""
    from resolvers.accounts import get_subscription

    subscription = await get_subscription(context, subscription_id)
    if not context.principal.may_manage_customer(subscription.customer_id):
        raise ObjectNotFound("Subscription", subscription_id)
    async with context.db() as session:
        latest = await latest_license(session, subscription_id)
    if latest is None:
        raise ObjectNotFound("License of subscription", subscription_id, id_of="Subscription")
    return latest


async def get_license(context: Context, license_id: int) -> License:
    """One license, for its customer and admins."""
    row: License | None = await context.loaders.license_by_id.load(license_id)
    if row is None:
        raise ObjectNotFound("License", license_id)
    subscription = await context.loaders.subscription_by_id.load(row.subscription_id)
    if subscription is None or not context.principal.may_manage_customer(subscription.customer_id):
        raise ObjectNotFound("License", license_id)
    return row
