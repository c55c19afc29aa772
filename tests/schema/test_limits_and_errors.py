"""Depth, alias and token limits; unexpected errors masked with a request id."""

import logging
import re

import pytest
from httpx import AsyncClient

from resolvers import catalog
from resolvers.limits import Limits
from tests.conftest import GraphQL
from tests.helpers import error_codes


async def test_queries_deeper_than_the_limit_are_refused(gql: GraphQL) -> None:
    deep = (
        "{ viewer { customer { "
        + "namespaces { customer { " * Limits.depth
        + "name"
        + " } }" * Limits.depth
        + " } } }"
    )
    body = await gql(deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert error_codes(body)[0] == "GRAPHQL_VALIDATION_FAILED"


async def test_too_many_aliases_are_refused(gql: GraphQL) -> None:
    query = "{ " + " ".join(f"a{i}: plans {{ code }}" for i in range(Limits.aliases + 1)) + " }"
    body = await gql(query)
    assert "aliases found" in body["errors"][0]["message"]


async def test_too_many_tokens_are_refused(gql: GraphQL) -> None:
    query = "{ " + "__typename " * Limits.tokens + "}"
    body = await gql(query)
    assert "more than 5000 tokens" in body["errors"][0]["message"]


async def test_syntax_errors_are_shown_with_a_code(gql: GraphQL) -> None:
    body = await gql("{ plans { code }")
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Syntax Error" in body["errors"][0]["message"]


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
    from strawberry.extensions.validation_cache import _get_validate_cache

    query = "{ plans { code name } __typename }"
    await gql(query)
    parsed, validated = _get_parse_cache(128).cache_info(), _get_validate_cache(128).cache_info()
    for _ in range(3):
        await gql(query)
    assert _get_parse_cache(128).cache_info().hits == parsed.hits + 3
    assert _get_validate_cache(128).cache_info().hits == validated.hits + 3
