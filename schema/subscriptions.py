"""Mutations that buy and change subscriptions, and the billing team's invoice mutations.

Every one takes `preview` (do everything, write nothing, answer with the change's preview
type, which has no ids) and `idempotencyKey` (a retry with the same key and input returns the
first result and does nothing else)."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable
from typing import Annotated

import strawberry

from billing.errors import BillingError
from billing.quotes import AddOnRequest
from resolvers import invoices, purchases, subscriptions
from resolvers.changes import How, Outcome
from schema.accounts import Subscription
from schema.base import BillingPeriod, Info, node_id
from schema.catalog import AddOnQuantityInput
from schema.errors import Conflict, InvalidInput, NotFound, PriceNotFound, user_error
from schema.invoices import Invoice, Payment
from schema.licenses import LicenseType
from schema.previews import InvoiceChangePreview, SubscriptionChangePreview
from schema.renewals import ChargeAtEnd
from schema.scalars import Long


@strawberry.type(
    description="What a subscription change did (a preview answers with SubscriptionChangePreview)."
)
class SubscriptionChangeSuccess:
    subscription: Subscription = strawberry.field(description="The subscription as it is now.")
    invoice: Invoice | None = strawberry.field(
        description="The invoice issued; null when the change costs nothing now."
    )
    replayed: bool = strawberry.field(
        description="True when this is the stored result of an earlier call with this key."
    )
    charge_at_end: ChargeAtEnd | None = strawberry.field(
        default=None,
        description="A cancellation (or a downgrade to Free): what the end date will charge, "
        "as things stand now (the seats owed then). Null for other changes and replays.",
    )


@strawberry.type(
    description="What an invoice change did (a preview answers with InvoiceChangePreview)."
)
class InvoiceChangeSuccess:
    invoice: Invoice = strawberry.field(description="The invoice as it is now.")
    payment: Payment | None = strawberry.field(description="The payment recorded, if any.")
    replayed: bool = strawberry.field(
        description="True when this is the stored result of an earlier call with this key."
    )


def _union(name: str, success: type, preview: type) -> object:
    return Annotated[
        success | preview | InvalidInput | NotFound | PriceNotFound | Conflict,
        strawberry.union(
            name, description="The change made, what it would do (a preview), or why not."
        ),
    ]


def _subscription_union(name: str) -> object:
    return _union(name, SubscriptionChangeSuccess, SubscriptionChangePreview)


def _invoice_union(name: str) -> object:
    return _union(name, InvoiceChangeSuccess, InvoiceChangePreview)


SubscriptionPurchaseResult = _subscription_union("SubscriptionPurchaseResult")
SubscriptionAddSeatsResult = _subscription_union("SubscriptionAddSeatsResult")
SubscriptionChangePlanResult = _subscription_union("SubscriptionChangePlanResult")
SubscriptionRenewResult = _subscription_union("SubscriptionRenewResult")
SubscriptionSetAutoRenewResult = _subscription_union("SubscriptionSetAutoRenewResult")
SubscriptionCancelResult = _subscription_union("SubscriptionCancelResult")
AddOnPurchaseResult = _subscription_union("AddOnPurchaseResult")
InvoicePayResult = _invoice_union("InvoicePayResult")
InvoiceVoidResult = _invoice_union("InvoiceVoidResult")

_INPUT = strawberry.argument(description="What to change.")
_PREVIEW = (
    "Run the real call on today's date and write nothing: the answer is the change's preview "
    "type (no ids). With an idempotency key already used, it shows that stored outcome."
)
_KEY = "Up to 255 characters; a retry with the same key and input returns the first result."


@strawberry.input(description="Fields every change takes.")
class _ChangeInput:
    preview: bool = strawberry.field(default=False, description=_PREVIEW)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="A new subscription for a namespace or a self-managed instance.")
class SubscriptionPurchaseInput(_ChangeInput):
    customer_id: strawberry.ID = strawberry.field(description="The paying customer.")
    plan: str = strawberry.field(description="Plan code: premium or ultimate.")
    seats: int = strawberry.field(
        description="Seats, 1 to 100000; at least the namespace's billable users."
    )
    billing_period: BillingPeriod = strawberry.field(
        default=BillingPeriod.ANNUAL, description="Length of the term; annual by default."
    )
    namespace_path: str | None = strawberry.field(
        default=None, description="The GitLab.com group (give this or instanceId)."
    )
    instance_id: strawberry.ID | None = strawberry.field(
        default=None, description="The self-managed instance (give this or namespacePath)."
    )
    add_ons: list[AddOnQuantityInput] = strawberry.field(
        default_factory=list, description="Add-ons bought with it."
    )
    start_date: datetime.date | None = strawberry.field(
        default=None, description="First day of the term; today by default, never earlier."
    )
    quarterly_reconciliation: bool = strawberry.field(
        default=False,
        description="Charge seats used above those paid every quarter instead of at renewal "
        "(annual terms only).",
    )
    auto_renew: bool = strawberry.field(default=True, description="Renew at the end date.")
    license_type: LicenseType = strawberry.field(
        default=LicenseType.ONLINE,
        description="For an instance: licenses by sync (ONLINE) or as files (OFFLINE).",
    )


@strawberry.input(description="More seats for the rest of the term.")
class SubscriptionAddSeatsInput(_ChangeInput):
    subscription_id: strawberry.ID = strawberry.field(description="The subscription.")
    seats: int = strawberry.field(description="Seats to add, at least 1.")


@strawberry.input(description="Move to another plan.")
class SubscriptionChangePlanInput(_ChangeInput):
    subscription_id: strawberry.ID = strawberry.field(description="The subscription.")
    plan: str = strawberry.field(
        description="Plan code. A higher plan applies now; a lower one at the renewal."
    )


@strawberry.input(description="Buy the next term, starting on the current end date.")
class SubscriptionRenewInput(_ChangeInput):
    subscription_id: strawberry.ID = strawberry.field(description="The subscription.")
    seats: int = strawberry.field(description="Seats for the new term; at least seatsInUse.")
    billing_period: BillingPeriod = strawberry.field(
        default=BillingPeriod.ANNUAL, description="Length of the new term."
    )


@strawberry.input(description="Turn automatic renewal on or off.")
class SubscriptionSetAutoRenewInput(_ChangeInput):
    subscription_id: strawberry.ID = strawberry.field(description="The subscription.")
    auto_renew: bool = strawberry.field(description="On withdraws a cancellation.")


@strawberry.input(description="Stop at the end of the term.")
class SubscriptionCancelInput(_ChangeInput):
    subscription_id: strawberry.ID = strawberry.field(description="The subscription.")


@strawberry.input(description="Units of an add-on for the rest of the term.")
class AddOnPurchaseInput(_ChangeInput):
    subscription_id: strawberry.ID = strawberry.field(description="The subscription.")
    add_on: str = strawberry.field(description="The add-on's code, e.g. duo_pro.")
    quantity: int = strawberry.field(description="Units to add, at least 1.")


@strawberry.input(description="An exact amount of money.")
class MoneyInput:
    minor_units: Long = strawberry.field(description="In the currency's minor unit (cents).")
    currency: str = strawberry.field(description="ISO 4217 code; must be the invoice's.")


@strawberry.input(description="Record money received against an invoice.")
class InvoicePayInput(_ChangeInput):
    invoice_id: strawberry.ID = strawberry.field(description="The invoice.")
    amount: MoneyInput = strawberry.field(description="At most what is left to pay.")
    reference: str = strawberry.field(description="Bank or processor reference.")


@strawberry.input(description="Cancel an invoice nothing was paid on.")
class InvoiceVoidInput(_ChangeInput):
    invoice_id: strawberry.ID = strawberry.field(description="The invoice.")


async def _subscription_result(call: Awaitable[Outcome]) -> object:
    try:
        outcome = await call
    except BillingError as error:
        return user_error(error)
    assert outcome.subscription is not None
    if outcome.preview:
        return SubscriptionChangePreview.of(outcome)
    return SubscriptionChangeSuccess(
        subscription=Subscription.of(outcome.subscription),
        invoice=Invoice.of(outcome.invoice) if outcome.invoice else None,
        replayed=outcome.replayed,
        charge_at_end=ChargeAtEnd.of(outcome.charge_at_end) if outcome.charge_at_end else None,
    )


async def _invoice_result(call: Awaitable[Outcome]) -> object:
    try:
        outcome = await call
    except BillingError as error:
        return user_error(error)
    assert outcome.invoice is not None
    if outcome.preview:
        return InvoiceChangePreview.of(outcome)
    invoice = outcome.invoice
    return InvoiceChangeSuccess(
        invoice=Invoice.of(invoice),
        payment=Payment.of(outcome.payment, invoice.currency) if outcome.payment else None,
        replayed=outcome.replayed,
    )


def _how(input: _ChangeInput) -> How:
    return How(input.idempotency_key, input.preview)


def _subscription(raw: strawberry.ID) -> int:
    return node_id("Subscription", raw, "subscriptionId")


@strawberry.type
class SubscriptionMutation:
    @strawberry.mutation(description="Buy a subscription; issues its invoice for the term.")
    async def subscription_purchase(
        self, info: Info, input: Annotated[SubscriptionPurchaseInput, _INPUT]
    ) -> SubscriptionPurchaseResult:  # type: ignore[valid-type]
        command = purchases.PurchaseCommand(
            customer_id=node_id("Customer", input.customer_id, "customerId"),
            plan_code=input.plan,
            seats=input.seats,
            billing_period=input.billing_period,
            namespace_path=input.namespace_path,
            instance_id=node_id("Instance", input.instance_id, "instanceId")
            if input.instance_id is not None
            else None,
            add_ons=tuple(AddOnRequest(a.code, a.quantity) for a in input.add_ons),
            start_date=input.start_date,
            quarterly_reconciliation=input.quarterly_reconciliation,
            auto_renew=input.auto_renew,
            license_type=input.license_type,
        )
        return await _subscription_result(
            purchases.purchase(
                info.context,
                _how(input),
                command,
            )
        )

    @strawberry.mutation(description="Add seats, prorated by day to the end of the term.")
    async def subscription_add_seats(
        self, info: Info, input: Annotated[SubscriptionAddSeatsInput, _INPUT]
    ) -> SubscriptionAddSeatsResult:  # type: ignore[valid-type]
        return await _subscription_result(
            subscriptions.add_seats(
                info.context,
                _how(input),
                _subscription(input.subscription_id),
                input.seats,
            )
        )

    @strawberry.mutation(
        description="Upgrade now (prorated credit and charge) or downgrade at the renewal."
    )
    async def subscription_change_plan(
        self, info: Info, input: Annotated[SubscriptionChangePlanInput, _INPUT]
    ) -> SubscriptionChangePlanResult:  # type: ignore[valid-type]
        return await _subscription_result(
            subscriptions.change_plan(
                info.context,
                _how(input),
                _subscription(input.subscription_id),
                input.plan,
            )
        )

    @strawberry.mutation(description="Buy the next term (with the true-up of this one).")
    async def subscription_renew(
        self, info: Info, input: Annotated[SubscriptionRenewInput, _INPUT]
    ) -> SubscriptionRenewResult:  # type: ignore[valid-type]
        return await _subscription_result(
            subscriptions.renew(
                info.context,
                _how(input),
                _subscription(input.subscription_id),
                input.seats,
                input.billing_period,
            )
        )

    @strawberry.mutation(description="Turn automatic renewal on or off.")
    async def subscription_set_auto_renew(
        self, info: Info, input: Annotated[SubscriptionSetAutoRenewInput, _INPUT]
    ) -> SubscriptionSetAutoRenewResult:  # type: ignore[valid-type]
        return await _subscription_result(
            subscriptions.set_auto_renew(
                info.context,
                _how(input),
                _subscription(input.subscription_id),
                input.auto_renew,
            )
        )

    @strawberry.mutation(description="Cancel: active to the end of the term, then expired.")
    async def subscription_cancel(
        self, info: Info, input: Annotated[SubscriptionCancelInput, _INPUT]
    ) -> SubscriptionCancelResult:  # type: ignore[valid-type]
        return await _subscription_result(
            subscriptions.cancel(
                info.context,
                _how(input),
                _subscription(input.subscription_id),
            )
        )

    @strawberry.mutation(description="Buy add-on units, prorated by day like seats.")
    async def add_on_purchase(
        self, info: Info, input: Annotated[AddOnPurchaseInput, _INPUT]
    ) -> AddOnPurchaseResult:  # type: ignore[valid-type]
        return await _subscription_result(
            subscriptions.add_on_purchase(
                info.context,
                _how(input),
                _subscription(input.subscription_id),
                input.add_on,
                input.quantity,
            )
        )

    @strawberry.mutation(description="Record a payment. The billing team (admins).")
    async def invoice_pay(
        self, info: Info, input: Annotated[InvoicePayInput, _INPUT]
    ) -> InvoicePayResult:  # type: ignore[valid-type]
        return await _invoice_result(
            invoices.pay(
                info.context,
                _how(input),
                node_id("Invoice", input.invoice_id, "invoiceId"),
                invoices.Received(
                    int(input.amount.minor_units), input.amount.currency, input.reference
                ),
            )
        )

    @strawberry.mutation(description="Void an unpaid invoice. The billing team (admins).")
    async def invoice_void(
        self, info: Info, input: Annotated[InvoiceVoidInput, _INPUT]
    ) -> InvoiceVoidResult:  # type: ignore[valid-type]
        return await _invoice_result(
            invoices.void(
                info.context,
                _how(input),
                node_id("Invoice", input.invoice_id, "invoiceId"),
            )
        )
