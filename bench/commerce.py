"""Buying benchmark: `subscriptionAddSeats` of one seat on distinct subscriptions, through
HTTP against `billing serve` (one uvicorn worker): sequential median, then requests per
second with 16 concurrent clients. Each request locks its subscription, prices the seats,
writes an invoice with its line, the audit trail and its idempotency key, and commits.

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/billing_bench_commerce
    .venv/bin/python bench/commerce.py     # creates the database and 2,000 subscriptions
"""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

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
from strawberry import relay

from api.auth import mint_token
from api.settings import load_settings
from resolvers.principal import Role

SUBSCRIPTIONS = 2_000
ADD_SEATS = """mutation($input: SubscriptionAddSeatsInput!) { subscriptionAddSeats(input: $input) {
  __typename ... on SubscriptionChangeSuccess { subscription { seats }
    invoice { number total { minorUnits } } } ... on UserError { code message } } }"""


async def prepare(database_url: str, today: date) -> list[int]:
    """A fresh database: the demo catalog, and SUBSCRIPTIONS Premium subscriptions of 10
    seats, each for its own namespace, 100 days into a year-long term."""
    await fresh_demo_database(database_url, today)
    connection = await connect(database_url)
    try:
        await connection.execute(
            f"""
            INSERT INTO namespace (path, name, customer_id)
            SELECT 'bench-' || i, 'Bench ' || i, c.id
            FROM generate_series(1, {SUBSCRIPTIONS}) i, customer c WHERE c.name = 'Acme Corp';
            INSERT INTO subscription (customer_id, namespace_id, plan_id, price_id, seats,
                                      start_date, end_date, status, auto_renew, trial)
            SELECT n.customer_id, n.id, p.plan_id, p.id, 10, $1::date, $2::date, 'active',
                   true, false
            FROM namespace n, price p JOIN plan ON plan.id = p.plan_id
            WHERE n.path LIKE 'bench-%' AND plan.code = 'premium' AND p.currency = 'USD'
              AND p.billing_period = 'annual' AND p.valid_from = DATE '2023-04-03'
            """.replace("$1::date", f"DATE '{today - timedelta(days=100)}'").replace(
                "$2::date", f"DATE '{today - timedelta(days=100) + timedelta(days=365)}'"
            )
        )
        rows = await connection.fetch(
            "SELECT s.id FROM subscription s JOIN namespace n ON n.id = s.namespace_id "
            "WHERE n.path LIKE 'bench-%' ORDER BY s.id"
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return [row["id"] for row in rows]


async def main() -> None:
    database_url = os.environ["DATABASE_URL"]
    secret = os.environ.setdefault("BILLING_JWT_SECRET", secrets.token_urlsafe(48))
    settings = load_settings(_env_file=None, jwt_secret=secret)
    now = datetime.now(UTC)
    ids = await prepare(database_url, now.date())
    token = mint_token(settings, role=Role.ADMIN, subject="bench", now=now, ttl=timedelta(hours=2))
    globals_ = [relay.to_base64("Subscription", i) for i in ids]

    def add_seat(i: int) -> dict[str, Any]:
        return {
            "query": ADD_SEATS,
            "variables": {
                "input": {
                    "subscriptionId": globals_[i % len(globals_)],
                    "seats": 1,
                    "idempotencyKey": f"bench-{os.getpid()}-{i}",
                }
            },
        }

    async with served() as client:
        print(
            f"{len(ids)} subscriptions; {SEQUENTIAL} sequential requests, then "
            f"{CONCURRENCY} clients for {SECONDS:.0f} s\n"
        )
        print(TABLE_HEAD)
        await measure(
            client, "subscriptionAddSeats, 1 seat, distinct subscriptions", add_seat, token
        )


if __name__ == "__main__":
    asyncio.run(main())
