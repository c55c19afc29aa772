"""Backstops behind the request limits (the review of issue 9's hardening): the server's
statements run under a statement timeout, and a statement it cancels answers QUERY_TIMEOUT,
not a masked internal error; /readyz answers 503 when the pool has no connection free."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

import resolvers.accounts
import resolvers.catalog
from api.app import create_app, served_app
from api.settings import Settings
from db.engine import async_url, make_engine
from resolvers.context import Context
from tests.conftest import FixedClock, GraphQL

PLANS = "{ plans { code } }"


async def _get(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kwargs)


@pytest.fixture
async def impatient_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=2, statement_timeout_ms=100)
    yield engine
    await engine.dispose()


async def test_the_engine_sets_the_statement_timeout(impatient_engine: AsyncEngine) -> None:
    async with impatient_engine.connect() as connection:
        assert await connection.scalar(text("SHOW statement_timeout")) == "100ms"


async def test_an_engine_without_one_lets_statements_run(database_url: str) -> None:
    # the engines of jobs, migrations and other commands: a long job is not cancelled
    engine = make_engine(database_url, pool_size=1)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SHOW statement_timeout")) == "0"
    await engine.dispose()


async def test_a_cancelled_statement_is_query_timeout(
    settings: Settings, impatient_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow_plans(session: AsyncSession) -> list[Any]:
        await session.execute(text("SELECT pg_sleep(1)"))
        return []

    monkeypatch.setattr(resolvers.catalog, "all_plans", slow_plans)
    app = create_app(settings, impatient_engine, clock=FixedClock(), dispose_engine=False)
    response = await _get(app, "POST", "/graphql", json={"query": PLANS})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["plans"]
    assert error["extensions"]["code"] == "QUERY_TIMEOUT"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "pg_sleep" not in error["message"]  # our words, not the driver's


def test_billing_serve_gives_its_engine_the_statement_timeout_and_a_fixed_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `billing serve` runs `served_app` in each worker, from the environment it set
    engines: list[dict[str, Any]] = []
    monkeypatch.setattr("db.engine.make_engine", lambda url, **kwargs: engines.append(kwargs))
    monkeypatch.setattr("api.app.create_app", lambda *args, **kwargs: None)
    monkeypatch.setattr("api.logs.configure_logging", lambda *args: None)  # the test run's stays
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/nothing")
    monkeypatch.setenv("BILLING_JWT_SECRET", "s" * 40)
    monkeypatch.setenv("BILLING_STATEMENT_TIMEOUT_MS", "2500")
    monkeypatch.setenv("BILLING_POOL_SIZE", "7")
    served_app()
    # no overflow: connections beyond the pool would be opened and closed per request
    assert engines == [
        {
            "pool_size": 7,
            "max_overflow": 0,
            "idle_in_transaction_timeout_ms": 60_000,
            "statement_timeout_ms": 2500,
        }
    ]


def test_the_statement_timeout_defaults_to_ten_seconds(settings: Settings) -> None:
    assert settings.statement_timeout_ms == 10_000


async def test_readyz_is_503_when_the_pool_has_no_connection_free(
    settings: Settings, database_url: str
) -> None:
    engine = create_async_engine(
        async_url(database_url), pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    app = create_app(settings, engine, clock=FixedClock(), dispose_engine=False)
    async with engine.connect():  # holds the only connection
        response = await _get(app, "GET", "/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert (await _get(app, "GET", "/readyz")).json() == {"status": "ready"}
    await engine.dispose()


@pytest.mark.usefixtures("demo")
async def test_fields_after_a_cancelled_statement_say_why_they_failed(
    gql: GraphQL, token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the request's session is shared: once a statement is cancelled its transaction is
    # aborted, and a sibling's statement fails (25P02); it says so instead of being masked
    async def slow_subscription(context: Context, namespace_id: int) -> None:
        async with context.db() as session:
            await session.execute(text("SET LOCAL statement_timeout = '100ms'"))
            await session.execute(text("SELECT pg_sleep(1)"))

    monkeypatch.setattr(resolvers.accounts, "namespace_subscription", slow_subscription)
    query = '{ namespace(path: "acme") { path subscription { id } customer { name } } }'
    body = await gql(query, token=token("admin"))
    assert body["data"] == {"namespace": {"path": "acme", "subscription": None, "customer": None}}
    assert [(e["path"][-1], e["extensions"]["code"]) for e in body["errors"]] == [
        ("subscription", "QUERY_TIMEOUT"),
        ("customer", "QUERY_TIMEOUT"),
    ]
