"""Buying a subscription: for one of the customer's namespaces or instances, a whole term,
invoiced at once (see `changes.change` for the transaction, previews and idempotency)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import (
    Charge,
    Term,
)
from billing.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError
from billing.licenses import LicenseType
from billing.quotes import AddOnRequest, validate_purchase
from billing.subscriptions import SubscriptionStatus
from billing.terms import BillingPeriod, term_end
from db.subscriptions import (
    active_subscription_of,
    lock_instance,
    lock_namespace,
)
from db.tables import (
    Customer,
    Namespace,
    Subscription,
    SubscriptionAddOn,
)
from resolvers import renewals
from resolvers.catalog import price_order
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
    license_type: LicenseType = LicenseType.ONLINE


@change("subscriptionPurchase")
async def purchase(session: AsyncSession, context: Context, command: PurchaseCommand) -> Outcome:
    """A new subscription for a namespace or an instance, and its invoice for the whole term."""
    today = context.clock.today()
    start = command.start_date or today
    validate_purchase(seats=command.seats, add_ons=command.add_ons, start_date=start, today=today)
    if (command.namespace_path is None) == (command.instance_id is None):
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE, "Give either a namespace or an instance.", "namespace"
        )
    _check_reconciliation(command.quarterly_reconciliation, command.billing_period)
    customer = await session.get(Customer, command.customer_id)
    if customer is None or not context.principal.may_manage_customer(customer.id):
        raise NotFoundError(ErrorCode.CUSTOMER_NOT_FOUND, "There is no such customer.", "customer")
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
        anchor_day=term.start.day,
        status=SubscriptionStatus.ACTIVE.value,
        auto_renew=command.auto_renew,
        quarterly_reconciliation=command.quarterly_reconciliation,
        license_type=command.license_type.value,
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
        billable = await renewals.recount(session, namespace, subscription, context.clock.today())
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


def _check_reconciliation(enabled: bool, period: BillingPeriod) -> None:
    if enabled and period is not BillingPeriod.ANNUAL:
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE,
            "Quarterly reconciliation needs an annual term.",
            "quarterlyReconciliation",
        )
