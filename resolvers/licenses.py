"""Licenses follow their instance subscription: whenever what it grants changes (a purchase,
seats, a plan, a renewal, add-ons, a reconciliation), a new license is signed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from billing.licenses import Licensee, LicenseGrant, LicenseType
from billing.subscriptions import SubscriptionStatus
from db.licenses import latest_license
from db.subscriptions import add_ons_of
from db.tables import AddOn, Customer, License, Plan, Subscription
from resolvers.context import Context, LicenseSigner
from resolvers.errors import ObjectNotFound


class SigningUnavailable(RuntimeError):
    """No signing key is configured, so no license can be issued (a deployment error)."""


async def refresh_license(
    session: AsyncSession, subscription: Subscription, *, sign: LicenseSigner | None, now: datetime
) -> License | None:
    """Sign a new license for an active instance subscription when what it grants differs from
    its latest license; the new row, or None when nothing changed."""
    if subscription.instance_id is None or subscription.status != SubscriptionStatus.ACTIVE:
        return None
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
    add_ons.sort()
    terms: tuple[Any, ...] = (
        plan.code,
        subscription.seats,
        [{"code": code, "quantity": quantity} for code, quantity in add_ons],
        subscription.start_date,
        subscription.end_date,
        subscription.license_type,
    )
    latest = await latest_license(session, subscription.id)
    if latest is not None and terms == (
        latest.plan,
        latest.seats,
        latest.add_ons,
        latest.starts_on,
        latest.expires_on,
        latest.license_type,
    ):
        return None
    if sign is None:
        raise SigningUnavailable("licenses cannot be signed: BILLING_LICENSE_SIGNING_KEY is unset")
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


async def license_file(context: Context, subscription_id: int) -> License:
    """The subscription's current license, for the customer's people and admins."""
    from resolvers.accounts import get_subscription

    subscription = await get_subscription(context, subscription_id)
    if not context.principal.may_read_customer(subscription.customer_id):
        raise ObjectNotFound("Subscription", subscription_id)
    async with context.db() as session:
        latest = await latest_license(session, subscription_id)
    if latest is None:
        raise ObjectNotFound("License of subscription", subscription_id)
    return latest
