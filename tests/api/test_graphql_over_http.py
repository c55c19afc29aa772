"""GraphQL over HTTP as browsers and spec-following clients use it (docs/http.md): the
answer's media type from Accept, request errors as 4xx under
application/graphql-response+json, CORS for configured origins, gzip for large answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import schema.build
from api.app import create_app
from api.media import GRAPHQL_RESPONSE, response_media_type
from api.settings import ConfigError, Settings, load_settings
from tests.conftest import JWT_SECRET, FixedClock
from tests.helpers import error_codes

GR_JSON = f"{GRAPHQL_RESPONSE}; charset=utf-8"
APP_ORIGIN = "https://app.example.com"


@pytest.fixture
def client_with(
    settings: Settings,
    engine: AsyncEngine,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Callable[..., httpx.AsyncClient]:
    """A client of the app built with some settings changed."""

    def make(**changes: Any) -> httpx.AsyncClient:
        app = create_app(
            settings.model_copy(update=changes),
            engine,
            clock=clock,
            sessionmaker=sessionmaker,
            dispose_engine=False,
        )
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


# --- media types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/*", "application/json"),
        ("text/html", "application/json"),
        ("application/json, application/graphql-response+json", "application/json"),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json;q=0.5, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0, application/json", "application/json"),
        ("application/graphql-response+json;q=0", "application/json"),
    ],
)
def test_the_answer_media_type_is_the_one_the_client_ranks_highest(
    accept: str | None, expected: str
) -> None:
    assert response_media_type(accept) == expected


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ({}, "application/json"),
        ({"Accept": "*/*"}, "application/json"),
        ({"Accept": "application/json"}, "application/json"),
        ({"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}, GR_JSON),
    ],
)
async def test_answers_carry_the_negotiated_content_type(
    client: httpx.AsyncClient, accept: dict[str, str], content_type: str
) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.json()["data"] == {"__typename": "Query"}


REQUEST_ERRORS = [
    pytest.param({"query": "{ plans { code }"}, "GRAPHQL_PARSE_FAILED", id="syntax"),
    pytest.param({"query": "{ plans { noSuchField } }"}, "GRAPHQL_VALIDATION_FAILED", id="unknown"),
    pytest.param(
        {
            "query": "query($currency: String) { plans(currency: $currency) { code } }",
            "variables": {"currency": 5},
        },
        "BAD_USER_INPUT",
        id="variable",
    ),
]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_under_graphql_response_json(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    response = await client.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"] == GR_JSON
    assert "data" not in response.json()
    assert error_codes(response.json()) == [code]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
async def test_request_errors_stay_200_with_null_data_under_application_json(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    response = await client.post("/graphql", json=body, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None
    assert error_codes(response.json()) == [code]


async def test_a_field_error_is_200_with_data_under_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    # given an anonymous caller asking for a root field that needs a token (non-null)
    response = await client.post(
        "/graphql",
        json={"query": "{ analytics { __typename } }"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    # then execution ran: the answer has `data` (null) and is a 200
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_refusals_before_execution_keep_their_status_under_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql",
        content=b"{not json",
        headers={"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == GR_JSON
    assert error_codes(response.json()) == ["BAD_REQUEST"]


# --- CORS ----------------------------------------------------------------------------------


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": (
            "authorization, content-type, x-request-id, apollographql-client-name,"
            " apollographql-client-version"
        ),
    }


async def test_no_cors_headers_and_no_preflight_when_no_origin_is_configured(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP_ORIGIN}
    )
    assert response.status_code == 200
    assert not [h for h in response.headers if h.startswith("access-control-")]
    preflight = await client.options("/graphql", headers=_preflight(APP_ORIGIN))
    assert preflight.status_code == 405
    assert not [h for h in preflight.headers if h.startswith("access-control-")]


async def test_a_configured_origin_may_call_and_read_the_answer_headers(
    client_with: Callable[..., httpx.AsyncClient],
) -> None:
    async with client_with(cors_origins=[APP_ORIGIN]) as client:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP_ORIGIN}
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    exposed = response.headers["access-control-expose-headers"].lower()
    assert {"x-request-id", "retry-after", "server-timing"} <= set(exposed.split(", "))
    assert "access-control-allow-credentials" not in response.headers  # bearer tokens only


async def test_a_preflight_from_a_configured_origin_is_answered(
    client_with: Callable[..., httpx.AsyncClient],
) -> None:
    async with client_with(cors_origins=[APP_ORIGIN]) as client:
        response = await client.options("/graphql", headers=_preflight(APP_ORIGIN))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {
        "authorization",
        "content-type",
        "x-request-id",
        "apollographql-client-name",
        "apollographql-client-version",
    } <= set(allowed.split(", "))
    assert response.headers["access-control-max-age"] == "600"


async def test_another_origin_gets_no_cors_headers_and_its_preflight_is_refused(
    client_with: Callable[..., httpx.AsyncClient],
) -> None:
    other = "https://evil.example.net"
    async with client_with(cors_origins=[APP_ORIGIN]) as client:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": other}
        )
        preflight = await client.options("/graphql", headers=_preflight(other))
    assert "access-control-allow-origin" not in response.headers
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(
    "origins", ['["https://app.example.com/"]', '["app.example.com"]', '["https://a.com/x"]']
)
def test_an_origin_that_is_not_one_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, origins: str
) -> None:
    monkeypatch.setenv("BILLING_CORS_ORIGINS", origins)
    with pytest.raises(ConfigError, match=r"BILLING_CORS_ORIGINS: .*must be an origin"):
        load_settings(_env_file=None, jwt_secret=JWT_SECRET)


def test_origins_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "BILLING_CORS_ORIGINS", '["https://app.example.com", "http://localhost:5173"]'
    )
    settings = load_settings(_env_file=None, jwt_secret=JWT_SECRET)
    assert settings.cors_origins == ["https://app.example.com", "http://localhost:5173"]


# --- gzip ----------------------------------------------------------------------------------

INTROSPECTION = "{ __schema { types { name description fields { name description } } } }"


async def test_a_large_answer_is_gzipped_for_a_client_that_accepts_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": INTROSPECTION}, headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content) / 3
    assert response.json()["data"]["__schema"]["types"]  # httpx has unzipped it
    assert "accept-encoding" in response.headers["vary"].lower()


async def test_a_small_answer_or_a_client_without_gzip_gets_plain_json(
    client: httpx.AsyncClient,
) -> None:
    small = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept-Encoding": "gzip"}
    )
    identity = await client.post(
        "/graphql", json={"query": INTROSPECTION}, headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in small.headers
    assert "content-encoding" not in identity.headers


async def test_the_gzip_threshold_is_a_setting(
    client_with: Callable[..., httpx.AsyncClient],
) -> None:
    async with client_with(gzip_min_bytes=10_000_000) as client:
        response = await client.post(
            "/graphql", json={"query": INTROSPECTION}, headers={"Accept-Encoding": "gzip"}
        )
    assert "content-encoding" not in response.headers


async def test_an_unexpected_failure_before_execution_is_500_under_graphql_response_json(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("measuring failed")

    monkeypatch.setattr(schema.build, "measure", broken)
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 500
    assert "data" not in response.json()
    assert error_codes(response.json()) == ["INTERNAL_SERVER_ERROR"]
