"""What instances report in license syncs."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text
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
    """Keep the day's first report of an instance; False when it already has one."""
    values = report.model_dump(exclude={"id", "received_at"})
    statement = (
        insert(SyncReport)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["instance_id", "day"])
        .returning(col(SyncReport.id))
    )
    return (await session.execute(statement)).first() is not None


async def reported_peak(session: AsyncSession, instance_id: int, first: date, end: date) -> int:
    """The highest billable count an instance reported on the days [first, end), or the count
    it last reported before `first` if that is higher."""
    row = await session.execute(
        text("""
        SELECT greatest(
            (SELECT max(billable_users) FROM sync_report
             WHERE instance_id = :instance_id AND day >= :first AND day < :end),
            (SELECT billable_users FROM sync_report
             WHERE instance_id = :instance_id AND day < :first ORDER BY day DESC LIMIT 1),
            0)
        """),
        {"instance_id": instance_id, "first": first, "end": end},
    )
    return int(row.scalar_one())
