"""Invoices: gapless numbers per year, lines, payments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.charges import Charge
from billing.subscriptions import InvoiceStatus
from db.batch import rows_grouped_by_key
from db.tables import Invoice, InvoiceLine, Payment

_NEXT_NUMBER = text("""
INSERT INTO invoice_counter (year, last_number) VALUES (:year, 1)
ON CONFLICT (year) DO UPDATE SET last_number = invoice_counter.last_number + 1
RETURNING last_number
""")


def invoice_number(year: int, sequence: int) -> str:
    """``invoice_number(2026, 42) == "INV-2026-000042"``."""
    return f"INV-{year}-{sequence:06d}"


async def write_invoice(
    session: AsyncSession,
    *,
    charge: Charge,
    customer_id: int,
    subscription_id: int,
    issued_on: date,
) -> tuple[Invoice, list[InvoiceLine]]:
    """Issue an invoice for `charge` with the next number of its year. The year's counter row
    stays locked until the transaction ends, so numbers follow commit order without gaps; take
    it as late in the transaction as possible."""
    total = charge.total.minor_units
    sequence = (await session.execute(_NEXT_NUMBER, {"year": issued_on.year})).scalar_one()
    invoice = Invoice(
        number=invoice_number(issued_on.year, sequence),
        year=issued_on.year,
        sequence=sequence,
        customer_id=customer_id,
        subscription_id=subscription_id,
        currency=charge.currency,
        issued_on=issued_on,
        status=InvoiceStatus.OPEN if total > 0 else InvoiceStatus.PAID,
        total=total,
    )
    session.add(invoice)
    await session.flush()
    assert invoice.id is not None
    lines = [
        InvoiceLine(
            invoice_id=invoice.id,
            position=position,
            kind=line.kind.value,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_price.minor_units,
            amount=line.amount.minor_units,
            period_start=line.period_start,
            period_end=line.period_end,
            fraction_numerator=line.fraction.numerator,
            fraction_denominator=line.fraction.denominator,
        )
        for position, line in enumerate(charge.lines, start=1)
    ]
    await session.execute(insert(InvoiceLine), [line.model_dump(exclude={"id"}) for line in lines])
    return invoice, lines


async def lock_invoice(session: AsyncSession, invoice_id: int) -> Invoice | None:
    query = select(Invoice).where(col(Invoice.id) == invoice_id).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def lines_by_invoice(
    session: AsyncSession, invoice_ids: Sequence[int]
) -> list[list[InvoiceLine]]:
    return await rows_grouped_by_key(
        session, InvoiceLine, InvoiceLine.invoice_id, invoice_ids, order_by=InvoiceLine.position
    )


async def payments_by_invoice(
    session: AsyncSession, invoice_ids: Sequence[int]
) -> list[list[Payment]]:
    return await rows_grouped_by_key(
        session, Payment, Payment.invoice_id, invoice_ids, order_by=Payment.id
    )
