"""What a change would do, as a preview answers it: its own types, none a Node and none with an
id, so that a client cache never files a preview under a real object (Stripe's "upcoming
invoice" has no id either). Their values were read inside the preview's transaction."""

from __future__ import annotations

import datetime

import strawberry

from billing.money import Money as DomainMoney
from billing.subscriptions import InvoiceStatus as DomainInvoiceStatus
from db import tables
from resolvers.changes import Outcome
from schema.base import Money
from schema.invoices import InvoiceLine, InvoiceStatus, Payment
from schema.renewals import ChargeAtEnd
from schema.subscription_terms import SubscriptionAddOn, SubscriptionTerms, terms_of

_NOT_STORED = "Not stored: it has no id."


@strawberry.type(
    description="A subscription as a change would leave it (a preview). " + _NOT_STORED
)
class SubscriptionSnapshot(SubscriptionTerms):
    seats_in_use: int | None = strawberry.field(
        description="Billable users (null for an instance that never reported)."
    )
    max_seats_used: int | None = strawberry.field(
        description="The highest seatsInUse since the term started."
    )
    seats_owed: int | None = strawberry.field(
        description="max(0, maxSeatsUsed - seats) on paid plans: seats to pay for at true-up."
    )
    seats_remaining: int | None = strawberry.field(
        description="max(0, seats - seatsInUse): seats free to fill."
    )
    add_ons: list[SubscriptionAddOn] = strawberry.field(description="Add-ons paid for.")

    @classmethod
    def of(cls, outcome: Outcome) -> SubscriptionSnapshot:
        row, seen = outcome.subscription, outcome.seen
        assert row is not None
        assert seen is not None
        figures = seen.figures
        return cls(
            **terms_of(row),
            seats_in_use=figures.seats_in_use if figures else None,
            max_seats_used=figures.max_seats_used if figures else None,
            seats_owed=figures.seats_owed if figures else None,
            seats_remaining=figures.seats_remaining if figures else None,
            add_ons=[SubscriptionAddOn(quantity=a.quantity, row=a) for a in seen.add_ons],
        )


@strawberry.type(
    description="An invoice as a change would issue or leave it (a preview). " + _NOT_STORED
)
class InvoicePreview:
    number: str = strawberry.field(
        description="Its number: for a new invoice, the one it would take if issued now."
    )
    status: InvoiceStatus = strawberry.field(description="Open until paid in full.")
    currency: str = strawberry.field(description="ISO 4217 currency of every amount on it.")
    issued_on: datetime.date = strawberry.field(description="The day it is (or was) issued.")
    total: Money = strawberry.field(description="The sum of its lines.")
    amount_paid: Money = strawberry.field(description="Payments received.")
    amount_due: Money = strawberry.field(description="What is left to pay (0 when void).")
    lines: list[InvoiceLine] = strawberry.field(description="The lines, in order.")

    @classmethod
    def of(cls, row: tables.Invoice, lines: list[tables.InvoiceLine]) -> InvoicePreview:
        assert row.number is not None  # numbered as a commit would have
        due = 0 if row.status == DomainInvoiceStatus.VOID else row.total - row.amount_paid
        return cls(
            number=row.number,
            status=InvoiceStatus(row.status),
            currency=row.currency,
            issued_on=row.issued_on,
            total=Money.of(DomainMoney(row.total, row.currency)),
            amount_paid=Money.of(DomainMoney(row.amount_paid, row.currency)),
            amount_due=Money.of(DomainMoney(due, row.currency)),
            lines=[InvoiceLine.of(line, row.currency) for line in lines],
        )


_REPLAYED = (
    "True when the idempotency key was used already: this is the stored outcome of that call "
    "(as it is now), which a real call with the key would return too, charging nothing again."
)


@strawberry.type(
    description="What a subscription change would do, computed by the real call on today's "
    "date and rolled back. " + _NOT_STORED
)
class SubscriptionChangePreview:
    subscription: SubscriptionSnapshot = strawberry.field(
        description="The subscription as the change would leave it."
    )
    invoice: InvoicePreview | None = strawberry.field(
        description="The invoice the change would issue today; null when it costs nothing now."
    )
    replayed: bool = strawberry.field(description=_REPLAYED)
    charge_at_end: ChargeAtEnd | None = strawberry.field(
        description="A cancellation (or a downgrade to Free): what the end date will charge, "
        "as things stand now (the seats owed then). Null for other changes and replays."
    )

    @classmethod
    def of(cls, outcome: Outcome) -> SubscriptionChangePreview:
        invoice = outcome.invoice
        return cls(
            subscription=SubscriptionSnapshot.of(outcome),
            invoice=InvoicePreview.of(invoice, outcome.lines) if invoice else None,
            replayed=outcome.replayed,
            charge_at_end=ChargeAtEnd.of(outcome.charge_at_end) if outcome.charge_at_end else None,
        )


@strawberry.type(
    description="What an invoice change would do, computed by the real call and rolled back. "
    + _NOT_STORED
)
class InvoiceChangePreview:
    invoice: InvoicePreview = strawberry.field(description="The invoice as it would be after.")
    payment: Payment | None = strawberry.field(description="The payment it would record.")
    replayed: bool = strawberry.field(description=_REPLAYED)

    @classmethod
    def of(cls, outcome: Outcome) -> InvoiceChangePreview:
        invoice = outcome.invoice
        assert invoice is not None
        return cls(
            invoice=InvoicePreview.of(invoice, outcome.lines),
            payment=Payment.of(outcome.payment, invoice.currency) if outcome.payment else None,
            replayed=outcome.replayed,
        )
