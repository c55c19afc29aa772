"""Catalog and quotes through HTTP, on the demo catalog."""

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.tables import Plan, Price
from tests.conftest import GraphQL
from tests.helpers import data, row_counts

pytestmark = pytest.mark.usefixtures("demo")

QUOTE = """
query Quote($input: QuoteInput!) {
  quote(input: $input) {
    __typename
    ... on Quote {
      currency billingPeriod startDate endDate
      lines { kind description quantity
              unitPrice { amount currency minorUnits } amount { amount minorUnits }
              periodStart periodEnd }
      total { amount currency minorUnits }
    }
    ... on UserError { code message field }
  }
}
"""


async def test_plans_with_usd_prices_come_from_the_database(gql: GraphQL) -> None:
    body = await gql(
        '{ plans(currency: "USD") { code prices { unitAmount { amount currency } billingPeriod } } }'  # noqa: E501
    )
    assert data(body)["plans"] == [
        {
            "code": "free",
            "prices": [
                {"unitAmount": {"amount": "0.00", "currency": "USD"}, "billingPeriod": "ANNUAL"}
            ],
        },
        {
            "code": "premium",
            "prices": [
                {"unitAmount": {"amount": "348.00", "currency": "USD"}, "billingPeriod": "ANNUAL"},
                {"unitAmount": {"amount": "29.00", "currency": "USD"}, "billingPeriod": "MONTHLY"},
            ],
        },
        {
            "code": "ultimate",
            "prices": [
                {"unitAmount": {"amount": "1188.00", "currency": "USD"}, "billingPeriod": "ANNUAL"},
                {"unitAmount": {"amount": "99.00", "currency": "USD"}, "billingPeriod": "MONTHLY"},
            ],
        },
    ]


async def test_a_price_change_in_the_database_shows_from_its_date(
    gql: GraphQL, session: AsyncSession
) -> None:
    from datetime import date

    from sqlalchemy import select

    premium = (await session.execute(select(Plan).where(Plan.code == "premium"))).scalar_one()
    session.add(
        Price(
            plan_id=premium.id,
            currency="USD",
            billing_period="annual",
            unit_amount=39600,
            valid_from=date(2026, 6, 1),
        )
    )
    await session.commit()
    query = """query($on: Date) { plans(currency: "USD") { code
                 prices(on: $on) { billingPeriod validFrom unitAmount { amount } } } }"""

    def annual(body: dict[str, Any]) -> dict[str, Any]:
        [plan] = [p for p in data(body)["plans"] if p["code"] == "premium"]
        [price] = [p for p in plan["prices"] if p["billingPeriod"] == "ANNUAL"]
        return price

    assert annual(await gql(query)) == {
        "billingPeriod": "ANNUAL",
        "validFrom": "2023-04-03",
        "unitAmount": {"amount": "348.00"},
    }
    assert annual(await gql(query, {"on": "2026-06-01"}))["unitAmount"] == {"amount": "396.00"}
    assert annual(await gql(query, {"on": "2022-01-01"}))["unitAmount"] == {"amount": "228.00"}


async def test_add_ons_with_eur_prices(gql: GraphQL) -> None:
    body = await gql(
        '{ addOns(currency: "EUR") { code name prices { unitAmount { amount currency } } } }'
    )
    assert [(a["code"], a["prices"][0]["unitAmount"]) for a in data(body)["addOns"]] == [
        ("duo_pro", {"amount": "216.00", "currency": "EUR"}),
        ("duo_enterprise", {"amount": "444.00", "currency": "EUR"}),
        ("storage_10gb", {"amount": "57.00", "currency": "EUR"}),
    ]


async def test_quote_is_exact_integer_cents_and_writes_nothing(
    gql: GraphQL, session: AsyncSession
) -> None:
    before = await row_counts(session)
    body = await gql(
        QUOTE,
        {
            "input": {
                "plan": "premium",
                "seats": 37,
                "currency": "USD",
                "billingPeriod": "ANNUAL",
                "addOns": [
                    {"code": "duo_pro", "quantity": 12},
                    {"code": "storage_10gb", "quantity": 3},
                ],
                "startDate": "2026-04-01",
            }
        },
    )
    quote = data(body)["quote"]
    assert quote["__typename"] == "Quote"
    assert (quote["startDate"], quote["endDate"]) == ("2026-04-01", "2027-04-01")
    assert [
        (
            line["kind"],
            line["quantity"],
            line["unitPrice"]["minorUnits"],
            line["amount"]["minorUnits"],
        )
        for line in quote["lines"]
    ] == [
        ("PURCHASE", 37, 34800, 1287600),
        ("ADD_ON", 12, 22800, 273600),
        ("ADD_ON", 3, 6000, 18000),
    ]
    assert quote["total"] == {"amount": "15792.00", "currency": "USD", "minorUnits": 1579200}
    assert await row_counts(session) == before


async def test_quote_defaults_to_today_and_annual(gql: GraphQL) -> None:
    body = await gql(QUOTE, {"input": {"plan": "ultimate", "seats": 100000, "currency": "USD"}})
    quote = data(body)["quote"]
    assert (quote["startDate"], quote["endDate"], quote["billingPeriod"]) == (
        "2026-03-15",
        "2027-03-15",
        "ANNUAL",
    )
    assert quote["total"] == {
        "amount": "118800000.00",
        "currency": "USD",
        "minorUnits": 11_880_000_000,
    }


async def test_quote_uses_the_price_in_force_on_the_start_date(gql: GraphQL) -> None:
    body = await gql(
        QUOTE,
        {"input": {"plan": "premium", "seats": 1, "currency": "EUR", "startDate": "2026-12-31"}},
    )
    assert data(body)["quote"]["total"]["amount"] == "336.00"


@pytest.mark.parametrize(
    ("change", "typename", "code", "field"),
    [
        ({"plan": "platinum"}, "NotFoundError", "PLAN_NOT_FOUND", "plan"),
        ({"seats": 0}, "InvalidInputError", "SEATS_BELOW_MINIMUM", "seats"),
        ({"seats": -3}, "InvalidInputError", "SEATS_BELOW_MINIMUM", "seats"),
        ({"seats": 100_001}, "InvalidInputError", "SEATS_ABOVE_MAXIMUM", "seats"),
        ({"currency": "GBP"}, "PriceNotFoundError", "PRICE_NOT_FOUND", "currency"),
        ({"currency": "XYZ"}, "InvalidInputError", "UNSUPPORTED_CURRENCY", "currency"),
        (
            {"currency": "EUR", "billingPeriod": "MONTHLY"},
            "PriceNotFoundError",
            "PRICE_NOT_FOUND",
            "currency",
        ),
        (
            {"addOns": [{"code": "duo_max", "quantity": 1}]},
            "NotFoundError",
            "ADD_ON_NOT_FOUND",
            "addOns.0.code",
        ),
        (
            {"addOns": [{"code": "duo_pro", "quantity": 1}, {"code": "duo_pro", "quantity": 2}]},
            "InvalidInputError",
            "DUPLICATE_ADD_ON",
            "addOns.1.code",
        ),
        (
            {"addOns": [{"code": "duo_pro", "quantity": 0}]},
            "InvalidInputError",
            "QUANTITY_BELOW_MINIMUM",
            "addOns.0.quantity",
        ),
        ({"startDate": "2026-03-14"}, "InvalidInputError", "START_DATE_IN_PAST", "startDate"),
    ],
)
async def test_invalid_quotes_return_typed_errors_and_write_nothing(
    gql: GraphQL,
    session: AsyncSession,
    change: dict[str, Any],
    typename: str,
    code: str,
    field: str,
) -> None:
    before = await row_counts(session)
    body = await gql(
        QUOTE, {"input": {"plan": "premium", "seats": 10, "currency": "USD", **change}}
    )
    result = data(body)["quote"]
    assert (result["__typename"], result["code"], result["field"]) == (typename, code, field)
    assert result["message"]
    assert await row_counts(session) == before


async def test_catalog_lists_are_batched_and_prices_are_distinct_nodes(
    gql: GraphQL, session: AsyncSession, count_statements: Any
) -> None:
    from datetime import date

    from db.tables import AddOn, AddOnPrice

    query = """{ plans(currency: "USD") { id prices { id unitAmount { amount } } }
                 addOns(currency: "USD") { id prices { id unitAmount { amount } } } }"""
    with count_statements() as few:
        body = data(await gql(query))
    for index in range(40):
        add_on = AddOn(code=f"extra_{index}", name=f"Extra {index}", position=10 + index)
        session.add(add_on)
        await session.flush()
        session.add(
            AddOnPrice(
                add_on_id=add_on.id,
                currency="USD",
                billing_period="annual",
                unit_amount=100 * index,
                valid_from=date(2020, 1, 1),
            )
        )
    await session.commit()
    with count_statements() as many:
        more = data(await gql(query))
    assert len(more["addOns"]) == len(body["addOns"]) + 40
    assert many.n == few.n

    plan_price = body["plans"][1]["prices"][0]["id"]
    add_on_price = body["addOns"][0]["prices"][0]["id"]
    nodes = data(
        await gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename"
            " ... on Price { unitAmount { amount } }"
            " ... on AddOnPrice { unitAmount { amount } } } }",
            {"ids": [plan_price, add_on_price]},
        )
    )["nodes"]
    assert nodes == [
        {"__typename": "Price", "unitAmount": {"amount": "348.00"}},
        {"__typename": "AddOnPrice", "unitAmount": {"amount": "228.00"}},
    ]
