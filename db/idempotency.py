"""Idempotency keys: the first result of a mutation under a caller's key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class StoredRequest:
    operation: str
    request_hash: str
    result: dict[str, Any]


async def claim(
    session: AsyncSession, *, caller: str, key: str, operation: str, request_hash: str
) -> StoredRequest | None:
    """Take the key for this transaction, or return what an earlier request stored under it.

    A concurrent request holding the same key makes this wait until it commits (then its
    result is returned) or rolls back (then the key is ours)."""
    taken = await session.execute(
        text("""
        INSERT INTO idempotency_key (caller, key, operation, request_hash, result)
        VALUES (:caller, :key, :operation, :request_hash, '{}'::jsonb)
        ON CONFLICT DO NOTHING RETURNING 1
        """),
        {"caller": caller, "key": key, "operation": operation, "request_hash": request_hash},
    )
    if taken.first() is not None:
        return None
    row = (
        await session.execute(
            text(
                "SELECT operation, request_hash, result FROM idempotency_key "
                "WHERE caller = :caller AND key = :key"
            ),
            {"caller": caller, "key": key},
        )
    ).one()
    return StoredRequest(row.operation, row.request_hash, row.result)


async def store(session: AsyncSession, *, caller: str, key: str, result: dict[str, Any]) -> None:
    await session.execute(
        text(
            "UPDATE idempotency_key SET result = CAST(:result AS jsonb) "
            "WHERE caller = :caller AND key = :key"
        ),
        {"caller": caller, "key": key, "result": json.dumps(result, sort_keys=True)},
    )


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Forget keys stored before `before`."""
    rows = await session.execute(
        text("DELETE FROM idempotency_key WHERE created_at < :before RETURNING 1"),
        {"before": before},
    )
    return len(rows.all())
