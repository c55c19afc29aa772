"""What the benchmarks share: `billing serve` on one worker, and a measurement of one
request kind (sequential median, then requests per second with concurrent clients)."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

PORT = int(os.environ.get("BENCH_PORT", "8765"))
URL = f"http://127.0.0.1:{PORT}/graphql"
SEQUENTIAL = 60
CONCURRENCY = 16
SECONDS = 8.0

Request = Callable[[int], dict[str, Any]]
TABLE_HEAD = (
    "| request | median ms | p95 ms | median ms in the app | req/s at 16 clients |\n"
    "| --- | --- | --- | --- | --- |"
)


async def connect(database_url: str) -> asyncpg.Connection:
    url = make_url(database_url).set(drivername="postgresql")
    return await asyncpg.connect(url.render_as_string(hide_password=False))


async def fresh_demo_database(database_url: str, today: date) -> None:
    """Drop and create DATABASE_URL's database, migrate it and load the demo data."""
    from db.demo import load_demo_data
    from db.engine import make_engine, make_sessionmaker, upgrade

    url = make_url(database_url)
    admin = await connect(url.set(database="postgres").render_as_string(hide_password=False))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{url.database}"')
    finally:
        await admin.close()
    await upgrade(database_url)
    engine = make_engine(database_url, pool_size=1)
    async with make_sessionmaker(engine)() as session, session.begin():
        await load_demo_data(session, today=today)
    await engine.dispose()


@asynccontextmanager
async def served() -> AsyncIterator[httpx.AsyncClient]:
    """`billing serve` with one worker, and a client once it is ready."""
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "billing"), "serve", "--port", str(PORT)],
        env={**os.environ, "BILLING_LOG_LEVEL": "WARNING", "BILLING_GRAPHIQL": "true"},
    )
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            for _ in range(100):
                try:
                    if (await client.get(f"http://127.0.0.1:{PORT}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            yield client
    finally:
        server.terminate()
        server.wait(10)


async def measure(client: httpx.AsyncClient, name: str, request: Request, token: str) -> None:
    """Print one table row: `request(i)` builds the i-th payload."""
    headers = {"Authorization": f"Bearer {token}"}
    server_ms: list[float] = []

    async def once(i: int) -> float:
        payload = request(i)
        started = time.perf_counter()
        response = await client.post(URL, json=payload, headers=headers)
        elapsed = time.perf_counter() - started
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        server_ms.append(float(response.headers["server-timing"].split("dur=")[1]))
        return elapsed

    for i in range(3):
        await once(10_000 + i)  # warm-up
    server_ms.clear()
    timings = [await once(i) for i in range(SEQUENTIAL)]
    in_app = statistics.median(server_ms)
    done = 0
    deadline = time.perf_counter() + SECONDS
    counter = iter(range(SEQUENTIAL, 10**9))

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await once(next(counter))
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    rate = done / (time.perf_counter() - started)
    timings.sort()
    print(
        f"| {name} | {statistics.median(timings) * 1000:.1f} | "
        f"{timings[int(len(timings) * 0.95)] * 1000:.1f} | {in_app:.1f} | {rate:.0f} |",
        flush=True,
    )
