"""The Python example (examples/python/billing_client.py) against the app served on a port, with
the demo data: its typed answers carry the catalog's prices and every billable member of a
namespace, page after page; a refused lookup raises its error code. (mypy checks the example in
`make typecheck`.)"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.helpers import data, served_on_a_port


def load_example() -> ModuleType:
    path = ROOT / "examples" / "python" / "billing_client.py"
    spec = importlib.util.spec_from_file_location("billing_client", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = load_example()


@pytest.fixture
async def url(app: Any, demo: None) -> AsyncIterator[str]:
    async with served_on_a_port(app) as base:
        yield f"{base}/graphql"


async def test_plans_come_typed_with_exact_prices(url: str) -> None:
    client = example.BillingClient(url)
    try:
        plans = await client.plans("USD")
    finally:
        await client.aclose()
    # the figures examples/README.md shows
    assert {plan["code"]: example.annual_price(plan) for plan in plans} == {
        "free": Decimal("0.00"),
        "premium": Decimal("348.00"),
        "ultimate": Decimal("1188.00"),
    }
    [premium] = [plan for plan in plans if plan["code"] == "premium"]
    annual = [p for p in premium["prices"] if p["billingPeriod"] == "ANNUAL"]
    assert [p["unitAmount"]["minorUnits"] for p in annual] == [34800]


async def test_billable_members_are_read_page_after_page(
    url: str, token: Callable[..., str], gql: Any
) -> None:
    # given three more developers in globex, which had Ada alone taking a seat
    gitlab, admin = token("gitlab"), token("admin")
    users = [
        {"id": 7000 + n, "username": f"dev{n}", "name": f"Dev {n}", "state": "active"}
        for n in range(3)
    ]
    memberships = [
        {
            "userId": 7000 + n,
            "sourceKind": "GROUP",
            "sourceId": 5001,
            "role": "developer",
            "createdAt": "2026-01-10T09:00:00Z",
        }
        for n in range(3)
    ]
    for name, input_type, records in [
        ("usersUpsert", "UserInput", users),
        ("membershipsUpsert", "MembershipInput", memberships),
    ]:
        pushed = await gql(
            f"mutation($r: [{input_type}!]!) {{ {name}(input: {{records: $r}}) {{ __typename }} }}",
            {"r": records},
            token=gitlab,
        )
        assert data(pushed)[name]["__typename"] == "BatchWriteSuccess"
    # when the example reads them one a page
    client = example.BillingClient(url, admin)
    try:
        members = await client.billable_members("globex", page_size=1)
    finally:
        await client.aclose()
    # then it has followed the cursors through four pages
    assert {member["username"]: member["highestRole"] for member in members} == {
        "ada": "MAINTAINER",
        "dev0": "DEVELOPER",
        "dev1": "DEVELOPER",
        "dev2": "DEVELOPER",
    }
    assert len(members) == 4  # each once


async def test_another_customers_namespace_raises_not_found(
    url: str, token: Callable[..., str]
) -> None:
    # Acme's people (customer 1) asking for Globex's members
    client = example.BillingClient(url, token("customer", 1))
    try:
        with pytest.raises(example.GraphQLError) as raised:
            await client.billable_members("globex")
    finally:
        await client.aclose()
    assert raised.value.codes == ["NOT_FOUND"]
