"""Invoices: written with their lines, numbered without gaps per year as they commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from billing.charges import Charge
from billing.subscriptions import InvoiceStatus
from db.batch import rows_grouped_by_key
from db.tables import Invoice, InvoiceLine, Payment

# An invoice is written with its lines in one statement, and numbered as its transaction
# commits: the year's counter row is then locked only for the last statement before COMMIT,
# so concurrent changes wait on each other as briefly as possible, and an invoice whose
# transaction rolls back takes no number (numbers have no gaps).
_ISSUE = text("""
WITH issued AS (
    INSERT INTO invoice (year, customer_id, subscription_id, currency, issued_on, status, total)
    VALUES (:year, :customer_id, :subscription_id, :currency, :issued_on, :status, :total)
    RETURNING id, created_at
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
SELECT id, created_at FROM issued
""")

# The year's next numbers for the transaction's new invoices, in the order they were written,
# and their "invoice.issued" audit events (with the number).
_NUMBER = text("""
WITH counted AS (
    INSERT INTO invoice_counter (year, last_number) VALUES (:year, :count)
    ON CONFLICT (year) DO UPDATE SET last_number = invoice_counter.last_number + :count
    RETURNING last_number - :count AS before
),
numbered AS (
    UPDATE invoice i
    SET sequence = c.before + x.ord,
        number = 'INV-' || :year || '-' || lpad((c.before + x.ord)::text, 6, '0')
    FROM counted c,
         unnest(CAST(:ids AS bigint[]), CAST(:actors AS text[])) WITH ORDINALITY
             AS x(id, actor, ord)
    WHERE i.id = x.id
    RETURNING i.id, i.number, i.sequence, i.status, i.currency, i.total, i.amount_paid,
              i.issued_on, x.actor
),
audited AS (
    INSERT INTO audit_event (actor, action, subject_type, subject_id, before, after, occurred_on)
    SELECT actor, 'invoice.issued', 'Invoice', id, NULL,
           jsonb_build_object('number', number, 'status', status, 'currency', currency,
                              'total', total, 'amount_paid', amount_paid,
                              'issued_on', issued_on),
           issued_on
    FROM numbered
)
SELECT id, number, sequence FROM numbered
""")

_PENDING = "invoices to number"


async def write_invoice(
    session: AsyncSession,
    *,
    charge: Charge,
    customer_id: int,
    subscription_id: int,
    issued_on: date,
    actor: str,
) -> tuple[Invoice, list[InvoiceLine]]:
    """Write an invoice for `charge` with its lines, in one statement. It is numbered, and
    its issue recorded in the audit trail as `actor`'s, when the transaction commits."""
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
        year=issued_on.year,
        customer_id=customer_id,
        subscription_id=subscription_id,
        currency=charge.currency,
        issued_on=issued_on,
        status=status.value,
        total=total,
        amount_paid=0,
        created_at=row.created_at,
    )
    session.info.setdefault(_PENDING, []).append((invoice, actor))
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


def _number_pending(session: Session) -> None:
    """Number the transaction's new invoices (one statement per year of issue) and fill the
    numbers in on the objects the caller holds."""
    pending: list[tuple[Invoice, str]] = session.info.pop(_PENDING, [])
    years = sorted({invoice.year for invoice, _ in pending})
    for year in years:
        mine = [(invoice, actor) for invoice, actor in pending if invoice.year == year]
        rows = session.execute(
            _NUMBER,
            {
                "year": year,
                "count": len(mine),
                "ids": [invoice.id for invoice, _ in mine],
                "actors": [actor for _, actor in mine],
            },
        ).all()
        numbers = {row.id: (row.number, row.sequence) for row in rows}
        for invoice, _ in mine:
            invoice.number, invoice.sequence = numbers[invoice.id]


@event.listens_for(Session, "before_commit")
def _number_before_commit(session: Session) -> None:
    _number_pending(session)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


async def number_pending(session: AsyncSession) -> None:
    """Number the new invoices now, as a commit would (a preview shows the numbers its real
    call would take, then rolls back)."""
    await session.run_sync(_number_pending)


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
