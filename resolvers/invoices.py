"""Invoices: reading them, and the billing team's payments and voids. The audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from billing.errors import ConflictError, ErrorCode, InvalidInputError, NotFoundError
from billing.money import Money, currency_exponent
from billing.subscriptions import InvoiceStatus
from db.audit import count_events, events_page
from db.batch import Keyset
from db.invoices import lock_invoice
from db.tables import AuditEvent, Invoice, InvoiceLine, Payment
from resolvers.changes import INVOICE_FIELDS, Outcome, Who, change, record, state
from resolvers.context import Context
from resolvers.errors import Forbidden, ObjectNotFound, Unauthenticated
from resolvers.loaders import PageKey
from resolvers.principal import Permission

MAX_REFERENCE = 255


async def get_invoice(context: Context, invoice_id: int) -> Invoice:
    if not context.principal.authenticated:
        raise Unauthenticated
    invoice = await context.loaders.invoice_by_id.load(invoice_id)
    if invoice is None or not context.principal.may_read_customer(invoice.customer_id):
        raise ObjectNotFound("Invoice", invoice_id)
    return invoice


async def customer_invoices(context: Context, customer_id: int, *, page: Keyset) -> list[Invoice]:
    """A page of a visible customer's invoices, oldest first."""
    return await context.loaders.invoice_pages_by_customer.load(PageKey(customer_id, page))


async def subscription_invoices(
    context: Context,
    subscription_id: int,
    customer_id: int | None,
    *,
    page: Keyset,
) -> list[Invoice]:
    """A visible subscription's invoices, for those who may see what the customer paid."""
    if not context.principal.may_read_customer(customer_id):
        return []
    key = PageKey(subscription_id, page)
    return await context.loaders.invoice_pages_by_subscription.load(key)


async def count_customer_invoices(context: Context, customer_id: int) -> int:
    return await context.loaders.invoice_count_by_customer.load(customer_id)


async def count_subscription_invoices(
    context: Context, subscription_id: int, customer_id: int | None
) -> int:
    """How many invoices `subscription_invoices` pages through: none for those it shows none."""
    if not context.principal.may_read_customer(customer_id):
        return 0
    return await context.loaders.invoice_count_by_subscription.load(subscription_id)


async def invoice_lines(context: Context, invoice_id: int) -> list[InvoiceLine]:
    return await context.loaders.lines_by_invoice.load(invoice_id)


async def invoice_payments(context: Context, invoice_id: int) -> list[Payment]:
    return await context.loaders.payments_by_invoice.load(invoice_id)


@dataclass(frozen=True)
class Received:
    """Money received against an invoice, as the billing team enters it."""

    minor_units: int
    currency: str
    reference: str


@change("invoicePay", Permission.MANAGE_BILLING)
async def pay(
    session: AsyncSession, context: Context, invoice_id: int, received: Received
) -> Outcome:
    """Record a payment received; the invoice is paid once payments reach its total."""
    currency_exponent(received.currency, "amount.currency")
    amount = Money(received.minor_units, received.currency)
    reference = received.reference
    if amount.minor_units <= 0:
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE, "A payment is above zero.", "amount.minorUnits"
        )
    if not reference.strip() or len(reference) > MAX_REFERENCE:
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE,
            f"A reference is 1 to {MAX_REFERENCE} characters.",
            "reference",
        )
    invoice = await _locked_open(session, invoice_id)
    if amount.currency != invoice.currency:
        raise InvalidInputError(
            ErrorCode.CURRENCY_MISMATCH,
            f"The invoice is in {invoice.currency}.",
            "amount.currency",
        )
    balance = invoice.total - invoice.amount_paid
    if amount.minor_units > balance:
        raise InvalidInputError(
            ErrorCode.AMOUNT_ABOVE_BALANCE,
            f"The invoice has {Money(balance, invoice.currency).amount} "
            f"{invoice.currency} left to pay.",
            "amount.minorUnits",
        )
    before = state(invoice, INVOICE_FIELDS)
    payment = Payment(
        invoice_id=invoice.id,
        amount=amount.minor_units,
        reference=reference,
        received_on=context.clock.today(),
    )
    session.add(payment)
    invoice.amount_paid += amount.minor_units
    if invoice.amount_paid == invoice.total:
        invoice.status = InvoiceStatus.PAID.value
    await session.flush()
    record(session, Who.of(context), "invoice.payment_received", invoice, before)
    return Outcome(None, invoice, payment=payment)


@change("invoiceVoid", Permission.MANAGE_BILLING)
async def void(session: AsyncSession, context: Context, invoice_id: int) -> Outcome:
    """Cancel an open invoice nobody has paid anything of; nothing is owed for it after."""
    invoice = await _locked_open(session, invoice_id)
    if invoice.amount_paid:
        raise ConflictError(
            ErrorCode.INVOICE_HAS_PAYMENTS,
            "Payments were recorded against this invoice; it cannot be voided.",
            "invoice",
        )
    before = state(invoice, INVOICE_FIELDS)
    invoice.status = InvoiceStatus.VOID.value
    await session.flush()
    record(session, Who.of(context), "invoice.voided", invoice, before)
    return Outcome(None, invoice)


async def _locked_open(session: AsyncSession, invoice_id: int) -> Invoice:
    invoice = await lock_invoice(session, invoice_id)
    if invoice is None:
        raise NotFoundError(ErrorCode.INVOICE_NOT_FOUND, "There is no such invoice.", "invoice")
    if invoice.status != InvoiceStatus.OPEN:
        raise ConflictError(
            ErrorCode.INVOICE_NOT_OPEN, f"The invoice is {invoice.status}.", "invoice"
        )
    return invoice


async def audit_events(
    context: Context, *, subject: tuple[str, int] | None, page: Keyset
) -> list[AuditEvent]:
    """The audit trail, oldest first, optionally of one subscription or invoice. Admins."""
    if not context.principal.authenticated:
        raise Unauthenticated
    if Permission.MANAGE_BILLING not in context.principal.permissions:
        raise Forbidden("read the audit trail")
    async with context.db() as session:
        return await events_page(session, subject=subject, page=page)


async def count_audit_events(context: Context, *, subject: tuple[str, int] | None) -> int:
    """How many events `audit_events` pages through (its caller passed its checks)."""
    async with context.db() as session:
        return await count_events(session, subject=subject)


async def get_audit_event(context: Context, event_id: int) -> AuditEvent:
    """One event of the audit trail; like every list of it, for admins only."""
    if Permission.MANAGE_BILLING not in context.principal.permissions:
        raise ObjectNotFound("AuditEvent", event_id)
    async with context.db() as session:
        event = await session.get(AuditEvent, event_id)
    if event is None:
        raise ObjectNotFound("AuditEvent", event_id)
    return event
