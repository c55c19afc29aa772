"""A typed Python client for the billing API: httpx for HTTP, TypedDicts for the answers.

The TypedDicts spell out the fields each operation selects, so mypy checks the code that reads
them. Amounts stay exact: `Money.amount` is a decimal string (read it with `Decimal`) and
`minorUnits` an integer. Run it against a running service:

    export BILLING_TOKEN=$(.venv/bin/billing token --role admin)
    export BILLING_URL=http://127.0.0.1:8000/graphql
    .venv/bin/python examples/python/billing_client.py globex
"""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal
from typing import Any, Literal, TypedDict, cast

import httpx

BillingPeriod = Literal["MONTHLY", "ANNUAL"]


class Money(TypedDict):
    amount: str  # decimal string, e.g. "348.00"
    currency: str
    minorUnits: int


class Price(TypedDict):
    billingPeriod: BillingPeriod
    validFrom: str  # a Date, e.g. "2026-01-01"
    unitAmount: Money


class Plan(TypedDict):
    code: str
    name: str
    excludesGuests: bool
    prices: list[Price]


class BillableMember(TypedDict):
    username: str
    name: str
    highestRole: str
    lastJoinedAt: str  # a DateTime, e.g. "2026-03-15T09:30:00Z"


PLANS = """
query Plans($currency: String) {
  plans(currency: $currency) {
    code name excludesGuests
    prices { billingPeriod validFrom unitAmount { amount currency minorUnits } }
  }
}
"""

SEAT_PAGE = """
query SeatPage($path: String!, $first: Int, $after: String) {
  namespace(path: $path) {
    billableMembers(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { username name highestRole lastJoinedAt } }
    }
  }
}
"""


class GraphQLError(Exception):
    """The answer's errors, with their codes (`extensions.code`, e.g. NOT_FOUND)."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        self.status = status
        self.codes = [error.get("extensions", {}).get("code", "ERROR") for error in errors]
        super().__init__(
            "; ".join(f"{e.get('extensions', {}).get('code')}: {e['message']}" for e in errors)
        )


class BillingClient:
    """One client per service; pass your own `httpx.AsyncClient` to share its pool."""

    def __init__(self, url: str, token: str | None = None, http: httpx.AsyncClient | None = None):
        self.url = url
        self.headers = {
            # 4xx with the errors for a malformed request, else 200 (GraphQL over HTTP)
            "Accept": "application/graphql-response+json, application/json;q=0.9",
        }
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.http = http or httpx.AsyncClient(timeout=10)

    async def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            self.url, json={"query": query, "variables": variables}, headers=self.headers
        )
        body = response.json()
        if body.get("errors") or body.get("data") is None:
            raise GraphQLError(response.status_code, body.get("errors", []))
        return cast(dict[str, Any], body["data"])

    async def plans(self, currency: str = "USD") -> list[Plan]:
        data = await self.execute(PLANS, {"currency": currency})
        return cast(list[Plan], data["plans"])

    async def billable_members(self, path: str, page_size: int = 100) -> list[BillableMember]:
        """Every member of namespace `path` who takes a seat, a keyset page at a time."""
        members: list[BillableMember] = []
        after: str | None = None
        while True:
            data = await self.execute(SEAT_PAGE, {"path": path, "first": page_size, "after": after})
            page = data["namespace"]["billableMembers"]
            members.extend(cast(BillableMember, edge["node"]) for edge in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                return members
            after = page["pageInfo"]["endCursor"]

    async def aclose(self) -> None:
        await self.http.aclose()


def annual_price(plan: Plan) -> Decimal | None:
    """The plan's annual price of one seat, exact."""
    for price in plan["prices"]:
        if price["billingPeriod"] == "ANNUAL":
            return Decimal(price["unitAmount"]["amount"])
    return None


async def main(path: str) -> None:
    client = BillingClient(
        os.environ.get("BILLING_URL", "http://127.0.0.1:8000/graphql"),
        os.environ.get("BILLING_TOKEN"),
    )
    try:
        for plan in await client.plans():
            print(f"{plan['code']}: {annual_price(plan)} a seat a year")
        for member in await client.billable_members(path):
            print(f"{member['username']} ({member['highestRole']})")
    finally:
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "globex"))
