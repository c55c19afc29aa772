"""Small helpers shared by the database tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
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


@asynccontextmanager
async def served_on_a_port(app: Any) -> AsyncIterator[str]:
    """`app` served by uvicorn (lifespan on) on a free local port: its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():  # failed to start: its error
            await task
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
