"""The days the daily job ran for."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def latest_run(session: AsyncSession) -> date | None:
    """The latest day the daily job ran for, if it ever ran."""
    row = await session.execute(text("SELECT max(day) FROM job_run"))
    latest: date | None = row.scalar_one()
    return latest


async def claim_run(session: AsyncSession, day: date) -> date | None:
    """Record a run for `day` unless a later day already ran; returns that later day then
    (nothing recorded). The table lock makes two runs starting at once take turns here."""
    await session.execute(text("LOCK TABLE job_run IN SHARE ROW EXCLUSIVE MODE"))
    latest = await latest_run(session)
    if latest is not None and latest > day:
        return latest
    await session.execute(
        text("""
        INSERT INTO job_run (day) VALUES (:day)
        ON CONFLICT (day) DO UPDATE SET runs = job_run.runs + 1
        """),
        {"day": day},
    )
    return None
