"""Depth, alias and token limits; unexpected errors masked with a request id."""

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from graphql import get_introspection_query
from httpx import AsyncClient

from resolvers import catalog
from resolvers.limits import Limits
from tests.conftest import GraphQL
from tests.helpers import data, error_codes


async def test_queries_deeper_than_the_limit_are_refused(gql: GraphQL) -> None:
    deep = (
        "{ viewer { customer { "
        + "namespaces { customer { " * Limits.depth
        + "name"
        + " } }" * Limits.depth
        + " } } }"
    )
    body = await gql(deep)
    assert body["errors"][0]["message"] == "The operation exceeds maximum operation depth of 12."
    assert error_codes(body)[0] == "GRAPHQL_VALIDATION_FAILED"


async def test_too_many_aliases_are_refused(gql: GraphQL) -> None:
    query = "{ " + " ".join(f"a{i}: plans {{ code }}" for i in range(Limits.aliases + 1)) + " }"
    body = await gql(query)
    assert body["errors"][0]["message"] == "The operation has more than 30 aliases."


async def test_too_many_tokens_are_refused(gql: GraphQL) -> None:
    query = "{ " + "__typename " * Limits.tokens + "}"
    body = await gql(query)
    assert "more than 5000 tokens" in body["errors"][0]["message"]
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]  # the parser stopped


async def test_syntax_errors_are_shown_with_a_code(gql: GraphQL) -> None:
    body = await gql("{ plans { code }")
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_a_document_that_parses_but_does_not_validate_is_a_validation_failure(
    gql: GraphQL,
) -> None:
    body = await gql("{ plans { noSuchField } }")
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(context: object) -> list[object]:
        raise RuntimeError("password=hunter2 leaked from a driver")

    monkeypatch.setattr(catalog, "list_plans", broken)
    with caplog.at_level(logging.ERROR, logger="billing.errors"):
        response = await client.post(
            "/graphql", json={"query": "{ plans { code } }"}, headers={"X-Request-Id": "req-123"}
        )
    [error] = response.json()["errors"]
    assert error["message"] == "Unexpected error (request req-123)."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-123"}
    assert "hunter2" not in response.text
    assert response.headers["x-request-id"] == "req-123"
    assert "req-123" in caplog.text
    assert "hunter2" in caplog.text


@pytest.mark.parametrize("sent", [None, "bad id with spaces", "x" * 65])
async def test_a_request_id_is_made_when_none_usable_is_sent(
    client: AsyncClient, sent: str | None
) -> None:
    headers = {"X-Request-Id": sent} if sent else {}
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert re.fullmatch(r"app;dur=[0-9]+\.[0-9]", response.headers["server-timing"])


async def test_parsing_and_validation_are_cached_across_requests(gql: GraphQL) -> None:
    from strawberry.extensions.parser_cache import _get_parse_cache

    from schema.build import cached_validation

    query = "{ plans { code name } __typename }"
    await gql(query)
    parsed, validated = _get_parse_cache(128).cache_info(), cached_validation.cache_info()
    for _ in range(3):
        await gql(query)
    assert _get_parse_cache(128).cache_info().hits == parsed.hits + 3
    assert cached_validation.cache_info().hits == validated.hits + 3


def _doubling_fragments(levels: int) -> str:
    """{ plans { ...F0 } } with F0 spreading F1 twice, F1 spreading F2 twice, ... : walked
    naively, 2^levels fragment visits."""
    chain = " ".join(
        f"fragment F{i} on Plan {{ code prices {{ validFrom }} ...F{i + 1} ...F{i + 1} }}"
        for i in range(levels)
    )
    return f"{{ plans {{ ...F0 }} }} {chain} fragment F{levels} on Plan {{ name }}"


@pytest.mark.usefixtures("demo")
async def test_doubling_fragments_are_measured_once_each(gql: GraphQL) -> None:
    # given a document whose fragments spread the next one twice, 30 levels deep
    started = time.perf_counter()
    body = await gql(_doubling_fragments(30))
    # then it runs (spreads of one fragment merge), measured in linear time
    assert {plan["code"] for plan in data(body)["plans"]} == {"free", "premium", "ultimate"}
    assert time.perf_counter() - started < 1


async def test_depth_through_a_chain_of_fragments_is_refused(gql: GraphQL) -> None:
    # given 13 fragments, each one nested object deeper than the last
    chain = " ".join(
        f"fragment F{i} on Customer {{ namespaces {{ customer {{ ...F{i + 1} }} }} }}"
        for i in range(7)
    )
    query = f"{{ viewer {{ customer {{ ...F0 }} }} }} {chain} fragment F7 on Customer {{ name }}"
    body = await gql(query)
    assert body["errors"][0]["message"] == (
        f"The operation exceeds maximum operation depth of {Limits.depth}."
    )
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_fragment_chains_past_any_sane_nesting_are_refused(gql: GraphQL) -> None:
    # given 400 fragments spreading each other in a chain (no braces deeper than 3)
    chain = " ".join(f"fragment F{i} on Plan {{ ...F{i + 1} }}" for i in range(400))
    body = await gql(f"{{ plans {{ ...F0 }} }} {chain} fragment F400 on Plan {{ code }}")
    assert body["errors"][0]["message"] == "The document nests fragments more than 100 deep."


async def test_a_field_repeated_past_the_limit_is_refused_at_once(gql: GraphQL) -> None:
    # given 400 copies of one field in a selection, 200 of them through inline fragments
    copies = "plans { code } " * 200 + "... on Query { plans { code } } " * 200
    started = time.perf_counter()
    body = await gql("{ " + copies + "}")
    assert body["errors"][0]["message"] == (
        f"The operation repeats one field more than {Limits.field_repeats} times in a selection."
    )
    assert time.perf_counter() - started < 1
    # while the limit itself is fine
    assert "errors" not in await gql("{ " + "plans { code } " * Limits.field_repeats + "}")


INVOICES_IN_INVOICES = """query($first: Int) { customers(first: $first) { edges { node {
    invoices(first: $first) { edges { node { number lines { description } } } } } } } }"""


async def test_a_query_over_its_cost_is_refused_before_it_runs(
    gql: GraphQL, token: Callable[..., str], count_statements: Callable[[], Any]
) -> None:
    # given 100 customers x 100 invoices x their lines (10 assumed): the connection, then per
    # customer an edge, a node and its connection, per invoice an edge, a node and 10 lines:
    # 1 + 100 x (3 + 100 x 12) = 120,301 objects, past the 20,000 budget
    with count_statements() as counted:
        body = await gql(INVOICES_IN_INVOICES, {"first": 100}, token=token("admin"))
    assert body["errors"][0]["message"] == (
        "The query costs 120301, more than the limit of 20000: ask for fewer or smaller lists."
    )
    assert error_codes(body) == ["QUERY_TOO_COSTLY"]
    assert body.get("data") is None
    assert counted.n == 0  # nothing ran


@pytest.mark.usefixtures("demo")
async def test_every_answer_reports_its_cost(gql: GraphQL, token: Callable[..., str]) -> None:
    # requested: 1 + 10 customers x (3 + 10 invoices x (2 + 10 lines)) = 1,231
    body = await gql(INVOICES_IN_INVOICES, {"first": 10}, token=token("admin"))
    customers = data(body)["customers"]["edges"]
    returned = 1 + sum(  # the objects in the answer: connections, edges, nodes, lines
        3 + sum(2 + len(i["node"]["lines"]) for i in c["node"]["invoices"]["edges"])
        for c in customers
    )
    assert len(customers) == 3
    assert body["extensions"]["cost"] == {"requested": 1231, "actual": returned, "limit": 20000}


async def test_cost_counts_the_ids_asked_for(gql: GraphQL) -> None:
    ids = ", ".join('"UGxhbjox"' for _ in range(7))
    body = await gql(f"{{ nodes(ids: [{ids}]) {{ id }} }}")
    assert body["extensions"]["cost"]["requested"] == 7


async def test_fields_merging_across_levels_count_as_repeats(gql: GraphQL) -> None:
    # given 20 `viewer` fields each with 20 `customer` fields: 400 fields merge into
    # viewer.customer, which graphql-core would compare pairwise (80,000 pairs)
    viewers = " ".join("viewer { " + "customer { name } " * 20 + "}" for _ in range(20))
    started = time.perf_counter()
    body = await gql('{ plans(currency: "XYZ") { code } ' + viewers + " }")
    assert body["errors"][0]["message"] == (
        "The operation repeats one field more than 30 times in a selection."
    )
    assert time.perf_counter() - started < 1


async def test_a_document_that_expands_past_the_field_budget_is_refused(gql: GraphQL) -> None:
    # given fragments that spread the next one into two different places: 2^30 fields
    chain = " ".join(
        f"fragment F{i} on Customer {{ name a: namespaces {{ customer {{ ...F{i + 1} }} }} "
        f"b: namespaces {{ customer {{ ...F{i + 1} }} }} }}"
        for i in range(30)
    )
    query = f"{{ viewer {{ customer {{ ...F0 }} }} }} {chain} fragment F30 on Customer {{ name }}"
    started = time.perf_counter()
    body = await gql(query)
    assert body["errors"][0]["message"] == (
        f"The document selects more than {Limits.fields} fields once its fragments are expanded."
    )
    assert time.perf_counter() - started < 1


SUBSCRIPTION_INVOICES = """{ viewer { customer { subscriptions(first: 100) { ...Page } } } }
fragment Page on SubscriptionConnection { edges { node {
    invoices(first: 100) { edges { node { number } } } } } }"""


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        # a fragment on a connection type keeps its page of 100
        (SUBSCRIPTION_INVOICES, {}),
        # a variable's default counts when the variable is not sent
        (
            "query($n: Int = 100) { viewer { customer { subscriptions(first: $n) { edges { node {"
            " invoices(first: $n) { edges { node { number } } } } } } } } }",
            {},
        ),
        # and a float that Int takes as a whole number
        (
            "query($n: Int) { viewer { customer { subscriptions(first: $n) { edges { node {"
            " invoices(first: $n) { edges { node { number } } } } } } } } }",
            {"n": 100.0},
        ),
    ],
    ids=["fragment-on-connection", "variable-default", "float-variable"],
)
async def test_every_way_of_asking_for_a_page_is_costed(
    gql: GraphQL, token: Callable[..., str], query: str, variables: dict[str, Any]
) -> None:
    # 1 viewer + 1 customer... : 1 + 1 + 100 x 3 + 100 x 100 x 2 = 20,302 plus the connection
    body = await gql(query, variables, token=token("customer", 1))
    assert error_codes(body) == ["QUERY_TOO_COSTLY"]
    assert "The query costs 20303" in body["errors"][0]["message"]


async def test_introspection_costs_about_what_it_returns(gql: GraphQL) -> None:
    # given GraphiQL's introspection query
    body = await gql(get_introspection_query(descriptions=True, input_value_deprecation=True))
    cost = body["extensions"]["cost"]
    # then it runs, estimated within a small factor of the objects it returned
    assert "errors" not in body
    assert cost["actual"] <= cost["requested"] <= 2 * cost["actual"]


async def test_introspection_many_times_over_is_costed(gql: GraphQL) -> None:
    # (graphql-core refuses introspection nested past three levels of fields itself)
    schema = "__schema { types { fields { type { fields { type { name } } } } } }"
    body = await gql("{ " + " ".join(f"a{i}: {schema}" for i in range(10)) + " }")
    assert error_codes(body) == ["QUERY_TOO_COSTLY"]


@pytest.mark.usefixtures("demo")
async def test_plain_lists_cost_as_long_as_their_arguments_allow(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    # given 30 aliases of a year of seat history (up to 366 days each): 30 x (1 + 366)
    history = 'seatUsageHistory(from: "2025-03-15", to: "2026-03-15") { date peak }'
    aliases = " ".join(f"a{i}: {history}" for i in range(30))
    body = await gql(f'{{ namespace(path: "acme") {{ {aliases} }} }}', token=token("admin"))
    assert "errors" not in body
    assert body["extensions"]["cost"]["requested"] == 10981
