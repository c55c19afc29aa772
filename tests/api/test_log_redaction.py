"""No customers' data and no secrets in the logs: a representative run of requests (every
role, refused tokens, failing fields whose database errors carry customers' values in
PostgreSQL's own messages) is logged, and the whole output holds none of the demo
customers' e-mails, hostnames, instance ids or users' names, nor any token minted."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.logs import describe, format_exception, make_formatter
from db.demo import CUSTOMERS, INSTANCES
from tests.conftest import DEMO_PERSONAL_DATA

pytestmark = pytest.mark.usefixtures("demo")

EMAILS = [email for _, email, _ in CUSTOMERS]


CAST_ON_THE_SERVER = "SELECT CAST(CAST(:email AS text) AS integer)"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG and above, in both formats."""
    stream = io.StringIO()
    handlers = [logging.StreamHandler(stream) for _ in range(2)]
    handlers[0].setFormatter(make_formatter("json"))
    handlers[1].setFormatter(make_formatter("console"))
    root = logging.getLogger()
    level = root.level
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


async def _fail_with_values(context: Any, customer_id: int) -> None:
    """A resolver whose statements fail with customers' values in the errors' messages: the
    driver's own check of a parameter (admin), PostgreSQL's message of a bad cast (analyst),
    the DETAIL of a unique violation (anyone else)."""
    email, hostname, uid = EMAILS[0], INSTANCES[0][1], INSTANCES[0][0]
    async with context.db() as session:
        if context.principal.role == "admin":
            await session.execute(text("SELECT CAST(:email AS integer)"), {"email": email})
        if context.principal.role == "analyst":
            await session.execute(text(CAST_ON_THE_SERVER), {"email": email})
        await session.execute(text("CREATE TEMP TABLE seen (value text PRIMARY KEY)"))
        await session.execute(
            text("INSERT INTO seen VALUES (:a), (:a), (:b)"), {"a": hostname, "b": uid}
        )


@pytest.mark.usefixtures("demo")
async def test_a_run_of_requests_logs_no_personal_data_or_tokens(
    client: httpx.AsyncClient,
    output: io.StringIO,
    token: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import resolvers.accounts

    tokens = [
        token("admin"),
        token("analyst"),
        token("gitlab"),
        token("customer", 1),
        token("admin", expires_in=timedelta(hours=-2)),  # expired
    ]
    forged = tokens[0][:-4] + "AAAA"
    tokens.append(forged)
    everything = """query All { customers(first: 10) { edges { node { name billingEmail
      instances { hostname instanceId } } } } }"""
    for minted in tokens:
        headers = {"Authorization": f"Bearer {minted}"}
        await client.post("/graphql", json={"query": everything}, headers=headers)
        await client.get("/graphql", params={"query": everything}, headers=headers)
    await client.post(
        "/graphql",
        json={"query": f'{{ customers(search: "{EMAILS[0]}") {{ edges {{ cursor }} }} }}'},
        headers={"X-Request-Id": EMAILS[1]},  # not a plain id: replaced, never logged
    )
    await client.post("/graphql", json={"query": f"{{ nope(x: {EMAILS[0]!r}) }}"})
    await client.get(  # the access line has the path, not the query string
        "/graphql",
        params={"query": f'{{ customers(search: "{EMAILS[2]}") {{ edges {{ cursor }} }} }}'},
        headers={"Authorization": f"Bearer {tokens[1]}"},
    )

    monkeypatch.setattr(resolvers.accounts, "get_customer", _fail_with_values)
    for caller in tokens[:3]:
        answer = await client.post(
            "/graphql",
            json={"query": 'query Broken { customer(id: "Q3VzdG9tZXI6MQ==") { name } }'},
            headers={"Authorization": f"Bearer {caller}"},
        )
        assert answer.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"

    logged = output.getvalue()
    assert "Traceback (most recent call last)" in logged  # the failures were logged
    assert "Error: SQLSTATE 22000" in logged  # the driver's check, by its class and code
    assert "DBAPIError: SQLSTATE 22P02" in logged  # the bad cast
    assert "SQLSTATE 23505" in logged  # the unique violation
    assert "billing.access" in logged
    leaked = [value for value in [*DEMO_PERSONAL_DATA, *tokens] if value in logged]
    assert leaked == []


async def test_database_errors_hide_parameters_and_values(engine: AsyncEngine) -> None:
    """The engine (db.engine.make_engine) hides statement parameters, and describe() leaves
    out PostgreSQL's message, where values appear too."""
    with pytest.raises(DBAPIError) as raised:
        async with engine.connect() as connection:
            await connection.execute(text(CAST_ON_THE_SERVER), {"email": EMAILS[0]})

    error = raised.value
    assert "parameters hidden" in str(error)
    assert EMAILS[0] in str(error)  # PostgreSQL's message has it: not logged as it is
    assert describe(error).endswith("SQLSTATE 22P02 (message hidden)")
    assert EMAILS[0] not in format_exception(error)
    assert EMAILS[0] not in describe(error.orig)  # type: ignore[arg-type]


def test_emails_and_tokens_in_any_message_are_masked(output: io.StringIO, token: Any) -> None:
    """A last net under the rules above: whatever a message or an exception says."""
    minted = token("admin")
    log = logging.getLogger("billing.test")
    try:
        raise RuntimeError(f"no access for {EMAILS[0]} with {minted}")
    except RuntimeError:
        log.exception("failed for %s", EMAILS[1], extra={"who": EMAILS[2]})

    logged = output.getvalue()
    assert "failed for <email>" in logged
    assert "RuntimeError: no access for <email> with <token>" in logged
    assert EMAILS[0] not in logged
    assert EMAILS[1] not in logged
    assert EMAILS[2] not in logged
    assert minted not in logged
