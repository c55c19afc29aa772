"""What a preview shows: the state a change leaves, read inside its own transaction just before
the rollback, so that nothing the answer needs is read again from rows that never changed (a
loader primed with rolled-back values would serve them to the rest of the request as if they
were real)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from billing.seats import SeatFigures, seat_figures
from db.invoices import lines_by_invoice
from db.subscriptions import add_ons_of
from db.tables import Instance, InvoiceLine, Namespace, Plan, Subscription, SubscriptionAddOn


@dataclass(frozen=True)
class Seen:
    """The subscription's add-ons and seat figures (None for an instance that never
    reported) as the change left them."""

    add_ons: list[SubscriptionAddOn]
    figures: SeatFigures | None


async def seen(session: AsyncSession, subscription: Subscription | None) -> Seen | None:
    """The add-ons and seat figures of `subscription` in this transaction, computed as
    `Subscription` computes them from committed rows."""
    if subscription is None or subscription.id is None:
        return None
    add_ons = await add_ons_of(session, subscription.id)
    in_use: int | None
    if subscription.namespace_id is not None:
        namespace = await session.get(Namespace, subscription.namespace_id)
        assert namespace is not None
        in_use = namespace.seats_in_use
    else:
        instance = await session.get(Instance, subscription.instance_id)
        assert instance is not None
        in_use = instance.seats_in_use
    if in_use is None:
        return Seen(add_ons, None)
    plan = await session.get(Plan, subscription.plan_id)
    assert plan is not None
    figures = seat_figures(
        seats=subscription.seats,
        seats_in_use=in_use,
        max_seats_used=subscription.max_seats_used,
        paid=plan.code != "free" and not subscription.trial,
    )
    return Seen(add_ons, figures)


async def lines_of(session: AsyncSession, invoice_id: int | None) -> list[InvoiceLine]:
    """An existing invoice's lines (a payment or a void leaves them as they are)."""
    if invoice_id is None:
        return []
    [lines] = await lines_by_invoice(session, [invoice_id])
    return lines
