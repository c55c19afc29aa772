"""Aggregates for analysts, computed in SQL. Money is summed per currency, never across."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.subscriptions import InvoiceStatus, SubscriptionStatus

_REVENUE = """
SELECT {group} AS grp, i.currency, count(*) AS invoices,
       sum(i.total)::bigint AS invoiced, sum(i.amount_paid)::bigint AS paid
FROM invoice i
JOIN subscription s ON s.id = i.subscription_id
JOIN plan p ON p.id = s.plan_id
WHERE i.issued_on BETWEEN :first AND :last AND i.status <> :void
GROUP BY 1, 2 ORDER BY 1, 2
"""
# one fixed statement per grouping: the group expression never comes from the caller
REVENUE_BY = {
    group: text(_REVENUE.replace("{group}", expression))
    for group, expression in {
        "month": "to_char(i.issued_on, 'YYYY-MM')",
        "plan": "p.code",
        "currency": "i.currency",
    }.items()
}


async def revenue(
    session: AsyncSession, *, first: date, last: date, group_by: str
) -> list[dict[str, Any]]:
    """Invoiced and paid amounts of the invoices issued in [first, last] (void ones left out),
    per group and currency. PLAN groups by the plan the subscription is on now."""
    rows = await session.execute(
        REVENUE_BY[group_by], {"first": first, "last": last, "void": InvoiceStatus.VOID.value}
    )
    return [dict(row._mapping) for row in rows]


async def active_subscriptions(session: AsyncSession) -> list[dict[str, Any]]:
    """Active subscriptions per plan (every plan, zero included): how many, trials among
    them, and their seats."""
    rows = await session.execute(
        text("""
        SELECT p.code AS plan, count(s.id) AS subscriptions,
               count(s.id) FILTER (WHERE s.trial) AS trials,
               coalesce(sum(s.seats), 0)::bigint AS seats
        FROM plan p LEFT JOIN subscription s ON s.plan_id = p.id AND s.status = :active
        GROUP BY p.code, p.position ORDER BY p.position
        """),
        {"active": SubscriptionStatus.ACTIVE.value},
    )
    return [dict(row._mapping) for row in rows]


async def seat_utilization(session: AsyncSession) -> list[dict[str, Any]]:
    """Per plan, over active subscriptions: seats paid and seats in use (counted for
    namespaces, as last reported for instances; instances that never reported are left out
    of both)."""
    rows = await session.execute(
        text("""
        SELECT p.code AS plan,
               coalesce(sum(s.seats) FILTER (WHERE used.n IS NOT NULL), 0)::bigint AS paid,
               coalesce(sum(used.n), 0)::bigint AS in_use
        FROM plan p
        LEFT JOIN subscription s ON s.plan_id = p.id AND s.status = :active
        LEFT JOIN LATERAL (
            SELECT coalesce(n.seats_in_use, inst.seats_in_use) AS n
            FROM (SELECT 1) one
            LEFT JOIN namespace n ON n.id = s.namespace_id
            LEFT JOIN instance inst ON inst.id = s.instance_id
        ) used ON true
        GROUP BY p.code, p.position ORDER BY p.position
        """),
        {"active": SubscriptionStatus.ACTIVE.value},
    )
    return [dict(row._mapping) for row in rows]


async def renewals(session: AsyncSession, *, first: date, last: date) -> dict[str, Any]:
    """Terms that started as renewals and paid subscriptions that ended (expired; trials that
    ran out are not churn) in [first, last], from the audit trail, and the true-up charged on
    invoices issued then, per currency."""
    counts = await session.execute(
        text("""
        SELECT count(*) FILTER (
                   WHERE action = 'subscription.renewed'
                     -- a term that started: not the purchase of one that waits for its date
                     AND after ->> 'start_date' IS DISTINCT FROM before ->> 'start_date'
               ) AS renewed,
               count(*) FILTER (
                   WHERE action = 'subscription.expired'
                     AND coalesce((before ->> 'trial')::boolean, false) = false
               ) AS churned
        FROM audit_event
        WHERE subject_type = 'Subscription' AND occurred_on BETWEEN :first AND :last
        """),
        {"first": first, "last": last},
    )
    true_ups = await session.execute(
        text("""
        SELECT i.currency, sum(l.amount)::bigint AS amount, count(*) AS lines
        FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
        WHERE l.kind = 'true_up' AND i.issued_on BETWEEN :first AND :last AND i.status <> :void
        GROUP BY 1 ORDER BY 1
        """),
        {"first": first, "last": last, "void": InvoiceStatus.VOID.value},
    )
    return {
        **dict(counts.one()._mapping),
        "true_ups": [dict(row._mapping) for row in true_ups],
    }
