"""The peak across an upgrade: the days before it count under the old plan's rule and price
(settled on the upgrade's invoice), the days from it under the new plan's."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import Charge, Item, Term
from billing.money import Money
from billing.upgrades import overage_before_upgrade
from db.snapshots import peak_between, restart_day_peak
from db.syncs import reported_peak
from db.tables import Instance, Namespace, Plan, Price, Subscription
from resolvers import renewals
from resolvers.changes import Who


async def settle_before(
    session: AsyncSession,
    subscription: Subscription,
    plan: Plan,
    price: Price,
    who: Who,
) -> Charge:
    """The old plan's overage of the days before the upgrade (on `who.today`, or the start
    date of a term not started), at its price for their share of the term. With quarterly
    reconciliation, the quarters that ended before it and the job has not reconciled yet are
    reconciled now, at the old price (their seats raised before the upgrade prices them), as
    the job would have on their end dates; the old plan's last part-quarter owes nothing: its
    overage would be charged for the quarters after it, and those are the new plan's (as a
    term's quarter 4 owes nothing)."""
    term = Term(subscription.start_date, subscription.end_date)
    on = max(who.today, term.start)
    if subscription.quarterly_reconciliation:
        charge = Charge(price.currency, ())
        for _, reconciled in await renewals.reconcile_quarters(session, subscription, who):
            charge += reconciled
        return charge
    if on == term.start:
        return Charge(price.currency, ())
    peak = await _peak(session, subscription, term.start, on, entering=True)
    old = Item(plan.name, subscription.seats, Money(price.unit_amount, price.currency))
    return overage_before_upgrade(subscription.seats, peak, old, term, on)


async def restart_peak(
    session: AsyncSession, subscription: Subscription, *, on: date, today: date
) -> None:
    """Once the (flushed) subscription is on its new plan, its peak restarts at the count of
    the change day under the new plan's rule: recounted for a namespace (and that day's peak
    forgets what the old rule counted), the day's reports or the last count for an instance.
    An upgrade bought before the term starts (`on`, its start date, is after `today`) does not
    split it: every day of the term is the new plan's, and the count the term starts with
    (recorded before its start, under the new plan from today) counts for its first quarter."""
    subscription.plan_changed_on = on if on <= today else None
    if subscription.namespace_id is not None:
        namespace = await session.get(Namespace, subscription.namespace_id)
        assert namespace is not None
        await renewals.recount(session, namespace, subscription, today)
        if on == today:
            await restart_day_peak(session, subscription.namespace_id, today)
        subscription.max_seats_used = namespace.seats_in_use
    else:
        instance = await session.get(Instance, subscription.instance_id)
        assert instance is not None
        reported = await _peak(session, subscription, on, on + timedelta(days=1), entering=False)
        subscription.max_seats_used = max(instance.seats_in_use or 0, reported)
    await session.flush()


async def _peak(
    session: AsyncSession, subscription: Subscription, first: date, end: date, *, entering: bool
) -> int:
    if subscription.namespace_id is not None:
        return await peak_between(session, subscription.namespace_id, first, end, entering=entering)
    assert subscription.instance_id is not None
    return await reported_peak(session, subscription.instance_id, first, end)
