"""Buying and changing subscriptions. Each use case runs through `changes.run_change`: one
transaction that locks the subscription (or namespace) it changes, prices with `billing`,
writes the invoice and the audit trail, and can be previewed or retried with a key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import (
    Charge,
    ChargeKind,
    Item,
    Term,
    charge_plan_upgrade,
    charge_prorated,
)
from billing.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError
from billing.money import Money
from billing.quotes import MAX_ADD_ON_QUANTITY, MAX_SEATS, AddOnRequest, validate_purchase
from billing.subscriptions import SubscriptionStatus
from billing.terms import BillingPeriod, term_end
from db.catalog import add_ons_by_code, plan_by_code
from db.subscriptions import (
    active_subscription_of,
    add_ons_of,
    lock_instance,
    lock_namespace,
    lock_namespace_of,
    lock_priced,
)
from db.tables import (
    AddOnPrice,
    Customer,
    Namespace,
    Plan,
    Price,
    Subscription,
    SubscriptionAddOn,
)
from resolvers import renewals
from resolvers.catalog import price_in_force, price_order
from resolvers.changes import (
    SUBSCRIPTION_FIELDS,
    Outcome,
    Who,
    issue_invoice,
    record,
    require,
    run_change,
    state,
)
from resolvers.context import Context
from resolvers.principal import Permission


@dataclass(frozen=True)
class PurchaseCommand:
    customer_id: int
    plan_code: str
    seats: int
    billing_period: BillingPeriod
    namespace_path: str | None = None
    instance_id: int | None = None
    add_ons: tuple[AddOnRequest, ...] = ()
    start_date: date | None = None
    quarterly_reconciliation: bool = False
    auto_renew: bool = True


async def purchase(
    context: Context, command: PurchaseCommand, *, idempotency_key: str | None, preview: bool
) -> Outcome:
    """A new subscription for a namespace or an instance, and its invoice for the whole term."""
    require(context)
    today = context.clock.today()
    start = command.start_date or today
    validate_purchase(seats=command.seats, add_ons=command.add_ons, start_date=start, today=today)
    if (command.namespace_path is None) == (command.instance_id is None):
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE, "Give either a namespace or an instance.", "namespace"
        )
    _check_reconciliation(command.quarterly_reconciliation, command.billing_period)

    async def change(session: AsyncSession) -> Outcome:
        customer = await session.get(Customer, command.customer_id)
        if customer is None or not context.principal.may_manage_customer(customer.id):
            raise NotFoundError(
                ErrorCode.CUSTOMER_NOT_FOUND, "There is no such customer.", "customer"
            )
        namespace = await _target(session, context, command, customer)
        currency, period = customer.currency, command.billing_period
        order = await price_order(
            session,
            plan_code=command.plan_code,
            seats=command.seats,
            add_ons=command.add_ons,
            currency=currency,
            billing_period=period,
            on=start,
            price_field="plan",
        )
        plan, price = order.plan, order.price
        term = Term(start, term_end(start, period))
        subscription = Subscription(
            customer_id=customer.id,
            namespace_id=namespace.id if namespace else None,
            instance_id=command.instance_id,
            plan_id=plan.id,
            price_id=price.id,
            seats=command.seats,
            start_date=term.start,
            end_date=term.end,
            status=SubscriptionStatus.ACTIVE.value,
            auto_renew=command.auto_renew,
            quarterly_reconciliation=command.quarterly_reconciliation,
        )
        session.add(subscription)
        await session.flush()
        assert subscription.id is not None
        for add_on, unit, item in order.add_ons:
            session.add(
                SubscriptionAddOn(
                    subscription_id=subscription.id,
                    add_on_id=add_on.id,
                    add_on_price_id=unit.id,
                    quantity=item.quantity,
                )
            )
        if namespace is not None:
            billable = await renewals.recount(
                session, namespace, subscription, context.clock.today()
            )
            if command.seats < billable:
                raise InvalidInputError(
                    ErrorCode.SEATS_BELOW_BILLABLE,
                    f"{billable} users take a seat in {namespace.path} on {plan.name}; "
                    f"buy at least {billable} seats.",
                    "seats",
                )
        quote = order.quote(term.start, period)
        charge = Charge(quote.currency, quote.lines)
        record(session, Who.of(context), "subscription.purchased", subscription, None)
        return await issue_invoice(session, Who.of(context), subscription, charge)

    return await run_change(
        context,
        operation="subscriptionPurchase",
        request=command,
        idempotency_key=idempotency_key,
        preview=preview,
        change=change,
    )


async def add_seats(
    context: Context,
    subscription_id: int,
    seats: int,
    *,
    idempotency_key: str | None,
    preview: bool,
) -> Outcome:
    """More seats for the rest of the term, prorated by day."""
    require(context)

    async def change(session: AsyncSession) -> Outcome:
        subscription, plan, price = await locked(session, context, subscription_id, paid=True)
        _check_quantity(seats, MAX_SEATS - subscription.seats, "seats", "Seats")
        term, on = _term_and_day(subscription, context.clock.today())
        item = Item(plan.name, seats, Money(price.unit_amount, price.currency))
        charge = charge_prorated(ChargeKind.SEATS, item, term, on)
        before = state(subscription, SUBSCRIPTION_FIELDS)
        subscription.seats += seats
        record(session, Who.of(context), "subscription.seats_added", subscription, before)
        return await issue_invoice(session, Who.of(context), subscription, charge)

    return await run_change(
        context,
        operation="subscriptionAddSeats",
        request={"subscription": subscription_id, "seats": seats},
        idempotency_key=idempotency_key,
        preview=preview,
        change=change,
    )


async def change_plan(
    context: Context,
    subscription_id: int,
    plan_code: str,
    *,
    idempotency_key: str | None,
    preview: bool,
) -> Outcome:
    """An upgrade (a plan further up the catalog) takes effect now: a prorated credit for the
    old plan and charge for the new. A downgrade waits for the renewal."""
    require(context)

    async def change(session: AsyncSession) -> Outcome:
        subscription, plan, price = await locked(
            session, context, subscription_id, paid=True, recounts=True
        )
        new_plan = await plan_by_code(session, plan_code)
        if new_plan is None:
            raise NotFoundError(
                ErrorCode.PLAN_NOT_FOUND, f"There is no plan {plan_code!r}.", "plan"
            )
        if new_plan.id == subscription.plan_id and subscription.pending_plan_id is None:
            raise InvalidInputError(
                ErrorCode.SAME_PLAN, f"The subscription is already on {plan.name}.", "plan"
            )
        if new_plan.id == subscription.plan_id:  # staying: the downgrade is withdrawn
            before = state(subscription, SUBSCRIPTION_FIELDS)
            subscription.pending_plan_id = None
            await session.flush()
            record(
                session, Who.of(context), "subscription.downgrade_withdrawn", subscription, before
            )
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
            record(
                session, Who.of(context), "subscription.downgrade_scheduled", subscription, before
            )
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
        seats = subscription.seats
        charge = charge_plan_upgrade(
            seats,
            Item(plan.name, seats, Money(price.unit_amount, price.currency)),
            Item(new_plan.name, seats, Money(new_price.unit_amount, price.currency)),
            term,
            on,
        )
        subscription.plan_id, subscription.price_id = new_plan.id, new_price.id
        subscription.pending_plan_id = None
        await session.flush()
        if (
            subscription.namespace_id is not None
            and new_plan.excludes_guests != plan.excludes_guests
        ):
            namespace = await session.get(Namespace, subscription.namespace_id)
            assert namespace is not None
            await renewals.recount(session, namespace, subscription, context.clock.today())
        record(session, Who.of(context), "subscription.upgraded", subscription, before)
        return await issue_invoice(session, Who.of(context), subscription, charge)

    return await run_change(
        context,
        operation="subscriptionChangePlan",
        request={"subscription": subscription_id, "plan": plan_code},
        idempotency_key=idempotency_key,
        preview=preview,
        change=change,
    )


async def renew(
    context: Context,
    subscription_id: int,
    seats: int,
    billing_period: BillingPeriod,
    *,
    idempotency_key: str | None,
    preview: bool,
) -> Outcome:
    """Buy the next term, which starts on the current end date. Bought before that date, it
    waits there (the daily job starts it and charges any true-up of the ending term); bought on
    or after it, the term starts now and the invoice carries the true-up too."""
    require(context)
    _check_quantity(seats, MAX_SEATS, "seats", "Seats")

    async def change(session: AsyncSession) -> Outcome:
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
        subscription.cancelled_on = None
        if today >= subscription.end_date:
            charge = await renewals.start_next_term(
                session, subscription, plan, price, next_term, today=today
            )
        else:
            charge, next_price, _ = await renewals.price_next_term(
                session, subscription, next_term, field="billingPeriod"
            )
            subscription.renewal_seats, subscription.renewal_price_id = seats, next_price.id
        record(session, Who.of(context), "subscription.renewed", subscription, before)
        return await issue_invoice(session, Who.of(context), subscription, charge)

    return await run_change(
        context,
        operation="subscriptionRenew",
        request={"subscription": subscription_id, "seats": seats, "period": billing_period},
        idempotency_key=idempotency_key,
        preview=preview,
        change=change,
    )


async def set_auto_renew(
    context: Context,
    subscription_id: int,
    enabled: bool,
    *,
    idempotency_key: str | None,
    preview: bool,
) -> Outcome:
    """Turn automatic renewal on or off; turning it on withdraws a cancellation."""
    require(context)

    async def change(session: AsyncSession) -> Outcome:
        subscription, _, _ = await locked(session, context, subscription_id)
        before = state(subscription, SUBSCRIPTION_FIELDS)
        subscription.auto_renew = enabled
        if enabled:
            subscription.cancelled_on = None
        await session.flush()
        record(session, Who.of(context), "subscription.auto_renew_set", subscription, before)
        return Outcome(subscription)

    return await run_change(
        context,
        operation="subscriptionSetAutoRenew",
        request={"subscription": subscription_id, "enabled": enabled},
        idempotency_key=idempotency_key,
        preview=preview,
        change=change,
    )


async def cancel(
    context: Context, subscription_id: int, *, idempotency_key: str | None, preview: bool
) -> Outcome:
    """The subscription stays active to the end of its term, then expires."""
    require(context)

    async def change(session: AsyncSession) -> Outcome:
        subscription, _, _ = await locked(session, context, subscription_id)
        if subscription.cancelled_on is not None:
            raise ConflictError(
                ErrorCode.ALREADY_CANCELLED,
                f"Cancelled on {subscription.cancelled_on.isoformat()}.",
                "subscription",
            )
        if subscription.renewal_seats is not None:
            raise ConflictError(
                ErrorCode.RENEWAL_SCHEDULED,
                "The next term is already bought; it can no longer be cancelled.",
                "subscription",
            )
        before = state(subscription, SUBSCRIPTION_FIELDS)
        subscription.cancelled_on = context.clock.today()
        subscription.auto_renew = False
        await session.flush()
        record(session, Who.of(context), "subscription.cancelled", subscription, before)
        return Outcome(subscription)

    return await run_change(
        context,
        operation="subscriptionCancel",
        request={"subscription": subscription_id},
        idempotency_key=idempotency_key,
        preview=preview,
        change=change,
    )


async def add_on_purchase(
    context: Context,
    subscription_id: int,
    add_on_code: str,
    quantity: int,
    *,
    idempotency_key: str | None,
    preview: bool,
) -> Outcome:
    """Units of an add-on for the rest of the term, prorated by day like seats."""
    require(context)

    async def change(session: AsyncSession) -> Outcome:
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

    return await run_change(
        context,
        operation="addOnPurchase",
        request={"subscription": subscription_id, "addOn": add_on_code, "quantity": quantity},
        idempotency_key=idempotency_key,
        preview=preview,
        change=change,
    )


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
            f"The subscription's term ended on {subscription.end_date.isoformat()}.",
            "subscription",
        )
    if paid and subscription.trial:
        raise ConflictError(
            ErrorCode.TRIAL_SUBSCRIPTION,
            "A trial is not billed; buy a subscription (subscriptionPurchase ends the trial).",
            "subscription",
        )
    return subscription, plan, price


async def _target(
    session: AsyncSession, context: Context, command: PurchaseCommand, customer: Customer
) -> Namespace | None:
    """The namespace (locked) or instance the purchase is for. A customer buys for its own
    namespaces; the billing team may also sell an unowned one, which becomes the customer's.
    An active trial ends with the purchase; any other active subscription is in the way."""
    if command.namespace_path is not None:
        namespace = await lock_namespace(session, command.namespace_path)
        owner = namespace.customer_id if namespace else None
        claimable = owner is None and Permission.MANAGE_BILLING in context.principal.permissions
        if namespace is None or (owner != customer.id and not claimable):
            raise NotFoundError(
                ErrorCode.NAMESPACE_NOT_FOUND,
                f"There is no namespace {command.namespace_path!r}.",
                "namespace",
            )
        namespace.customer_id = customer.id
        existing = await active_subscription_of(
            session, namespace_id=namespace.id, instance_id=None
        )
        field = "namespace"
    else:
        assert command.instance_id is not None
        instance = await lock_instance(session, command.instance_id)
        if instance is None or instance.customer_id != customer.id:
            raise NotFoundError(
                ErrorCode.INSTANCE_NOT_FOUND, "There is no such instance.", "instance"
            )
        namespace = None
        existing = await active_subscription_of(session, namespace_id=None, instance_id=instance.id)
        field = "instance"
    if existing is not None and existing.trial:
        before = state(existing, SUBSCRIPTION_FIELDS)
        existing.status = SubscriptionStatus.EXPIRED.value
        await session.flush()
        record(session, Who.of(context), "subscription.trial_ended", existing, before)
    elif existing is not None:
        raise ConflictError(
            ErrorCode.SUBSCRIPTION_EXISTS,
            "It already has an active subscription; add seats, change plan or renew it.",
            field,
        )
    return namespace


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


def _check_reconciliation(enabled: bool, period: BillingPeriod) -> None:
    if enabled and period is not BillingPeriod.ANNUAL:
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE,
            "Quarterly reconciliation needs an annual term.",
            "quarterlyReconciliation",
        )
