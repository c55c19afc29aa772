"""Test harness: a fresh PostgreSQL database per run (embedded, or on DATABASE_URL's server),
migrated with alembic; each test inside a transaction that is rolled back."""

from __future__ import annotations

import io
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from api.auth import mint_token
from api.database import embedded_database_url
from api.licenses import generate_keys
from api.logs import make_formatter
from api.settings import Settings, load_settings
from db.demo import CUSTOMERS, DEMO_USERS, INSTANCES, load_demo_data
from db.engine import make_engine, upgrade
from resolvers.principal import Role

ROOT = Path(__file__).resolve().parent.parent
# what no log line may hold: the demo customers' e-mails, hostnames, instance ids, users' names
DEMO_PERSONAL_DATA = [
    *(email for _, email, _ in CUSTOMERS),
    *(hostname for _, hostname, _ in INSTANCES),
    *(uid for uid, _, _ in INSTANCES),
    *(name for _, _, name, _, _ in DEMO_USERS),
]
_JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
TODAY = date(2026, 3, 15)
JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


@dataclass
class FixedClock:
    current: date = TODAY

    def today(self) -> date:
        return self.current

    def now(self) -> datetime:
        return datetime.combine(self.current, time(12), tzinfo=UTC)


@pytest.fixture(scope="session")
def server_url() -> str:
    """The PostgreSQL server the suite runs on: DATABASE_URL's, or the embedded one."""
    return os.environ.get("DATABASE_URL") or embedded_database_url(ROOT / ".data" / "test")


def _libpq(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def make_database(server_url: str) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Create throwaway databases on the server (migrated unless told not to); all are dropped
    at the end of the run."""
    created: list[str] = []
    admin_url = _libpq(server_url)

    async def create(*, migrate: bool = True) -> str:
        name = f"billing_test_{uuid.uuid4().hex[:10]}"
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        created.append(name)
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        if migrate:
            await upgrade(url)
        return url

    yield create
    connection = await asyncpg.connect(admin_url)
    try:
        for name in created:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database_url(make_database: Callable[..., Awaitable[str]]) -> str:
    return await make_database()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions joined to the test's outer transaction: their commits become savepoints."""
    return async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
async def demo(session: AsyncSession) -> None:
    """The demo catalog, customers and subscriptions, dated from TODAY."""
    await load_demo_data(session, today=TODAY)
    await session.commit()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="session")
def license_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test service's license signing key, `test.pem`."""
    private, _ = generate_keys(tmp_path_factory.mktemp("keys"), "test")
    return private


@pytest.fixture
def settings(license_key: Path) -> Settings:
    return load_settings(
        _env_file=None,
        jwt_secret=JWT_SECRET,
        database_url=None,
        license_signing_key=license_key,
    )


@pytest.fixture
def app(
    settings: Settings,
    engine: AsyncEngine,
    clock: FixedClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Any:
    return create_app(
        settings, engine, clock=clock, sessionmaker=sessionmaker, dispose_engine=False
    )


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


@pytest.fixture
def token(settings: Settings) -> Callable[..., str]:
    def mint(
        role: str, customer_id: int | None = None, *, expires_in: timedelta = timedelta(hours=1)
    ) -> str:
        now = datetime.now(UTC)
        return mint_token(
            settings,
            role=Role(role),
            subject=f"test-{role}",
            customer_id=customer_id,
            now=now + expires_in - timedelta(hours=1),
            ttl=timedelta(hours=1),
        )

    return mint


GraphQL = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    """POST a GraphQL operation and return the decoded JSON body (status 200 asserted)."""

    async def run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        status: int = 200,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    return run


@pytest.fixture
def count_statements(engine: AsyncEngine) -> Callable[[], Any]:
    """`with count_statements() as counted: ...` then `counted.n` is the SQL statements run."""

    @contextmanager
    def counting() -> Iterator[Any]:
        class Counted:
            n = 0

        def before(*args: Any) -> None:
            Counted.n += 1
            if os.environ.get("SHOW_SQL"):
                print("SQL>", " ".join(str(args[2]).split())[:100])

        event.listen(engine.sync_engine, "before_cursor_execute", before)
        try:
            yield Counted
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", before)

    return counting


@pytest.fixture(scope="session", autouse=True)
def _run_log_scan() -> Iterator[None]:
    """The whole run's log as the service writes it (api.logs, JSON; the service's own
    loggers from INFO, the others' from WARNING): at the end it must hold none of
    DEMO_PERSONAL_DATA and no token (tests/api/test_log_redaction.py makes the hard cases)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter("json"))
    ours = logging.getLogger("billing")
    level = ours.level
    logging.getLogger().addHandler(handler)
    ours.setLevel(logging.INFO)
    yield
    logging.getLogger().removeHandler(handler)
    ours.setLevel(level)
    logged = stream.getvalue()
    leaked = [value for value in DEMO_PERSONAL_DATA if value in logged] + _JWT.findall(logged)
    # (a run of a few files may serve no request; the whole suite logs thousands of lines,
    # and test_log_redaction shows this capture sees the service's lines)
    assert leaked == [], f"logged: {leaked[:5]}"
