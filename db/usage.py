"""Metered usage: set-based recording and aggregation in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.subscriptions import SubscriptionStatus


async def namespace_ids(session: AsyncSession, paths: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(
        text("SELECT path, id FROM namespace WHERE path = ANY(:paths)"), {"paths": list(paths)}
    )
    found: dict[str, int] = dict(rows.all())
    return found


async def record_events(
    session: AsyncSession,
    *,
    event_ids: list[str],
    namespace_ids: list[int],
    metrics: list[str],
    quantities: list[int],
    occurred_at: list[datetime],
) -> int:
    """Insert the events not seen before (by event id); returns how many were new."""
    rows = await session.execute(
        text("""
        INSERT INTO usage_event (event_id, namespace_id, metric, quantity, occurred_at)
        SELECT * FROM unnest(CAST(:event_ids AS text[]), CAST(:namespace_ids AS bigint[]),
                             CAST(:metrics AS text[]), CAST(:quantities AS bigint[]),
                             CAST(:occurred_at AS timestamptz[]))
        ON CONFLICT (event_id) DO NOTHING
        RETURNING 1
        """),
        {
            "event_ids": event_ids,
            "namespace_ids": namespace_ids,
            "metrics": metrics,
            "quantities": quantities,
            "occurred_at": occurred_at,
        },
    )
    return len(rows.all())


async def usage_by_period(
    session: AsyncSession, namespace_id: int, metric: str, *, first: date, last: date, unit: str
) -> list[tuple[date, int]]:
    """(first day of the period, total) per day or month with usage, UTC days, in order."""
    rows = await session.execute(
        text("""
        SELECT date_trunc(:unit, occurred_at AT TIME ZONE 'UTC')::date AS period,
               sum(quantity)
        FROM usage_event
        WHERE namespace_id = :namespace_id AND metric = :metric
          AND occurred_at >= CAST(:first AS date) AT TIME ZONE 'UTC'
          AND occurred_at < (CAST(:last AS date) + 1) AT TIME ZONE 'UTC'
        GROUP BY 1 ORDER BY 1
        """),
        {
            "unit": unit,
            "namespace_id": namespace_id,
            "metric": metric,
            "first": first,
            "last": last,
        },
    )
    return [(period, int(total)) for period, total in rows.all()]


async def included_per_month(session: AsyncSession, namespace_id: int, metric: str) -> int:
    """What the namespace's plan (Free without an active subscription) includes per month,
    plus what its add-ons add (per unit times units)."""
    row = await session.execute(
        text("""
        WITH current AS (
            SELECT s.id, s.plan_id FROM subscription s
            WHERE s.namespace_id = :namespace_id AND s.status = :active
        ),
        plan_quota AS (
            SELECT coalesce(
                (SELECT q.included FROM quota q JOIN current c ON q.plan_id = c.plan_id
                 WHERE q.metric = :metric),
                (SELECT q.included FROM quota q JOIN plan p ON p.id = q.plan_id
                 WHERE p.code = 'free' AND q.metric = :metric AND NOT EXISTS (SELECT FROM current)),
                0) AS included
        ),
        add_on_quota AS (
            SELECT coalesce(sum(q.included * sa.quantity), 0) AS included
            FROM current c
            JOIN subscription_add_on sa ON sa.subscription_id = c.id
            JOIN quota q ON q.add_on_id = sa.add_on_id AND q.metric = :metric
        )
        SELECT (SELECT included FROM plan_quota) + (SELECT included FROM add_on_quota)
        """),
        {
            "namespace_id": namespace_id,
            "metric": metric,
            "active": SubscriptionStatus.ACTIVE.value,
        },
    )
    return int(row.scalar_one())
