"""Apollo's automatic persisted queries (docs/http.md): an unknown hash answers
`PersistedQueryNotFound` so the client resends with the query; the hash is checked; a known
hash runs, over POST or GET; the store keeps the most recently used within its bytes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.http import GraphQLRequestData

from api.app import create_app
from api.persisted import PersistedQueries
from api.request import RequestRefused
from api.settings import Settings
from tests.conftest import FixedClock
from tests.helpers import answer, error_codes

QUERY = '{ plans(currency: "EUR") { code } }'
PLANS = {"data": {"plans": [{"code": "free"}, {"code": "premium"}, {"code": "ultimate"}]}}
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(sha: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


def get_params(sha: str, query: str | None = None) -> dict[str, str]:
    params = {"extensions": json.dumps(persisted(sha))}
    return params | ({"query": query} if query is not None else {})


@pytest.mark.usefixtures("demo")
async def test_the_apollo_flow_over_post(client: httpx.AsyncClient) -> None:
    # given a client that first sends only the hash of a query this server has not seen
    first = await client.post("/graphql", json={"extensions": persisted(sha256(QUERY))})
    # then it is told to send the query (200, as Apollo Server answers it)
    assert first.status_code == 200
    assert first.json() == NOT_FOUND
    # when it sends the query with its hash, the query runs and is kept
    second = await client.post(
        "/graphql", json={"query": QUERY, "extensions": persisted(sha256(QUERY))}
    )
    assert answer(second.json()) == PLANS
    # and the hash alone runs it from then on
    third = await client.post("/graphql", json={"extensions": persisted(sha256(QUERY))})
    assert third.status_code == 200
    assert answer(third.json()) == PLANS


@pytest.mark.usefixtures("demo")
async def test_the_apollo_flow_over_get(client: httpx.AsyncClient) -> None:
    sha = sha256(QUERY)
    first = await client.get("/graphql", params=get_params(sha), headers={"Accept": "*/*"})
    assert first.status_code == 200
    assert first.json() == NOT_FOUND
    second = await client.get("/graphql", params=get_params(sha, QUERY))
    assert answer(second.json()) == PLANS
    third = await client.get("/graphql", params=get_params(sha), headers={"Accept": "*/*"})
    assert third.status_code == 200
    assert answer(third.json()) == PLANS


@pytest.mark.usefixtures("demo")
async def test_a_hash_kept_from_a_post_runs_over_get(client: httpx.AsyncClient) -> None:
    sha = sha256(QUERY)
    await client.post("/graphql", json={"query": QUERY, "extensions": persisted(sha)})
    response = await client.get("/graphql", params=get_params(sha))
    assert answer(response.json()) == PLANS


async def test_a_persisted_mutation_is_refused_over_get(client: httpx.AsyncClient) -> None:
    mutation = "mutation { __typename }"
    kept = await client.post(
        "/graphql", json={"query": mutation, "extensions": persisted(sha256(mutation))}
    )
    assert kept.json()["data"] == {"__typename": "Mutation"}
    response = await client.get("/graphql", params=get_params(sha256(mutation)))
    assert response.status_code == 400
    assert "mutations are not allowed when using GET" in response.text


async def test_a_query_whose_hash_does_not_match_is_refused_and_not_kept(
    client: httpx.AsyncClient,
) -> None:
    # given a query sent with the hash of another document
    wrong = sha256("{ __typename }")
    response = await client.post("/graphql", json={"query": QUERY, "extensions": persisted(wrong)})
    # then it is refused and nothing ran
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]
    assert "does not match" in response.json()["errors"][0]["message"]
    assert "data" not in response.json()
    # and neither hash now names it
    for sha in (wrong, sha256(QUERY)):
        again = await client.post("/graphql", json={"extensions": persisted(sha)})
        assert again.json() == NOT_FOUND


@pytest.mark.parametrize(
    "query",
    [
        "{ plans { code }",  # does not parse
        "{ plans { noSuchField } }",  # does not validate
        "query($c: String) { plans(currency: $c) { code } }",  # variables do not fit
    ],
)
async def test_a_query_that_did_not_run_is_not_kept(client: httpx.AsyncClient, query: str) -> None:
    sent = await client.post(
        "/graphql",
        json={"query": query, "variables": {"c": 5}, "extensions": persisted(sha256(query))},
    )
    assert sent.json()["data"] is None
    again = await client.post("/graphql", json={"extensions": persisted(sha256(query))})
    assert again.json() == NOT_FOUND


@pytest.mark.parametrize(
    "extension",
    [
        {"version": 2, "sha256Hash": sha256(QUERY)},
        {"sha256Hash": sha256(QUERY)},
        {"version": 1, "sha256Hash": "abc"},
        {"version": 1},
        "not an object",
    ],
)
async def test_a_malformed_persisted_query_extension_is_refused(
    client: httpx.AsyncClient, extension: object
) -> None:
    response = await client.post(
        "/graphql", json={"query": QUERY, "extensions": {"persistedQuery": extension}}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]
    assert "persistedQuery" in response.json()["errors"][0]["message"]


async def test_a_get_naming_a_persisted_query_is_not_answered_with_graphiql(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql", params=get_params(sha256(QUERY)), headers={"Accept": "text/html"}
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NOT_FOUND


async def test_with_no_store_the_client_is_told_persisted_queries_are_not_supported(
    settings: Settings,
    engine: AsyncEngine,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app = create_app(
        settings.model_copy(update={"persisted_queries_bytes": 0}),
        engine,
        clock=clock,
        sessionmaker=sessionmaker,
        dispose_engine=False,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post(
            "/graphql", json={"query": QUERY, "extensions": persisted(sha256(QUERY))}
        )
    assert response.status_code == 200
    assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"


# --- the store -----------------------------------------------------------------------------


def request(query: str | None, sha: str) -> GraphQLRequestData:
    return GraphQLRequestData(
        query=query, variables=None, operation_name=None, extensions=persisted(sha)
    )


def keep(store: PersistedQueries, query: str) -> None:
    store.keep(store.resolve(request(query, sha256(query))))


def known(store: PersistedQueries, query: str) -> bool:
    """Whether the hash alone gives the query (else the store answers "not found")."""
    try:
        return store.resolve(request(None, sha256(query))).query == query
    except RequestRefused as refused:
        if refused.code != "PERSISTED_QUERY_NOT_FOUND":
            raise
        return False


def test_the_store_keeps_the_most_recently_used_within_its_bytes() -> None:
    # given a store of 100 bytes and queries of 30 bytes each
    store = PersistedQueries(max_bytes=100)
    a, b, c, d = (f"{{ __typename }} # {name}{'.' * 12}" for name in "abcd")
    assert len(a) == 30
    keep(store, a)
    keep(store, b)
    keep(store, c)
    # when `a` is used again and then a fourth query is kept
    assert known(store, a)
    keep(store, d)
    # then the least recently used (`b`) has made room, and the store is within its budget
    assert [known(store, q) for q in (a, b, c, d)] == [True, False, True, True]
    assert store.size == 90
    assert len(store) == 3


def test_a_query_larger_than_the_store_is_not_kept() -> None:
    store = PersistedQueries(max_bytes=100)
    keep(store, "{ __typename }")
    large = "{ __typename }" + " " * 100
    keep(store, large)
    assert not known(store, large)
    assert known(store, "{ __typename }")


def test_hashes_are_compared_in_any_case_of_hex() -> None:
    store = PersistedQueries(max_bytes=100)
    keep(store, QUERY)
    assert store.resolve(request(None, sha256(QUERY).upper())).query == QUERY
