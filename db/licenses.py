"""License rows: the latest of a subscription, and pages of an instance's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.tables import License


async def latest_license(session: AsyncSession, subscription_id: int) -> License | None:
    query = (
        select(License)
        .where(col(License.subscription_id) == subscription_id)
        .order_by(col(License.id).desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()
