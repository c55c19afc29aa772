"""Small helpers shared by the database tests."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import db.tables  # noqa: F401  (registers the tables)


async def row_counts(session: AsyncSession) -> dict[str, int]:
    """Rows in every table: compare before and after to prove that nothing was written."""
    counts = {}
    for table in SQLModel.metadata.sorted_tables:
        counts[table.name] = (
            await session.execute(select(func.count()).select_from(table))
        ).scalar_one()
    return counts


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body["errors"]
    return body["data"]


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """The body without `extensions` (the query cost every answer reports)."""
    return {key: value for key, value in body.items() if key != "extensions"}


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def drawn(strategy: st.SearchStrategy[str], fixed_seed: int, count: int) -> list[str]:
    """`count` examples of `strategy`, the same ones on every run for one seed. Only drawing
    happens under hypothesis (generate phase, no shrinking, no database): the requests run
    afterwards on the test's event loop, so every failure is collected."""
    examples: list[str] = []

    @seed(fixed_seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(example: str) -> None:
        examples.append(example)

    draw()
    return examples
