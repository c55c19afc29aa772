"""Scheduled work, run by `billing jobs ...`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from db.ingest import refresh_seat_figures
from db.snapshots import namespaces_with_members, write_snapshots


@dataclass(frozen=True)
class SnapshotReport:
    day: date
    namespaces_recounted: int
    snapshots_written: int


async def snapshot_seats(session: AsyncSession, *, day: date) -> SnapshotReport:
    """Recount every namespace from scratch (memberships expire with the calendar, which no
    push announces), raise peaks, and record the day's billable counts. Safe to run twice."""
    namespaces = await namespaces_with_members(session)
    for start in range(0, len(namespaces), 50):
        await refresh_seat_figures(session, namespaces[start : start + 50], today=day)
    written = await write_snapshots(session, day)
    await session.commit()
    return SnapshotReport(day, len(namespaces), written)
