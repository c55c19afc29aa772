"""Seat API benchmark on the data set of bench/generate.py, through HTTP against
`billing serve` (one uvicorn worker): median latency of sequential requests, and requests per
second with 16 concurrent clients."""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from api.auth import mint_token
from api.settings import load_settings
from resolvers.members import SORTS, MemberSort
from resolvers.principal import Role
from schema.members import encode_member_cursor

PORT = int(os.environ.get("BENCH_PORT", "8765"))
URL = f"http://127.0.0.1:{PORT}/graphql"
SEQUENTIAL = 60
CONCURRENCY = 16
SECONDS = 8.0

SEATS = '{ namespace(path: "big") { subscription { seatsInUse maxSeatsUsed seatsOwed } } }'
PAGE = """query($sort: BillableMemberSort!, $after: String) { namespace(path: "big") {
  billableMembers(sort: $sort, first: 100, after: $after) {
    pageInfo { endCursor } edges { node { username name highestRole membershipType } } } } }"""
UPSERT = """mutation($records: [MembershipInput!]!) { membershipsUpsert(input: {records: $records})
  { __typename ... on BatchWriteSuccess { changed } } }"""

Request = Callable[[int], dict[str, Any]]
BIG_ID = 0  # set in main(): the generator gives big's subgroups GitLab ids BIG_ID * 1000 + k


async def deep_cursors(database_url: str) -> dict[MemberSort, str]:
    """A cursor 50,000 members into the list, for every sort."""
    connection = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    expressions = {
        "name": "name",
        "joined_at": "joined_at",
        "access_level": "access_level",
        "last_activity_on": "coalesce(last_activity_on, DATE '0001-01-01')",
    }
    cursors = {}
    for sort, (key, descending) in SORTS.items():
        direction = "DESC" if descending else "ASC"
        row = await connection.fetchrow(
            f"SELECT {expressions[key]} AS value, user_id FROM billable_member "
            f"WHERE namespace_id = (SELECT id FROM namespace WHERE path = 'big') "
            f"ORDER BY 1 {direction}, 2 {direction} OFFSET 50000 LIMIT 1"
        )
        cursors[sort] = encode_member_cursor(sort, row["value"], row["user_id"])
    await connection.close()
    return cursors


async def measure(client: httpx.AsyncClient, name: str, request: Request, token: str) -> None:
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


def upsert_request(i: int) -> dict[str, Any]:
    """1000 memberships of users outside `big` joining one of its subgroups; each call
    changes rows (a lap of the user range later, with another role)."""
    lap, batch = divmod(i, 95)
    role = ["developer", "maintainer", "reporter"][lap % 3]
    first = 100_001 + batch * 1000
    return {
        "query": UPSERT,
        "variables": {
            "records": [
                {
                    "userId": first + k,
                    "sourceKind": "GROUP",
                    "sourceId": BIG_ID * 1000 + 1 + k % 19,
                    "role": role,
                    "createdAt": "2026-03-01T00:00:00Z",
                }
                for k in range(1000)
            ]
        },
    }


async def main() -> None:
    database_url = os.environ["DATABASE_URL"]
    secret = os.environ.setdefault("BILLING_JWT_SECRET", secrets.token_urlsafe(48))
    settings = load_settings(_env_file=None, jwt_secret=secret)
    now = datetime.now(UTC)
    token = mint_token(settings, role=Role.GITLAB, subject="bench", now=now, ttl=timedelta(hours=2))
    global BIG_ID
    big_id = BIG_ID = await big_namespace_id(database_url)
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
            cursors = await deep_cursors(database_url)
            print(
                f"namespace big = {big_id}; {SEQUENTIAL} sequential requests, then "
                f"{CONCURRENCY} clients for {SECONDS:.0f} s\n"
            )
            print("| request | median ms | p95 ms | median ms in the app | req/s at 16 clients |")
            print("| --- | --- | --- | --- | --- |")
            await measure(client, "seatsInUse (GraphQL)", lambda i: {"query": SEATS}, token)
            for sort in MemberSort:
                await measure(
                    client,
                    f"billableMembers first page, {sort.name}",
                    lambda i, s=sort: {"query": PAGE, "variables": {"sort": s.name}},
                    token,
                )
                await measure(
                    client,
                    f"billableMembers page at 50,000, {sort.name}",
                    lambda i, s=sort: {
                        "query": PAGE,
                        "variables": {"sort": s.name, "after": cursors[s]},
                    },
                    token,
                )
            await measure(client, "membershipsUpsert, 1000 memberships", upsert_request, token)
    finally:
        server.terminate()
        server.wait(10)


async def big_namespace_id(database_url: str) -> int:
    connection = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        return int(await connection.fetchval("SELECT id FROM namespace WHERE path = 'big'"))
    finally:
        await connection.close()


if __name__ == "__main__":
    asyncio.run(main())
