"""What instances report in license syncs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import case, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.tables import License, SyncReport


async def license_by_token(
    session: AsyncSession, subscription_id: int, token: str
) -> License | None:
    query = select(License).where(
        col(License.subscription_id) == subscription_id, col(License.token) == token
    )
    return (await session.execute(query)).scalar_one_or_none()


async def record_report(session: AsyncSession, report: SyncReport) -> bool:
    """File a report under its instance and day: the day's `peak` is the highest count of all
    its reports, the rest of the row the latest report by `reported_at` (an earlier one
    arriving late changes only the peak). True when the report changed anything; a repeat,
    or an older report below the day's peak, changes nothing."""
    values = report.model_dump(exclude={"id", "received_at"})
    statement = insert(SyncReport).values(**values)
    table, new = SyncReport.__table__, statement.excluded  # type: ignore[attr-defined]
    later = new.reported_at > table.c.reported_at
    latest = {
        name: case((later, new[name]), else_=table.c[name])
        for name in (
            "subscription_id",
            "license_id",
            "hostname",
            "version",
            "billable_users",
            "max_historical_users",
            "reported_at",
            "user_statistics",
        )
    }
    upsert = statement.on_conflict_do_update(
        index_elements=["instance_id", "day"],
        set_={**latest, "peak": func.greatest(table.c.peak, new.peak)},
        where=later | (new.peak > table.c.peak),
    ).returning(col(SyncReport.id))
    return (await session.execute(upsert)).first() is not None


async def latest_report(session: AsyncSession, instance_id: int) -> SyncReport | None:
    """The instance's latest report by when it counted, whatever the order they arrived in."""
    query = (
        select(SyncReport)
        .where(col(SyncReport.instance_id) == instance_id)
        .order_by(col(SyncReport.reported_at).desc(), col(SyncReport.id).desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def reported_peak(session: AsyncSession, instance_id: int, first: date, end: date) -> int:
    """The highest billable count an instance reported on the days [first, end) (0 with no
    report). A count belongs to the day it was taken: one reported before `first` (another
    quarter, or before the term) never counts here."""
    row = await session.execute(
        text("""
        SELECT coalesce(max(peak), 0) FROM sync_report
        WHERE instance_id = :instance_id AND day >= :first AND day < :end
        """),
        {"instance_id": instance_id, "first": first, "end": end},
    )
    return int(row.scalar_one())


async def user_statistics_history(
    session: AsyncSession, instance_ids: Sequence[int], first: date, last: date
) -> list[list[SyncReport]]:
    """Each instance's reports with user statistics on the days [first, last], by day, in
    one statement; in the order of `instance_ids`."""
    query = (
        select(SyncReport)
        .where(
            col(SyncReport.instance_id).in_(instance_ids),
            col(SyncReport.user_statistics).is_not(None),
            col(SyncReport.day) >= first,
            col(SyncReport.day) <= last,
        )
        .order_by(col(SyncReport.day), col(SyncReport.id))
    )
    found: dict[int, list[SyncReport]] = {i: [] for i in instance_ids}
    for row in (await session.execute(query)).scalars():
        found[row.instance_id].append(row)
    return [found[i] for i in instance_ids]
