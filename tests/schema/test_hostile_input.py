"""Hostile input (issue 9, items 7 and 8): oversized lists and strings, NUL bytes, inexact
numbers, dates out of range and malformed report files are refused with a typed error naming
the field, before any resolver runs, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.settings import Settings
from resolvers.limits import Limits
from tests.commerce import PAY, gid, result
from tests.conftest import GraphQL
from tests.helpers import row_counts

pytestmark = pytest.mark.usefixtures("demo")

USERS = """mutation($input: UsersUpsertInput!) { usersUpsert(input: $input) { __typename
  ... on InvalidBatchError { problems { index field code } } } }"""
SOURCES = """mutation($input: SourcesUpsertInput!) { sourcesUpsert(input: $input) { __typename
  ... on InvalidBatchError { problems { index field code } } } }"""
EVENTS = """mutation($input: UsageRecordInput!) { usageRecord(input: $input) { __typename } }"""
ACTIVATE = """mutation($input: LicenseActivateInput!) { licenseActivate(input: $input) {
  __typename } }"""
QUOTE = """query($input: QuoteInput!) { quote(input: $input) { __typename
  ... on UserError { code field } } }"""
UPLOAD = """mutation($report: String!) { usageReportUpload(input: {report: $report}) {
  __typename ... on UserError { code field message } } }"""
PREVIEW = """query($users: [String!], $emails: [String!]) { namespace(path: "acme") {
  previewMembersChange(addUsernames: $users, addEmails: $emails, role: DEVELOPER) {
    __typename ... on InvalidBatchError { code problems { field code } } } } }"""

USER = {"id": 1, "username": "alice", "name": "Alice", "state": "active"}
EVENT = {
    "eventId": "evt-1",
    "namespacePath": "acme",
    "metric": "compute_minutes",
    "quantity": 5,
    "occurredAt": "2026-03-02T10:00:00Z",
}


def refusal(body: dict[str, Any]) -> tuple[str, str | None]:
    """(code, field) of the one top-level error; no field of the operation ran."""
    assert body["data"] is None, body
    [error] = body["errors"]
    return error["extensions"]["code"], error["extensions"].get("field")


@pytest.fixture
def as_role(token: Callable[..., str]) -> Callable[[str | None], str | None]:
    return lambda role: token(role) if role else None


# --- sizes and NUL bytes, before coercion ------------------------------------------------


async def test_a_list_past_the_limit_is_refused_before_coercion(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    # 25,000 records (1.5 MB, within the body limit) would take seconds to coerce
    before = await row_counts(session)
    body = await gql(USERS, {"input": {"records": [USER] * 25_000}}, token=token("gitlab"))
    assert refusal(body) == ("BAD_USER_INPUT", "input.records")
    assert "25000 items; at most 1000" in body["errors"][0]["message"]
    assert await row_counts(session) == before


async def test_a_list_literal_past_the_limit_is_refused(gql: GraphQL) -> None:
    ids = ", ".join(['"x"'] * (Limits.list_items + 1))
    assert refusal(await gql(f"{{ nodes(ids: [{ids}]) {{ id }} }}")) == ("BAD_USER_INPUT", "ids")


async def test_nodes_takes_at_most_one_page_of_ids(gql: GraphQL) -> None:
    ids = [gid("Plan", n) for n in range(1, 102)]
    body = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert refusal(body) == ("BAD_USER_INPUT", "ids")
    assert (
        len(
            (await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids[:100]}))[
                "data"
            ]["nodes"]
        )
        == 100
    )


async def test_a_string_past_the_limit_is_refused(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    before = await row_counts(session)
    long_name = {**USER, "name": "x" * (Limits.string_length + 1)}
    body = await gql(USERS, {"input": {"records": [USER, long_name]}}, token=token("gitlab"))
    assert refusal(body) == ("BAD_USER_INPUT", "input.records.1.name")
    assert await row_counts(session) == before


NUL = "a\x00b"


@pytest.mark.parametrize(
    ("query", "variables", "role", "field"),
    [
        (USERS, {"input": {"records": [{**USER, "username": NUL}]}}, "gitlab",
         "input.records.0.username"),
        (USERS, {"input": {"records": [{**USER, "publicEmail": NUL}]}}, "gitlab",
         "input.records.0.publicEmail"),
        (SOURCES, {"input": {"records": [{"kind": "GROUP", "id": 1, "fullPath": NUL,
                                          "name": "A"}]}}, "gitlab", "input.records.0.fullPath"),
        (EVENTS, {"input": {"events": [{**EVENT, "eventId": NUL}]}}, "gitlab",
         "input.events.0.eventId"),
        (ACTIVATE, {"input": {"activationCode": "c", "instanceId": "i", "hostname": NUL,
                              "version": "18.6.0"}}, None, "input.hostname"),
        (QUOTE, {"input": {"plan": NUL, "seats": 5, "currency": "USD"}}, None, "input.plan"),
        (PREVIEW, {"users": ["alice", NUL]}, "admin", "users.1"),
        (PAY, {"input": {"invoiceId": gid("Invoice", 1), "reference": NUL,
                         "amount": {"minorUnits": 100, "currency": "USD"}}}, "admin",
         "input.reference"),
        ('{ plans { code } namespace(path: "a\\u0000b") { path } }', {}, None, "path"),
    ],
)  # fmt: skip
async def test_nul_bytes_are_refused_in_every_string(
    gql: GraphQL,
    as_role: Callable[[str | None], str | None],
    session: AsyncSession,
    query: str,
    variables: dict[str, Any],
    role: str | None,
    field: str,
) -> None:
    before = await row_counts(session)
    assert refusal(await gql(query, variables, token=as_role(role))) == ("BAD_USER_INPUT", field)
    assert await row_counts(session) == before


# --- whole numbers ------------------------------------------------------------------------


def pay(minor_units: Any) -> dict[str, Any]:
    return {
        "input": {
            "invoiceId": gid("Invoice", 1),
            "amount": {"minorUnits": minor_units, "currency": "USD"},
            "reference": "wire 42",
        }
    }


@pytest.mark.parametrize("minor_units", [1.99, True, "5", 2**53, -(2**53)])
async def test_long_variables_refuse_fractions_booleans_strings_and_inexact_sizes(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession, minor_units: Any
) -> None:
    before = await row_counts(session)
    body = await gql(PAY, pay(minor_units), token=token("admin"))
    assert refusal(body) == ("BAD_USER_INPUT", "input.amount.minorUnits")
    assert await row_counts(session) == before


async def test_a_long_too_large_for_a_float_is_refused(
    client: AsyncClient, token: Callable[..., str], session: AsyncSession
) -> None:
    before = await row_counts(session)
    body = json.dumps({"query": PAY, "variables": pay(0)}).replace(
        '"minorUnits": 0', '"minorUnits": 1e400'
    )
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token('admin')}"},
    )
    assert refusal(response.json()) == ("BAD_USER_INPUT", "input.amount.minorUnits")
    assert await row_counts(session) == before


@pytest.mark.parametrize("literal", ["1.99", "true", '"5"', "9007199254740992", "1e400", "ACME"])
async def test_long_literals_refuse_what_is_not_an_exact_whole_number(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession, literal: str
) -> None:
    before = await row_counts(session)
    query = f"""mutation {{ invoicePay(input: {{invoiceId: "{gid("Invoice", 1)}",
      reference: "r", amount: {{minorUnits: {literal}, currency: "USD"}}}}) {{ __typename }} }}"""
    body = await gql(query, token=token("admin"))
    assert refusal(body) == ("GRAPHQL_VALIDATION_FAILED", "input.amount.minorUnits")
    assert await row_counts(session) == before


async def test_a_whole_long_sent_as_5_0_is_the_number_5(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    answer = result(
        await gql(
            EVENTS, {"input": {"events": [{**EVENT, "quantity": 5.0}]}}, token=token("gitlab")
        )
    )
    assert answer["__typename"] == "BatchWriteSuccess"


@pytest.mark.parametrize("seats", [1.9, True, "5"])
async def test_int_inputs_refuse_fractions_booleans_and_strings(gql: GraphQL, seats: Any) -> None:
    as_variable = await gql(
        QUOTE, {"input": {"plan": "premium", "seats": seats, "currency": "USD"}}
    )
    assert refusal(as_variable) == ("BAD_USER_INPUT", "input.seats")
    literal = json.dumps(seats)
    as_literal = await gql(
        f'{{ quote(input: {{plan: "premium", seats: {literal}, currency: "USD"}}) '
        "{ __typename } }"
    )
    assert refusal(as_literal) == ("GRAPHQL_VALIDATION_FAILED", "input.seats")


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "3000-01-01", "1899-12-31"])
async def test_dates_outside_1900_to_2999_are_refused(gql: GraphQL, day: str) -> None:
    body = await gql(QUOTE, {"input": {"plan": "premium", "seats": 5, "currency": "USD",
                                       "startDate": day}})  # fmt: skip
    assert refusal(body) == ("BAD_USER_INPUT", "input.startDate")
    literal = await gql(f'{{ quote(input: {{plan: "premium", seats: 5, currency: "USD", '
                        f'startDate: "{day}"}}) {{ __typename }} }}')  # fmt: skip
    assert refusal(literal) == ("GRAPHQL_VALIDATION_FAILED", "input.startDate")


async def test_a_moment_in_year_9999_is_refused(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    before = await row_counts(session)
    late = {**EVENT, "occurredAt": "9999-12-31T23:00:00-05:00"}
    body = await gql(EVENTS, {"input": {"events": [late]}}, token=token("gitlab"))
    assert refusal(body) == ("BAD_USER_INPUT", "input.events.0.occurredAt")
    assert await row_counts(session) == before


# --- per-field caps -----------------------------------------------------------------------


async def test_a_quote_takes_at_most_20_add_ons(gql: GraphQL) -> None:
    add_ons = [{"code": f"a{n}", "quantity": 1} for n in range(21)]
    body = await gql(QUOTE, {"input": {"plan": "premium", "seats": 5, "currency": "USD",
                                       "addOns": add_ons}})  # fmt: skip
    assert result(body) == {"__typename": "InvalidInputError", "code": "INVALID_VALUE",
                            "field": "addOns"}  # fmt: skip


async def test_a_members_preview_takes_at_most_1000_people(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    people = [f"user{n}" for n in range(600)]
    body = await gql(PREVIEW, {"users": people, "emails": [f"{p}@x.example" for p in people]},
                     token=token("admin"))  # fmt: skip
    preview = body["data"]["namespace"]["previewMembersChange"]
    assert preview["problems"] == [{"field": "addEmails", "code": "BATCH_TOO_LARGE"}]


@pytest.fixture
def roomy_settings(settings: Settings) -> Settings:
    """A service configured for larger lists: each mutation's own batch cap still holds."""
    settings.max_list_items = 5000
    return settings


@pytest.mark.usefixtures("roomy_settings")
async def test_a_batch_cap_holds_when_the_list_limit_is_raised(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    before = await row_counts(session)
    users = [{**USER, "id": n, "username": f"u{n}"} for n in range(1001)]
    answer = result(await gql(USERS, {"input": {"records": users}}, token=token("gitlab")))
    assert answer["problems"] == [{"index": 1000, "field": "records", "code": "BATCH_TOO_LARGE"}]
    assert await row_counts(session) == before


# --- the internal errors of item 7 ----------------------------------------------------------


REPORT = {
    "license": "x.y.z",
    "instance_id": "uid-1",
    "hostname": "gitlab.example",
    "version": "18.6.0",
    "billable_users": 10,
    "max_historical_users": 10,
    "reported_at": "2026-03-14T08:00:00+00:00",
}


def changed(**values: Any) -> str:
    return json.dumps({**REPORT, **values})


@pytest.mark.parametrize(
    ("file", "field"),
    [
        (changed().replace("10,", "Infinity,", 1), "report"),
        (changed().replace("10,", "NaN,", 1), "report"),
        (changed().replace("10,", "1e400,", 1), "report.billable_users"),
        (changed(billable_users=1.9), "report.billable_users"),
        (changed(billable_users=True), "report.billable_users"),
        (changed(max_historical_users="5"), "report.max_historical_users"),
        (changed(hostname="gitlab\x00.example"), "report.hostname"),
        (changed(hostname=["nested"]), "report.hostname"),
        (changed(reported_at="9999-12-31T23:00:00-05:00"), "report.reported_at"),
        ("[" * 20_000 + "]" * 20_000, "report"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, "report"),
        ("[1, 2]", "report"),
    ],
)
async def test_a_hostile_usage_report_file_gets_a_typed_error(
    gql: GraphQL, session: AsyncSession, file: str, field: str
) -> None:
    before = await row_counts(session)
    answer = result(await gql(UPLOAD, {"report": file}))
    assert (answer["code"], answer["field"]) == ("INVALID_VALUE", field)
    assert await row_counts(session) == before


async def test_two_top_level_groups_with_one_path_are_refused_by_index(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    before = await row_counts(session)
    records = [
        {"kind": "GROUP", "id": 900, "fullPath": "twins", "name": "One"},
        {"kind": "GROUP", "id": 901, "fullPath": "twins", "name": "Two"},
        {"kind": "GROUP", "id": 902, "fullPath": "p" * 256, "name": "Long"},
    ]
    answer = result(await gql(SOURCES, {"input": {"records": records}}, token=token("gitlab")))
    assert answer["problems"] == [
        {"index": 0, "field": "fullPath", "code": "DUPLICATE_RECORD"},
        {"index": 1, "field": "fullPath", "code": "DUPLICATE_RECORD"},
        {"index": 2, "field": "fullPath", "code": "INVALID_VALUE"},
    ]
    assert await row_counts(session) == before
