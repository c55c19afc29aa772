"""Invoices: gapless numbers per year, lines, payments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.charges import Charge
from billing.subscriptions import InvoiceStatus
from db.batch import rows_grouped_by_key
from db.tables import Invoice, InvoiceLine, Payment

# One statement: the year's next number (its counter row stays locked until the transaction
# ends, so numbers follow commit order without gaps), the invoice, and its lines.
_ISSUE = text("""
WITH numbered AS (
    INSERT INTO invoice_counter (year, last_number) VALUES (:year, 1)
    ON CONFLICT (year) DO UPDATE SET last_number = invoice_counter.last_number + 1
    RETURNING last_number
),
issued AS (
    INSERT INTO invoice (number, year, sequence, customer_id, subscription_id, currency,
                         issued_on, status, total)
    SELECT 'INV-' || :year || '-' || lpad(last_number::text, 6, '0'), :year, last_number,
           :customer_id, :subscription_id, :currency, :issued_on, :status, :total
    FROM numbered
    RETURNING id, number, sequence, created_at
),
lines AS (
    INSERT INTO invoice_line (invoice_id, position, kind, description, quantity, unit_amount,
                              amount, period_start, period_end, fraction_numerator,
                              fraction_denominator)
    SELECT issued.id, line.*
    FROM issued, unnest(CAST(:positions AS smallint[]), CAST(:kinds AS text[]),
                        CAST(:descriptions AS text[]), CAST(:quantities AS int[]),
                        CAST(:unit_amounts AS bigint[]), CAST(:amounts AS bigint[]),
                        CAST(:period_starts AS date[]), CAST(:period_ends AS date[]),
                        CAST(:numerators AS int[]), CAST(:denominators AS int[])) AS line
)
SELECT id, number, sequence, created_at FROM issued
""")


async def write_invoice(
    session: AsyncSession,
    *,
    charge: Charge,
    customer_id: int,
    subscription_id: int,
    issued_on: date,
) -> tuple[Invoice, list[InvoiceLine]]:
    """Issue an invoice for `charge` with the next number of its year, in one statement. The
    year's counter row stays locked until the transaction ends: issue as late as possible."""
    total = charge.total.minor_units
    status = InvoiceStatus.OPEN if total > 0 else InvoiceStatus.PAID
    with session.no_autoflush:  # nothing pending bears on the invoice; flush it later, at once
        row = (
            await session.execute(
                _ISSUE,
                {
                    "year": issued_on.year,
                    "customer_id": customer_id,
                    "subscription_id": subscription_id,
                    "currency": charge.currency,
                    "issued_on": issued_on,
                    "status": status.value,
                    "total": total,
                    "positions": list(range(1, len(charge.lines) + 1)),
                    "kinds": [line.kind.value for line in charge.lines],
                    "descriptions": [line.description for line in charge.lines],
                    "quantities": [line.quantity for line in charge.lines],
                    "unit_amounts": [line.unit_price.minor_units for line in charge.lines],
                    "amounts": [line.amount.minor_units for line in charge.lines],
                    "period_starts": [line.period_start for line in charge.lines],
                    "period_ends": [line.period_end for line in charge.lines],
                    "numerators": [line.fraction.numerator for line in charge.lines],
                    "denominators": [line.fraction.denominator for line in charge.lines],
                },
            )
        ).one()
    invoice = Invoice(
        id=row.id,
        number=row.number,
        year=issued_on.year,
        sequence=row.sequence,
        customer_id=customer_id,
        subscription_id=subscription_id,
        currency=charge.currency,
        issued_on=issued_on,
        status=status.value,
        total=total,
        amount_paid=0,
        created_at=row.created_at,
    )
    lines = [
        InvoiceLine(
            invoice_id=row.id,
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
    return invoice, lines


async def lock_invoice(session: AsyncSession, invoice_id: int) -> Invoice | None:
    query = select(Invoice).where(col(Invoice.id) == invoice_id).with_for_update()
    return (
        await session.execute(query, execution_options={"populate_existing": True})
    ).scalar_one_or_none()


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
