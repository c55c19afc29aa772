"""The "adding users will cost" warning for a self-managed instance, online: asked by the
instance itself (its license authenticates it, as in a sync) or by its customer and admins.
Reads only; computed by `billing.instance_preview`, the function an offline instance runs
on its license's own terms."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from billing.errors import ErrorCode, LicenseRefusedError
from billing.instance_preview import InstanceRole, UsersChangePreview, preview_users_change
from billing.subscriptions import SubscriptionStatus
from db.syncs import license_by_token
from db.tables import Instance, Plan, Price, Subscription
from resolvers.context import Context
from resolvers.errors import ObjectNotFound
from resolvers.licenses import seat_terms_of
from resolvers.loaders import required
from resolvers.rates import admit_client, admit_instance


async def preview_for_instance(
    context: Context, instance: Instance, *, add: int, role: InstanceRole
) -> UsersChangePreview | None:
    """For the customer and admins (the instance is visible); None without an active
    subscription."""
    if not context.principal.may_manage_customer(instance.customer_id):
        raise ObjectNotFound("Instance", instance.id or 0)
    assert instance.id is not None
    subscription = await context.loaders.active_subscription_by_instance.load(instance.id)
    if subscription is None or subscription.status != SubscriptionStatus.ACTIVE:
        return None
    plan = await required(context.loaders.plan_by_id, subscription.plan_id)
    price = await required(context.loaders.price_by_id, subscription.price_id)
    return _preview(context, subscription, instance, plan, price, add=add, role=role)


async def preview_by_license(
    context: Context, token: str, *, add: int, role: InstanceRole
) -> UsersChangePreview:
    """For the instance itself, authenticated by its current license like `licenseSync`."""
    admit_client(context)
    if context.verify_license is None:
        raise RuntimeError("no license keys are configured")
    grant = context.verify_license(token, None)
    admit_instance(context, f"preview:{grant.subscription_id}")
    async with context.db() as session:
        subscription = await session.get(Subscription, grant.subscription_id)
        presented = await license_by_token(session, grant.subscription_id, token)
        if subscription is None or presented is None or subscription.instance_id is None:
            raise LicenseRefusedError(
                ErrorCode.LICENSE_FOREIGN, "This license was not issued by this service.", "license"
            )
        if subscription.status != SubscriptionStatus.ACTIVE:
            raise LicenseRefusedError(
                ErrorCode.LICENSE_REVOKED, "The subscription is no longer active.", "license"
            )
        instance, plan, price = await _relatives(session, subscription)
    return _preview(context, subscription, instance, plan, price, add=add, role=role)


async def _relatives(
    session: AsyncSession, subscription: Subscription
) -> tuple[Instance, Plan, Price]:
    instance = await session.get(Instance, subscription.instance_id)
    plan = await session.get(Plan, subscription.plan_id)
    price = await session.get(Price, subscription.price_id)
    assert instance is not None
    assert plan is not None
    assert price is not None
    return instance, plan, price


def _preview(
    context: Context,
    subscription: Subscription,
    instance: Instance,
    plan: Plan,
    price: Price,
    *,
    add: int,
    role: InstanceRole,
) -> UsersChangePreview:
    return preview_users_change(
        seat_terms_of(subscription, plan, price),
        seats=subscription.seats,
        max_seats_used=subscription.max_seats_used,
        billable_now=instance.seats_in_use or 0,
        add=add,
        role=role,
        today=context.clock.today(),
    )
