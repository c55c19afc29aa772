"""Daily snapshots of billable counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.tables import SeatSnapshot


async def namespaces_with_members(session: AsyncSession) -> list[int]:
    rows = await session.execute(text("SELECT DISTINCT namespace_id FROM source ORDER BY 1"))
    return [row[0] for row in rows.all()]


async def write_snapshots(session: AsyncSession, day: date) -> int:
    """Record every namespace's current billable count for `day`; a second run the same day
    overwrites that day's rows with the same figures. Returns the rows written."""
    rows = await session.execute(
        text("""
        INSERT INTO seat_snapshot (namespace_id, day, billable, peak)
        SELECT id, :day, seats_in_use, seats_in_use FROM namespace
        ON CONFLICT (namespace_id, day) DO UPDATE
        SET billable = excluded.billable, peak = greatest(seat_snapshot.peak, excluded.peak)
        RETURNING 1
        """),
        {"day": day},
    )
    return len(rows.all())


async def snapshot_history(
    session: AsyncSession, namespace_id: int, first: date, last: date
) -> list[SeatSnapshot]:
    query = (
        select(SeatSnapshot)
        .where(
            col(SeatSnapshot.namespace_id) == namespace_id,
            col(SeatSnapshot.day) >= first,
            col(SeatSnapshot.day) <= last,
        )
        .order_by(col(SeatSnapshot.day))
    )
    return list((await session.execute(query)).scalars())


async def peak_between(
    session: AsyncSession, namespace_id: int, first: date, end: date, *, entering: bool = True
) -> int:
    """The highest billable count of the namespace on the days [first, end): the days' peaks,
    and (with `entering`) the count it entered `first` with (the last day recorded before
    it). A window that starts with a plan change leaves the entering count out: it was
    counted under the old plan's rule."""
    row = await session.execute(
        text("""
        SELECT greatest(
            (SELECT max(peak) FROM seat_snapshot
             WHERE namespace_id = :namespace_id AND day >= :first AND day < :end),
            (SELECT billable FROM seat_snapshot
             WHERE :entering AND namespace_id = :namespace_id AND day < :first
             ORDER BY day DESC LIMIT 1),
            0)
        """),
        {"namespace_id": namespace_id, "first": first, "end": end, "entering": entering},
    )
    return int(row.scalar_one())


async def restart_day_peak(session: AsyncSession, namespace_id: int, day: date) -> None:
    """The day's peak becomes its current count: after a plan change, what was counted that
    day under the old plan's rule no longer counts."""
    await session.execute(
        text("""
        UPDATE seat_snapshot SET peak = billable
        WHERE namespace_id = :namespace_id AND day = :day AND peak <> billable
        """),
        {"namespace_id": namespace_id, "day": day},
    )
