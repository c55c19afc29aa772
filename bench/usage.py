"""Usage benchmark: a month-by-month total of 100,000 metered events of one namespace,
through HTTP against `billing serve` (one uvicorn worker).

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/billing_bench_usage
    .venv/bin/python bench/usage.py     # creates the database and the events, then measures
"""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime, timedelta

from harness import (
    CONCURRENCY,
    SECONDS,
    SEQUENTIAL,
    TABLE_HEAD,
    connect,
    fresh_demo_database,
    measure,
    served,
)

from api.auth import mint_token
from api.settings import load_settings
from resolvers.principal import Role

EVENTS = 100_000
USAGE = """{ namespace(path: "acme") { usage(metric: COMPUTE_MINUTES, from: "2026-01-01",
  to: "2026-12-31", granularity: MONTH) { includedPerMonth periods { start quantity overage } } } }"""


async def prepare(database_url: str) -> None:
    """A fresh database: the demo data, and EVENTS compute-minute events of `acme` spread over
    2026, plus as many of other namespaces and metrics."""
    await fresh_demo_database(database_url, datetime.now(UTC).date())
    connection = await connect(database_url)
    try:
        await connection.execute(
            f"""
            INSERT INTO usage_event (event_id, namespace_id, metric, quantity, occurred_at)
            SELECT 'e' || i, n.id, m.metric, 1 + i % 17,
                   TIMESTAMPTZ '2026-01-01' + (i * INTERVAL '315 seconds')
            FROM generate_series(1, {EVENTS}) i
            CROSS JOIN (VALUES ('compute_minutes'), ('transfer_bytes')) AS m(metric)
            JOIN namespace n ON n.path IN ('acme', 'globex')
            """.replace("'e' || i", "n.path || m.metric || i")
        )
        await connection.execute("ANALYZE usage_event")
        total = await connection.fetchval(
            "SELECT count(*) FROM usage_event e JOIN namespace n ON n.id = e.namespace_id "
            "WHERE n.path = 'acme' AND metric = 'compute_minutes'"
        )
        print(f"{total} compute-minute events of acme ({total * 4} events in all)")
    finally:
        await connection.close()


async def main() -> None:
    database_url = os.environ["DATABASE_URL"]
    secret = os.environ.setdefault("BILLING_JWT_SECRET", secrets.token_urlsafe(48))
    settings = load_settings(_env_file=None, jwt_secret=secret)
    await prepare(database_url)
    now = datetime.now(UTC)
    token = mint_token(settings, role=Role.ADMIN, subject="bench", now=now, ttl=timedelta(hours=1))
    async with served() as client:
        print(f"{SEQUENTIAL} sequential requests, then {CONCURRENCY} clients for {SECONDS:.0f} s\n")
        print(TABLE_HEAD)
        await measure(
            client,
            "usage per month of 100,000 events (12 months)",
            lambda i: {"query": USAGE},
            token,
        )


if __name__ == "__main__":
    asyncio.run(main())
