"""Changing a subscription: seats, plan, renewal, auto-renewal, cancellation, add-ons. Each
use case is a `changes.change`: one transaction that locks the subscription it changes,
prices with `billing`, writes the invoice and the audit trail, and can be previewed or
retried with an idempotency key."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import (
    ChargeKind,
    Item,
    Term,
    charge_plan_upgrade,
    charge_prorated,
)
from billing.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError
from billing.money import Money
from billing.quotes import MAX_ADD_ON_QUANTITY, MAX_SEATS
from billing.subscriptions import FREE_PLAN, SubscriptionStatus
from billing.terms import BillingPeriod
from db.catalog import add_ons_by_code, plan_by_code
from db.subscriptions import (
    add_ons_of,
    lock_namespace_of,
    lock_priced,
)
from db.tables import (
    AddOnPrice,
    Plan,
    Price,
    Subscription,
    SubscriptionAddOn,
)
from resolvers import renewals, upgrades
from resolvers.catalog import price_in_force
from resolvers.changes import (
    SUBSCRIPTION_FIELDS,
    Outcome,
    Who,
    change,
    issue_invoice,
    record,
    state,
)
from resolvers.context import Context


@change("subscriptionAddSeats")
async def add_seats(
    session: AsyncSession, context: Context, subscription_id: int, seats: int
) -> Outcome:
    """More seats for the rest of the term, prorated by day."""
    subscription, plan, price = await locked(session, context, subscription_id, paid=True)
    _check_quantity(seats, MAX_SEATS - subscription.seats, "seats", "Seats")
    term, on = _term_and_day(subscription, context.clock.today())
    item = Item(plan.name, seats, Money(price.unit_amount, price.currency))
    charge = charge_prorated(ChargeKind.SEATS, item, term, on)
    before = state(subscription, SUBSCRIPTION_FIELDS)
    subscription.seats += seats
    record(session, Who.of(context), "subscription.seats_added", subscription, before)
    return await issue_invoice(session, Who.of(context), subscription, charge)


@change("subscriptionChangePlan")
async def change_plan(
    session: AsyncSession, context: Context, subscription_id: int, plan_code: str
) -> Outcome:
    """An upgrade (a plan further up the catalog) takes effect now: the old plan's overage of
    the days before (see `upgrades.settle_before`), a prorated credit for the old plan and
    charge for the new; the term's peak restarts under the new plan. A downgrade waits for
    the renewal."""
    subscription, plan, price = await locked(
        session, context, subscription_id, paid=True, recounts=True
    )
    new_plan = await plan_by_code(session, plan_code)
    if new_plan is None:
        raise NotFoundError(ErrorCode.PLAN_NOT_FOUND, f"There is no plan {plan_code!r}.", "plan")
    if new_plan.code == FREE_PLAN:  # nothing to renew into: the paid subscription ends
        return await _end_at_term_end(session, context, (subscription, plan, price), "plan")
    if new_plan.id == subscription.plan_id and subscription.pending_plan_id is None:
        raise InvalidInputError(
            ErrorCode.SAME_PLAN, f"The subscription is already on {plan.name}.", "plan"
        )
    if new_plan.id == subscription.plan_id:  # staying: the downgrade is withdrawn
        before = state(subscription, SUBSCRIPTION_FIELDS)
        subscription.pending_plan_id = None
        await session.flush()
        record(session, Who.of(context), "subscription.downgrade_withdrawn", subscription, before)
        return Outcome(subscription)
    if subscription.renewal_seats is not None:
        raise ConflictError(
            ErrorCode.RENEWAL_SCHEDULED,
            "The next term is already bought; change the plan after it starts.",
            "subscription",
        )
    before = state(subscription, SUBSCRIPTION_FIELDS)
    period = BillingPeriod(price.billing_period)
    if new_plan.position < plan.position:
        await price_in_force(
            session,
            Price,
            new_plan,
            currency=price.currency,
            billing_period=period,
            on=subscription.end_date,
            field="plan",
        )
        subscription.pending_plan_id = new_plan.id
        record(session, Who.of(context), "subscription.downgrade_scheduled", subscription, before)
        await session.flush()
        return Outcome(subscription)
    term, on = _term_and_day(subscription, context.clock.today())
    new_price = await price_in_force(
        session,
        Price,
        new_plan,
        currency=price.currency,
        billing_period=period,
        on=on,
        field="plan",
    )
    charge = await upgrades.settle_before(session, subscription, plan, price, Who.of(context))
    seats = subscription.seats  # raised by the quarters reconciled before the upgrade
    charge += charge_plan_upgrade(
        seats,
        Item(plan.name, seats, Money(price.unit_amount, price.currency)),
        Item(new_plan.name, seats, Money(new_price.unit_amount, price.currency)),
        term,
        on,
    )
    subscription.plan_id, subscription.price_id = new_plan.id, new_price.id
    subscription.pending_plan_id = None
    await session.flush()
    await upgrades.restart_peak(session, subscription, on=on, today=context.clock.today())
    record(session, Who.of(context), "subscription.upgraded", subscription, before)
    return await issue_invoice(session, Who.of(context), subscription, charge)


@change("subscriptionRenew")
async def renew(
    session: AsyncSession,
    context: Context,
    subscription_id: int,
    seats: int,
    billing_period: BillingPeriod,
) -> Outcome:
    """Buy the next term, which starts on the current end date. Bought before that date, it
    waits there (the daily job starts it and charges any true-up of the ending term); bought on
    or after it, the term starts now and the invoice carries the true-up too."""
    _check_quantity(seats, MAX_SEATS, "seats", "Seats")
    today = context.clock.today()
    subscription, plan, price = await locked(
        session, context, subscription_id, ended=True, paid=True, recounts=True
    )
    if subscription.renewal_seats is not None:
        raise ConflictError(
            ErrorCode.RENEWAL_SCHEDULED, "The next term is already bought.", "subscription"
        )
    billable = await renewals.seats_in_use_next_term(session, subscription, today)
    if seats < billable:
        raise InvalidInputError(
            ErrorCode.SEATS_BELOW_BILLABLE,
            f"{billable} users take a seat now; renew at least {billable} seats.",
            "seats",
        )
    before = state(subscription, SUBSCRIPTION_FIELDS)
    next_term = renewals.NextTerm(seats, billing_period)
    priced = await renewals.price_renewal(session, subscription, plan, price, next_term)
    subscription.cancelled_on = None
    if today >= subscription.end_date:
        charge = await renewals.start_next_term(session, subscription, plan, priced, today=today)
    else:
        charge = priced.renewal
        subscription.renewal_seats, subscription.renewal_price_id = seats, priced.price.id
    record(session, Who.of(context), "subscription.renewed", subscription, before)
    return await issue_invoice(session, Who.of(context), subscription, charge)


@change("subscriptionSetAutoRenew")
async def set_auto_renew(
    session: AsyncSession, context: Context, subscription_id: int, enabled: bool
) -> Outcome:
    """Turn automatic renewal on or off; turning it on withdraws a cancellation."""
    subscription, _, _ = await locked(session, context, subscription_id)
    before = state(subscription, SUBSCRIPTION_FIELDS)
    subscription.auto_renew = enabled
    if enabled:
        subscription.cancelled_on = None
    await session.flush()
    record(session, Who.of(context), "subscription.auto_renew_set", subscription, before)
    return Outcome(subscription)


@change("subscriptionCancel")
async def cancel(session: AsyncSession, context: Context, subscription_id: int) -> Outcome:
    """The subscription stays active to the end of its term, then expires; the seats owed
    then are charged on the end date (the outcome says how much, as things stand)."""
    priced = await locked(session, context, subscription_id)
    return await _end_at_term_end(session, context, priced, "subscription")


async def _end_at_term_end(
    session: AsyncSession,
    context: Context,
    priced: tuple[Subscription, Plan, Price],
    field: str,
) -> Outcome:
    """Cancel: no renewal (nor a pending downgrade); the term runs to its end date."""
    subscription, plan, price = priced
    if subscription.cancelled_on is not None:
        raise ConflictError(
            ErrorCode.ALREADY_CANCELLED,
            f"Cancelled on {subscription.cancelled_on.isoformat()}.",
            field,
        )
    if subscription.renewal_seats is not None:
        raise ConflictError(
            ErrorCode.RENEWAL_SCHEDULED,
            "The next term is already bought; it can no longer be cancelled.",
            field,
        )
    before = state(subscription, SUBSCRIPTION_FIELDS)
    subscription.cancelled_on = context.clock.today()
    subscription.auto_renew = False
    subscription.pending_plan_id = None
    await session.flush()
    record(session, Who.of(context), "subscription.cancelled", subscription, before)
    return Outcome(subscription, charge_at_end=renewals.charge_at_end(subscription, plan, price))


@change("addOnPurchase")
async def add_on_purchase(
    session: AsyncSession, context: Context, subscription_id: int, add_on_code: str, quantity: int
) -> Outcome:
    """Units of an add-on for the rest of the term, prorated by day like seats."""
    subscription, _, price = await locked(session, context, subscription_id, paid=True)
    assert subscription.id is not None
    if subscription.renewal_seats is not None:
        raise ConflictError(
            ErrorCode.RENEWAL_SCHEDULED,
            "The next term is already bought; add add-ons after it starts.",
            "subscription",
        )
    term, on = _term_and_day(subscription, context.clock.today())
    owned = {row.add_on_id: row for row in await add_ons_of(session, subscription.id)}
    add_on = (await add_ons_by_code(session, [add_on_code])).get(add_on_code)
    if add_on is None:
        raise NotFoundError(
            ErrorCode.ADD_ON_NOT_FOUND, f"There is no add-on {add_on_code!r}.", "addOn"
        )
    row = owned.get(add_on.id)
    _check_quantity(
        quantity, MAX_ADD_ON_QUANTITY - (row.quantity if row else 0), "quantity", "Quantity"
    )
    unit = await price_in_force(
        session,
        AddOnPrice,
        add_on,
        currency=price.currency,
        billing_period=BillingPeriod(price.billing_period),
        on=on,
        field="addOn",
    )
    if row is None:
        session.add(
            SubscriptionAddOn(
                subscription_id=subscription.id,
                add_on_id=add_on.id,
                add_on_price_id=unit.id,
                quantity=quantity,
            )
        )
    else:
        row.quantity += quantity
    item = Item(add_on.name, quantity, Money(unit.unit_amount, unit.currency))
    charge = charge_prorated(ChargeKind.ADD_ON, item, term, on)
    record(session, Who.of(context), "subscription.add_on_bought", subscription, None)
    return await issue_invoice(session, Who.of(context), subscription, charge)


async def locked(
    session: AsyncSession,
    context: Context,
    subscription_id: int,
    *,
    ended: bool = False,
    paid: bool = False,
    recounts: bool = False,
) -> tuple[Subscription, Plan, Price]:
    """The caller's active subscription, locked, with its plan and price. Unless `ended`, its
    term must still be running (a term that has ended waits for renewal or expiry); with
    `paid`, it may not be a trial (a trial is ended by buying). A change that `recounts` seats
    locks the namespace first (see `lock_namespace_of`)."""
    if recounts:
        await lock_namespace_of(session, subscription_id)
    found = await lock_priced(session, subscription_id)
    if found is None or not context.principal.may_manage_customer(found[0].customer_id):
        raise NotFoundError(
            ErrorCode.SUBSCRIPTION_NOT_FOUND, "There is no such subscription.", "subscription"
        )
    subscription, plan, price = found
    if subscription.status != SubscriptionStatus.ACTIVE or (
        not ended and context.clock.today() >= subscription.end_date
    ):
        raise ConflictError(
            ErrorCode.SUBSCRIPTION_NOT_ACTIVE,
            f"The subscription's term ended on {subscription.end_date.isoformat()}; the "
            "daily job renews or expires it, or renew it now with subscriptionRenew.",
            "subscription",
        )
    if paid and subscription.trial:
        raise ConflictError(
            ErrorCode.TRIAL_SUBSCRIPTION,
            "A trial is not billed; buy a subscription (subscriptionPurchase ends the trial).",
            "subscription",
        )
    return subscription, plan, price


def _term_and_day(subscription: Subscription, today: date) -> tuple[Term, date]:
    """The running term and the day a change counts from (its start, if it starts later)."""
    return Term(subscription.start_date, subscription.end_date), max(today, subscription.start_date)


def _check_quantity(quantity: int, most: int, field: str, noun: str) -> None:
    if quantity < 1:
        raise InvalidInputError(
            ErrorCode.SEATS_BELOW_MINIMUM if field == "seats" else ErrorCode.QUANTITY_BELOW_MINIMUM,
            f"{noun} must be at least 1.",
            field,
        )
    if quantity > most:
        raise InvalidInputError(
            ErrorCode.SEATS_ABOVE_MAXIMUM if field == "seats" else ErrorCode.QUANTITY_ABOVE_MAXIMUM,
            f"{noun} cannot exceed {max(most, 0)} more; contact sales for larger deals.",
            field,
        )
