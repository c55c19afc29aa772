"""Seat API benchmark on the data set of bench/generate.py, through HTTP against
`billing serve` (one uvicorn worker): median latency of sequential requests, and requests per
second with 16 concurrent clients."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import (
    CONCURRENCY,
    SECONDS,
    SEQUENTIAL,
    TABLE_HEAD,
    Request,
    connect,
    served,
)
from harness import measure as measure_one

from api.auth import mint_token
from api.settings import load_settings
from resolvers.members import SORTS, MemberSort
from resolvers.principal import Role
from schema.members import encode_member_cursor

SEATS = '{ namespace(path: "big") { subscription { seatsInUse maxSeatsUsed seatsOwed } } }'
PAGE = """query($sort: BillableMemberSort!, $after: String) { namespace(path: "big") {
  billableMembers(sort: $sort, first: 100, after: $after) {
    pageInfo { endCursor } edges { node { username name highestRole membershipType } } } } }"""
# the seat page of issue 10 (and bench/compare.py): the page with its users' state
SEAT_PAGE = """{ namespace(path: "big") { billableMembers(first: 100) {
  edges { node { username name lastActivityOn highestRole membershipType user { state } } }
  pageInfo { endCursor hasNextPage } } } }"""
UPSERT = """mutation($records: [MembershipInput!]!) { membershipsUpsert(input: {records: $records})
  { __typename ... on BatchWriteSuccess { changed } } }"""

BIG_ID = 0  # set in main(): the generator gives big's subgroups GitLab ids BIG_ID * 1000 + k


async def deep_cursors(database_url: str) -> dict[MemberSort, str]:
    """A cursor 50,000 members into the list, for every sort."""
    connection = await connect(database_url)
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


async def main(only: list[str]) -> None:
    """Every request kind, or those whose name contains one of `only` (case-insensitive)."""
    database_url = os.environ["DATABASE_URL"]
    secret = os.environ.setdefault("BILLING_JWT_SECRET", secrets.token_urlsafe(48))
    settings = load_settings(_env_file=None, jwt_secret=secret)
    now = datetime.now(UTC)
    token = mint_token(settings, role=Role.GITLAB, subject="bench", now=now, ttl=timedelta(hours=2))
    global BIG_ID
    big_id = BIG_ID = await big_namespace_id(database_url)
    async with served() as client:
        cursors = await deep_cursors(database_url)
        print(
            f"namespace big = {big_id}; {SEQUENTIAL} sequential requests, then "
            f"{CONCURRENCY} clients for {SECONDS:.0f} s\n"
        )
        print(TABLE_HEAD)

        def measure(name: str, request: Request) -> Awaitable[None]:
            if only and not any(o.lower() in name.lower() for o in only):
                return asyncio.sleep(0)
            return measure_one(client, name, request, token)

        await measure("seatsInUse (GraphQL)", lambda i: {"query": SEATS})
        await measure("seat page with user { state } (issue 10)", lambda i: {"query": SEAT_PAGE})
        for sort in MemberSort:
            await measure(
                f"billableMembers first page, {sort.name}",
                lambda i, s=sort: {"query": PAGE, "variables": {"sort": s.name}},
            )
            await measure(
                f"billableMembers page at 50,000, {sort.name}",
                lambda i, s=sort: {
                    "query": PAGE,
                    "variables": {"sort": s.name, "after": cursors[s]},
                },
            )
        await measure("membershipsUpsert, 1000 memberships", upsert_request)


async def big_namespace_id(database_url: str) -> int:
    connection = await connect(database_url)
    try:
        return int(await connection.fetchval("SELECT id FROM namespace WHERE path = 'big'"))
    finally:
        await connection.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
