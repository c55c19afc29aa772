"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.batch import Keyset, count_of, keyset_page
from db.tables import AuditEvent


def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: tuple[str, int],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    on: date,
) -> None:
    """Append one event with the transaction's next flush (the events of one change are
    written in one statement). `before`/`after` hold JSON values (dates as ISO strings)."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            subject_type=subject[0],
            subject_id=subject[1],
            before=before,
            after=after,
            occurred_on=on,
        )
    )


async def events_page(
    session: AsyncSession, *, subject: tuple[str, int] | None, page: Keyset
) -> list[AuditEvent]:
    query = _events(subject)
    return await keyset_page(session, query, order_by=col(AuditEvent.id), page=page)


async def count_events(session: AsyncSession, *, subject: tuple[str, int] | None) -> int:
    """How many events the trail has, or those of one subject."""
    return await count_of(session, _events(subject))


def _events(subject: tuple[str, int] | None) -> Any:
    query = select(AuditEvent)
    if subject is not None:
        query = query.where(
            col(AuditEvent.subject_type) == subject[0], col(AuditEvent.subject_id) == subject[1]
        )
    return query
