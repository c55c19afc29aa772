"""Invoices, their lines and payments, and the audit trail."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from billing.charges import ChargeKind as DomainChargeKind
from billing.charges import ChargeLine
from billing.money import Money as DomainMoney
from billing.subscriptions import InvoiceStatus as DomainInvoiceStatus
from db import tables
from resolvers import accounts, invoices
from resolvers.errors import ObjectNotFound
from schema.base import Info, Money, resolve_nodes_by_id, visible_nodes

if TYPE_CHECKING:
    from schema.accounts import Customer, Subscription

strawberry.enum(DomainInvoiceStatus, description="Whether an invoice is owed, paid or void.")
strawberry.enum(DomainChargeKind, name="InvoiceLineKind", description="What a line charges for.")
InvoiceStatus: TypeAlias = DomainInvoiceStatus
InvoiceLineKind: TypeAlias = DomainChargeKind

_Subscription = Annotated["Subscription", strawberry.lazy("schema.accounts")]
_Customer = Annotated["Customer", strawberry.lazy("schema.accounts")]


@strawberry.type(description="A line's charge and the arithmetic behind it.")
class ChargedLine:
    """The fields every kind of line shows: on an invoice, quoted, or projected."""

    kind: InvoiceLineKind = strawberry.field(description="What the line charges for.")
    description: str = strawberry.field(description="The line as the customer reads it.")
    quantity: int = strawberry.field(description="Seats or units charged.")
    unit_price: Money = strawberry.field(description="Catalog price of one unit for a term.")
    amount: Money = strawberry.field(
        description="quantity x unitPrice x fraction, rounded once, half up; negative for credits."
    )
    period_start: datetime.date = strawberry.field(description="First day the line covers.")
    period_end: datetime.date = strawberry.field(description="Day after the last day covered.")
    fraction_numerator: int = strawberry.field(
        description="Proration: days (or quarters) charged..."
    )
    fraction_denominator: int = strawberry.field(
        description="...out of this many in the term (1/1 for a whole term)."
    )


def charged_line_fields(line: ChargeLine) -> dict[str, Any]:
    """A `ChargedLine`'s fields from the line `billing` computed."""
    return {
        "kind": InvoiceLineKind(line.kind),
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": Money.of(line.unit_price),
        "amount": Money.of(line.amount),
        "period_start": line.period_start,
        "period_end": line.period_end,
        "fraction_numerator": line.fraction.numerator,
        "fraction_denominator": line.fraction.denominator,
    }


@strawberry.type(description="One charge or credit on an invoice, with the arithmetic behind it.")
class InvoiceLine(ChargedLine):
    position: int = strawberry.field(description="Order on the invoice, from 1.")

    @classmethod
    def of(cls, row: tables.InvoiceLine, currency: str) -> InvoiceLine:
        return cls(
            position=row.position,
            kind=InvoiceLineKind(row.kind),
            description=row.description,
            quantity=row.quantity,
            unit_price=Money.of(DomainMoney(row.unit_amount, currency)),
            amount=Money.of(DomainMoney(row.amount, currency)),
            period_start=row.period_start,
            period_end=row.period_end,
            fraction_numerator=row.fraction_numerator,
            fraction_denominator=row.fraction_denominator,
        )


@strawberry.type(
    description="A charge not made yet: the day it is (or would be) made and the invoice line "
    "it would be. Not stored: it has no id."
)
class ChargeQuote(ChargedLine):
    charged_on: datetime.date = strawberry.field(description="The day the charge is made.")

    @classmethod
    def of(cls, charged_on: datetime.date, line: ChargeLine) -> ChargeQuote:
        return cls(charged_on=charged_on, **charged_line_fields(line))


@strawberry.type(description="Money received against an invoice.")
class Payment:
    amount: Money = strawberry.field(description="How much was received.")
    reference: str = strawberry.field(description="The bank or processor reference.")
    received_on: datetime.date = strawberry.field(description="When it was recorded.")

    @classmethod
    def of(cls, row: tables.Payment, currency: str) -> Payment:
        return cls(
            amount=Money.of(DomainMoney(row.amount, currency)),
            reference=row.reference,
            received_on=row.received_on,
        )


@strawberry.type(description="A bill: numbered without gaps per year, in one currency.")
class Invoice(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description='e.g. "INV-2026-000042".')
    status: InvoiceStatus = strawberry.field(description="Open until paid in full.")
    currency: str = strawberry.field(description="ISO 4217 currency of every amount on it.")
    issued_on: datetime.date = strawberry.field(description="The day it was issued.")
    total: Money = strawberry.field(description="The sum of its lines.")
    amount_paid: Money = strawberry.field(description="Payments received so far.")
    amount_due: Money = strawberry.field(description="What is left to pay (0 when void).")
    row: strawberry.Private[tables.Invoice]

    @strawberry.field(description="The lines, in order.")
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await invoices.invoice_lines(info.context, self.id)
        return [InvoiceLine.of(row, self.currency) for row in rows]

    @strawberry.field(description="Payments received, oldest first.")
    async def payments(self, info: Info) -> list[Payment]:
        rows = await invoices.invoice_payments(info.context, self.id)
        return [Payment.of(row, self.currency) for row in rows]

    @strawberry.field(description="The subscription it bills.")
    async def subscription(self, info: Info) -> _Subscription | None:
        from schema.accounts import Subscription

        try:
            row = await accounts.get_subscription(info.context, self.row.subscription_id)
        except ObjectNotFound:
            return None
        return Subscription.of(row)

    @strawberry.field(description="The customer billed.")
    async def customer(self, info: Info) -> _Customer | None:
        from schema.accounts import Customer

        row = await accounts.customer_of(info.context, self.row.customer_id)
        return Customer.of(row) if row else None

    @classmethod
    def of(cls, row: tables.Invoice) -> Invoice:
        assert row.id is not None
        assert row.number is not None  # numbered as it was committed (or previewed)
        due = 0 if row.status == DomainInvoiceStatus.VOID else row.total - row.amount_paid
        return cls(
            id=row.id,
            number=row.number,
            status=InvoiceStatus(row.status),
            currency=row.currency,
            issued_on=row.issued_on,
            total=Money.of(DomainMoney(row.total, row.currency)),
            amount_paid=Money.of(DomainMoney(row.amount_paid, row.currency)),
            amount_due=Money.of(DomainMoney(due, row.currency)),
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Invoice | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: invoices.get_invoice(info.context, i)), cls.of
        )


@strawberry.type(description="One change in the audit trail.")
class AuditEvent(relay.Node):
    id: relay.NodeID[int]
    actor: str = strawberry.field(
        description='Who: "admin:<sub>", "customer:<id>:<sub>" or "job:run-daily".'
    )
    action: str = strawberry.field(description='What, e.g. "subscription.seats_added".')
    subject: relay.GlobalID = strawberry.field(
        description="The global id of the subscription or invoice changed."
    )
    before: JSON | None = strawberry.field(description="Its recorded fields before; null if new.")
    after: JSON | None = strawberry.field(description="Its recorded fields after.")
    occurred_on: datetime.date = strawberry.field(description="The day, by the service's clock.")
    recorded_at: datetime.datetime = strawberry.field(description="When it was written (UTC).")

    @classmethod
    def of(cls, row: tables.AuditEvent) -> AuditEvent:
        assert row.id is not None
        assert row.created_at is not None
        before: Any = row.before
        after: Any = row.after
        return cls(
            id=row.id,
            actor=row.actor,
            action=row.action,
            subject=relay.GlobalID(row.subject_type, str(row.subject_id)),
            before=before,
            after=after,
            occurred_on=row.occurred_on,
            recorded_at=row.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AuditEvent | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: invoices.get_audit_event(info.context, i)), cls.of
        )
