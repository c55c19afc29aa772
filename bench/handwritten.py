"""The hand-written reference for bench/compare.py: Starlette + asyncpg, one SQL statement
per case, answers shaped like this service's GraphQL answers. It reads the request body
(a POST, as a GraphQL client sends) but does not parse GraphQL: the route names the case.

    DATABASE_URL=... python bench/handwritten.py --port 8772
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import uvicorn
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

try:  # orjson when installed, else the standard library
    import orjson

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - depends on the environment
    import json

    def _default(value: Any) -> str:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    def dumps(value: Any) -> bytes:
        return json.dumps(value, default=_default, separators=(",", ":")).encode()


POOL_SIZE = 10
# access levels as this service's MemberRole enum names them (billing/seats.py AccessLevel)
ROLE = """CASE m.access_level WHEN 5 THEN 'MINIMAL_ACCESS' WHEN 10 THEN 'GUEST'
    WHEN 15 THEN 'PLANNER' WHEN 20 THEN 'REPORTER' WHEN 30 THEN 'DEVELOPER'
    WHEN 40 THEN 'MAINTAINER' WHEN 50 THEN 'OWNER' END"""

# LAST_JOINED, the default sort of billableMembers: joined_at then user id, both descending
SEAT_PAGE = f"""
SELECT m.username, m.name, m.last_activity_on, {ROLE} AS highest_role,
       upper(m.membership_type) AS membership_type, upper(u.state) AS state
FROM billable_member m JOIN gitlab_user u ON u.id = m.user_id
WHERE m.namespace_id = (SELECT id FROM namespace WHERE path = $1)
ORDER BY m.joined_at DESC, m.user_id DESC LIMIT 100"""

# the subscription in force (the active one, else the latest) and billing.seats.seat_figures
SEAT_FIGURES = """
SELECT in_use, greatest(s.max_seats_used, in_use) AS peak,
       CASE WHEN s.trial OR p.code = 'free' THEN 0
            ELSE greatest(0, greatest(s.max_seats_used, in_use) - s.seats) END AS owed
FROM namespace n
CROSS JOIN LATERAL (SELECT n.seats_in_use AS in_use) c
JOIN LATERAL (SELECT * FROM subscription WHERE namespace_id = n.id
              ORDER BY (status = 'active') DESC, id DESC LIMIT 1) s ON true
JOIN plan p ON p.id = s.plan_id
WHERE n.path = $1"""

PLANS = "SELECT code, name FROM plan ORDER BY position"

# nested pages built by PostgreSQL as one JSON text, passed through untouched
CUSTOMERS = """
SELECT coalesce(json_agg(json_build_object('node', json_build_object(
  'name', c.name, 'billingEmail', c.billing_email, 'currency', c.currency,
  'subscriptions', json_build_object('edges', (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
      'seats', s.seats, 'status', upper(s.status), 'startDate', s.start_date,
      'endDate', s.end_date)) ORDER BY s.id), '[]')
    FROM (SELECT * FROM subscription WHERE customer_id = c.id ORDER BY id LIMIT 20) s)),
  'invoices', json_build_object('edges', (
    SELECT coalesce(json_agg(json_build_object('node', json_build_object(
      'number', i.number, 'status', upper(i.status), 'issuedOn', i.issued_on,
      'total', json_build_object('minorUnits', i.total),
      'lines', (SELECT coalesce(json_agg(json_build_object(
          'position', l.position, 'kind', upper(l.kind), 'description', l.description,
          'quantity', l.quantity, 'amount', json_build_object('minorUnits', l.amount))
        ORDER BY l.position), '[]') FROM invoice_line l WHERE l.invoice_id = i.id)))
      ORDER BY i.id), '[]')
    FROM (SELECT * FROM invoice WHERE customer_id = c.id ORDER BY id LIMIT 20) i))))
  ORDER BY c.id), '[]')
FROM (SELECT * FROM customer ORDER BY id LIMIT 20) c"""


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def make_app(database_url: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        dsn = make_url(database_url).set(drivername="postgresql")
        pool = await asyncpg.create_pool(
            dsn.render_as_string(hide_password=False), min_size=POOL_SIZE, max_size=POOL_SIZE
        )
        yield
        await pool.close()

    async def seat_page(request: Request) -> Response:
        await request.body()
        assert pool is not None
        rows = await pool.fetch(SEAT_PAGE, "big")
        edges = [
            {
                "node": {
                    "username": r["username"],
                    "name": r["name"],
                    "lastActivityOn": r["last_activity_on"],
                    "highestRole": r["highest_role"],
                    "membershipType": r["membership_type"],
                    "user": {"state": r["state"]},
                }
            }
            for r in rows
        ]
        data = {"namespace": {"billableMembers": {"edges": edges}}}
        return _json(dumps({"data": data}))

    async def seat_figures(request: Request) -> Response:
        await request.body()
        assert pool is not None
        r = await pool.fetchrow(SEAT_FIGURES, "big")
        assert r is not None
        figures = {"seatsInUse": r["in_use"], "maxSeatsUsed": r["peak"], "seatsOwed": r["owed"]}
        return _json(dumps({"data": {"namespace": {"subscription": figures}}}))

    async def plans(request: Request) -> Response:
        await request.body()
        assert pool is not None
        rows = await pool.fetch(PLANS)
        data = {"plans": [{"code": r["code"], "name": r["name"]} for r in rows]}
        return _json(dumps({"data": data}))

    async def customers(request: Request) -> Response:
        await request.body()
        assert pool is not None
        edges = await pool.fetchval(CUSTOMERS)
        return _json(b'{"data":{"customers":{"edges":' + edges.encode() + b"}}}")

    handlers: dict[str, Callable[[Request], Any]] = {
        "seat-page": seat_page,
        "seat-figures": seat_figures,
        "plans": plans,
        "customers": customers,
    }
    routes = [Route(f"/{name}", handler, methods=["POST"]) for name, handler in handlers.items()]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8772)
    args = parser.parse_args()
    app = make_app(os.environ["DATABASE_URL"])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
