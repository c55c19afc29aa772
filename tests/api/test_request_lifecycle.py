"""A request's session outlives every field that uses it, even when siblings fail: hundreds of
requests whose root fields fail while siblings still read leave no connection behind, and a
normal query answers at once afterwards. Runs on its own database with real commits and a
real pool (the other tests share one rolled-back connection, which would hide a leak)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.settings import Settings
from db.demo import load_demo_data
from db.engine import make_engine, make_read_sessionmaker, make_sessionmaker
from resolvers.context import Context
from resolvers.principal import Principal
from tests.conftest import TODAY, FixedClock

# One root field fails (NOT_FOUND, or a hidden node) while a sibling still reads.
FAILING_TOGETHER = [
    '{ nodes(ids: ["Q3VzdG9tZXI6Mw==", "TGljZW5zZTox", "UGxhbjox"]) { id } }',
    '{ a: customer(id: "Q3VzdG9tZXI6Mw==") { id } b: plans { code prices { validFrom } } }',
    '{ plans { code } a: customer(id: "Q3VzdG9tZXI6MQ==") { id } '
    'b: customer(id: "Q3VzdG9tZXI6Mg==") { id } }',
    '{ a: invoice(id: "SW52b2ljZTox") { id } b: plans { code } c: namespace(path: "acme") '
    "{ name } }",
]


@pytest.fixture
async def real_app(
    make_database: Callable[..., Awaitable[str]], settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    url = await make_database()
    engine = make_engine(url, pool_size=3)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        await load_demo_data(session, today=TODAY)
        await session.commit()
    app = create_app(settings, engine, clock=FixedClock(), dispose_engine=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, url
    await engine.dispose()


async def _on_server(url: str, sql: str) -> list[Any]:
    """`sql` with `url`'s database name as $1, from a connection of its own."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(libpq)
    try:
        return list(await connection.fetch(sql, make_url(url).database))
    finally:
        await connection.close()


async def _idle_in_transaction(url: str) -> int:
    rows = await _on_server(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
    )
    return len(rows)


async def test_failing_siblings_leak_no_connection(
    real_app: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = real_app

    async def send(query: str) -> httpx.Response:
        return await client.post("/graphql", json={"query": query})

    # given 240 requests, each with a root field failing while a sibling still reads
    responses: list[Any] = await asyncio.gather(
        *(send(FAILING_TOGETHER[i % len(FAILING_TOGETHER)]) for i in range(240))
    )
    # then each is answered, none with a server error
    assert {r.status_code for r in responses} == {200}
    assert not [r for r in responses if "INTERNAL_SERVER_ERROR" in r.text]
    # and a normal query answers at once: the pool (3 + 3) was not exhausted
    started = time.perf_counter()
    plain = await asyncio.wait_for(send('{ plans(currency: "USD") { code } }'), timeout=5)
    assert plain.status_code == 200
    assert plain.json()["data"]["plans"]
    assert time.perf_counter() - started < 2
    # and PostgreSQL holds no transaction left open
    assert await _idle_in_transaction(url) == 0


async def test_the_services_connections_end_idle_transactions(
    make_database: Callable[..., Awaitable[str]],
) -> None:
    # given the service's engine with the backstop set to 1.5 s
    engine = make_engine(await make_database(migrate=False), idle_in_transaction_timeout_ms=1500)
    try:
        async with engine.connect() as connection:
            shown = await connection.exec_driver_sql("SHOW idle_in_transaction_session_timeout")
            # then PostgreSQL applies it to every session of the pool
            assert shown.scalar_one() == "1500ms"
    finally:
        await engine.dispose()


async def _drop_connections(url: str) -> int:
    """What a database restart does to a pool: every connection it holds is gone."""
    rows = await _on_server(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    return len(rows)


async def test_a_read_that_meets_a_dropped_connection_runs_again(
    real_app: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = real_app
    query = {"query": '{ plans(currency: "USD") { code } }'}
    # given a pool holding a connection, which the database then drops (no ping checks it)
    assert (await client.post("/graphql", json=query)).status_code == 200
    assert await _drop_connections(url) >= 1
    # when a read meets it, then it is run again on a fresh connection and answers
    response = await client.post("/graphql", json=query)
    assert response.status_code == 200
    assert [p["code"] for p in response.json()["data"]["plans"]] == ["free", "premium", "ultimate"]


async def test_a_write_that_meets_a_dropped_connection_is_not_run_again(
    real_app: tuple[httpx.AsyncClient, str], token: Callable[..., str]
) -> None:
    client, url = real_app
    assert (await client.post("/graphql", json={"query": "{ plans { code } }"})).status_code == 200
    assert await _drop_connections(url) >= 1
    mutation = """mutation { subscriptionSetAutoRenew(input: {
        subscriptionId: "U3Vic2NyaXB0aW9uOjE=", autoRenew: false}) { __typename } }"""
    response = await client.post(
        "/graphql", json={"query": mutation}, headers={"Authorization": f"Bearer {token('admin')}"}
    )
    # whether it was applied is for the caller to check (its idempotency key makes a retry safe)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_query_reads_without_a_transaction_and_a_mutation_writes_in_one(
    real_app: tuple[httpx.AsyncClient, str], token: Callable[..., str]
) -> None:
    """A query operation's statements each run on their own (no BEGIN and ROLLBACK round
    trips); a mutation's run inside its transaction, as before."""
    client, _ = real_app
    levels: list[str | None] = []

    def seen(connection: Connection, *args: object) -> None:
        levels.append(connection.get_execution_options().get("isolation_level"))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        admin = {"Authorization": f"Bearer {token('admin')}"}
        read = (
            '{ plans { code } namespace(path: "acme") '
            "{ name billableMembers(first: 2) { edges { node { username } } } } }"
        )
        response = await client.post("/graphql", json={"query": read}, headers=admin)
        assert "errors" not in response.json()
        assert len(levels) >= 2
        assert set(levels) == {"AUTOCOMMIT"}
        levels.clear()
        write = (
            'mutation { usersUpsert(input: {records: [{id: 951, username: "ivy", '
            'name: "Ivy", state: "active"}]}) { __typename } }'
        )
        response = await client.post("/graphql", json={"query": write}, headers=admin)
        assert "errors" not in response.json()
        assert levels
        assert "AUTOCOMMIT" not in levels
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


async def test_reads_without_a_transaction_see_each_statement_at_its_own_time(
    make_database: Callable[..., Awaitable[str]],
) -> None:
    """What `make_read_sessionmaker` promises: no transaction around its statements (each
    has its own `now()`), unlike the ordinary sessions."""
    engine = make_engine(await make_database(), pool_size=1)
    try:
        for sessions, separate in [(make_read_sessionmaker(engine), True),
                                   (make_sessionmaker(engine), False)]:  # fmt: skip
            async with sessions() as session:
                first = (await session.execute(text("SELECT now()"))).scalar_one()
                await session.execute(text("SELECT pg_sleep(0.01)"))
                second = (await session.execute(text("SELECT now()"))).scalar_one()
            assert (first != second) is separate
    finally:
        await engine.dispose()


async def test_after_many_reads_a_write_on_the_same_connection_is_in_a_transaction(
    make_database: Callable[..., Awaitable[str]],
) -> None:
    """The read sessions share the pool (`make_read_sessionmaker`): their AUTOCOMMIT is undone
    when the connection goes back, so on a pool of one connection an ordinary session after
    twenty reads still writes inside a transaction, and its rollback leaves nothing."""
    engine = make_engine(await make_database(), pool_size=1, max_overflow=0)
    try:
        for _ in range(20):
            async with make_read_sessionmaker(engine)() as session:
                await session.execute(text("SELECT 1"))
        async with make_sessionmaker(engine)() as session:
            await session.execute(text("CREATE TABLE review_scratch (x int)"))
            await session.execute(text("INSERT INTO review_scratch VALUES (1)"))
            await session.rollback()
        async with make_sessionmaker(engine)() as session:
            found = await session.execute(text("SELECT to_regclass('review_scratch')"))
            assert found.scalar_one() is None
        assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]  # one connection
    finally:
        await engine.dispose()


@pytest.mark.parametrize("reads_only", [True, False])
async def test_a_read_cancelled_mid_statement_does_not_break_the_next_one(
    make_database: Callable[..., Awaitable[str]], reads_only: bool
) -> None:
    """graphql-core cancels the siblings of a failed non-null field, maybe in the middle of a
    statement; SQLAlchemy then invalidates the connection. The request's other fields still
    read (before, they failed with PendingRollbackError: "Can't reconnect until invalid
    transaction is rolled back")."""
    engine = make_engine(await make_database(), pool_size=2)
    try:
        context = Context(
            principal=Principal(),
            clock=FixedClock(),
            request_id="r",
            sessionmaker=make_sessionmaker(engine),
            read_sessionmaker=make_read_sessionmaker(engine),
        )
        context.session.reads_only = reads_only

        async def slow() -> None:
            async with context.db() as session:
                await session.execute(text("SELECT pg_sleep(5)"))

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)  # the statement is running
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with context.db() as session:
            assert (await session.execute(text("SELECT 41 + 1"))).scalar_one() == 42
        await context.close()
    finally:
        await engine.dispose()
