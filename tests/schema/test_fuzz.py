"""A bounded fuzz run: queries and mutations generated from the schema (hypothesis-graphql,
fixed seeds) sent as each role through the real app. None may answer 5xx, hang, or hide an
internal error behind "Unexpected error"; every example runs on the demo data as loaded (its
writes are rolled back), and every distinct failure is listed, with its shortest document."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from api.settings import Settings
from db.demo import load_demo_data
from db.engine import make_engine
from db.tables import Customer
from schema.build import schema
from tests.conftest import FixedClock
from tests.helpers import drawn

ROLES = ("anonymous", "customer", "gitlab", "analyst", "admin")
# documents per role: 200 take 6-15 s (5 roles: ~45 s on an idle 2-core machine);
# FUZZ_PER_ROLE=1000 for a longer run by hand
PER_ROLE = int(os.environ.get("FUZZ_PER_ROLE", "200"))
TIMEOUT = 10.0  # seconds one request may take before it counts as a hang

# Values the demo data has, so that generated arguments reach rows and not only NOT_FOUND.
KNOWN_STRINGS = (
    *("acme", "acme-labs", "globex", "globex/platform", "globex/platform/api", "hobby-project"),
    *("ada", "ben", "cora", "renovate-bot", "free", "premium", "ultimate", "duo_pro"),
    *("duo_enterprise", "storage_10gb", "USD", "EUR", "compute_minutes", "storage_bytes"),
    *("8f14e45f-ceea-467f-a9e5-0d1c2b3a4f50", "billing@acme.example", "developer", "ANNUAL"),
)
NODE_TYPES = (
    *("AddOn", "AddOnPrice", "AuditEvent", "Customer", "Instance", "Invoice", "License"),
    *("Namespace", "Plan", "Price", "Subscription", "SyncReport", "User"),
)


def _global_id(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


def _json_node(value: Any) -> graphql.ValueNode:
    if isinstance(value, dict):
        fields = [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=_json_node(item))
            for key, item in value.items()
        ]
        return nodes.Object(fields)
    if isinstance(value, list):
        return nodes.List([_json_node(item) for item in value])
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    return nodes.String(value)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.from_regex(r"[a-z][a-zA-Z]{0,7}", fullmatch=True), inner, max_size=3)
    ),
    max_leaves=8,
)
SCALARS = {
    "ID": st.builds(_global_id, st.sampled_from(NODE_TYPES), st.integers(0, 8)).map(nodes.String)
    | st.text(max_size=12).map(nodes.String),
    "String": st.sampled_from(KNOWN_STRINGS).map(nodes.String) | st.text().map(nodes.String),
    # Long: exact integers, the 2^53 edge, beyond 64 bits, and fractions (which it must refuse)
    "Long": st.integers(-(2**64), 2**64).map(nodes.Int)
    | st.sampled_from((2**53, 2**53 + 1, -(2**53) - 1)).map(nodes.Int)
    | st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
    # dates anywhere, the edges of the calendar included (a term or a day added must not overflow)
    "Date": (st.dates() | st.sampled_from((date.min, date.max, date(9999, 12, 1)))).map(
        lambda day: nodes.String(day.isoformat())
    ),
    "DateTime": (
        st.datetimes()
        | st.sampled_from((datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)))
    ).map(lambda at: nodes.String(at.isoformat() if at.tzinfo else f"{at.isoformat()}Z")),
    "JSON": _JSON.map(_json_node),
}


def documents(role_seed: int, count: int) -> list[str]:
    """`count` documents, the same ones on every run for one seed: valid queries and mutations
    mostly, and a quarter with one schema violation (wrong type, missing argument...)."""
    sdl = schema.as_str()
    strategy = st.one_of(
        queries(sdl, custom_scalars=SCALARS),
        mutations(sdl, custom_scalars=SCALARS),
        queries(sdl, custom_scalars=SCALARS),
        mutations(sdl, custom_scalars=SCALARS),
        queries(sdl, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
        mutations(sdl, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    )
    return drawn(strategy, role_seed, count)


@dataclass
class Failure:
    role: str
    document: str
    what: str  # the status, the error, and the logged exception behind a masked one


async def _send(
    client: httpx.AsyncClient,
    document: str,
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> str | None:
    """What went wrong with one request, or None."""
    try:
        response = await asyncio.wait_for(
            client.post("/graphql", json={"query": document}, headers=headers), TIMEOUT
        )
    except TimeoutError:
        return f"no answer within {TIMEOUT:.0f} s"
    except Exception as error:  # raised out of the app: a 500 for a real client
        raised = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        return f"HTTP 500, raised {raised}{_logged(caplog, headers)}"
    if response.status_code >= 500:
        return f"HTTP {response.status_code}: {response.text[:200]}{_logged(caplog, headers)}"
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return f"HTTP {response.status_code}, not JSON: {response.text[:200]}"
    paths = [
        ".".join(map(str, error.get("path") or [])) or "(top)"
        for error in errors
        if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
        or error.get("message", "").startswith("Unexpected error")
    ]
    if not paths:
        return None
    return f"INTERNAL_SERVER_ERROR at {', '.join(paths)}{_logged(caplog, headers)}"


def _logged(caplog: pytest.LogCaptureFixture, headers: dict[str, str]) -> str:
    """The exceptions the app logged for the request: what a masked error stands for."""
    request_id = headers["X-Request-Id"]
    found = set()
    for record in caplog.records:
        if request_id in record.getMessage() and record.exc_info and record.exc_info[1]:
            error = record.exc_info[1]
            found.add(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")
    return "; logged " + "; ".join(sorted(found)) if found else ""


def _report(failures: list[Failure]) -> str:
    """Distinct failures (by what went wrong, numbers blurred), each with its shortest document."""
    groups: dict[str, list[Failure]] = {}
    for failure in failures:
        key = re.sub(r"\d+", "N", re.sub(r"request [\w.-]+", "request R", failure.what))
        groups.setdefault(key, []).append(failure)
    lines = [f"{len(failures)} failing documents, {len(groups)} distinct failures:"]
    for key, members in groups.items():
        shortest = min(members, key=lambda failure: len(failure.document))
        roles = sorted({failure.role for failure in members})
        lines += [f"\n* {len(members)}x ({', '.join(roles)}) {key}", shortest.document]
    return "\n".join(lines)


class Stage:
    """The app as it is served: its own database with the demo data committed, and a real
    pool. Examples run one after another and keep what they write (a mutation's effect is
    just more data for the next); a request that leaves a connection broken or a transaction
    open shows at the end."""

    def __init__(self, database_url: str, settings: Settings, clock: FixedClock) -> None:
        self.engine = make_engine(database_url, pool_size=2)
        self.settings, self.clock = settings, clock
        self.stack = AsyncExitStack()

    async def __aenter__(self) -> Stage:
        stack = self.stack
        stack.push_async_callback(self.engine.dispose)
        sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        async with sessionmaker() as session:
            await load_demo_data(session, today=self.clock.today())
            await session.commit()
            query = select(Customer).where(Customer.billing_email == "billing@acme.example")
            self.customer_id = (await session.execute(query)).scalar_one().id
        app = create_app(self.settings, self.engine, clock=self.clock, dispose_engine=False)
        transport = httpx.ASGITransport(app=app)
        self.client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://test")
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()

    async def run(self, document: str, headers: dict[str, str], caplog: Any) -> str | None:
        """What went wrong with one example, or None."""
        return await _send(self.client, document, headers, caplog)

    async def left_behind(self) -> list[str]:
        """What the run left: transactions open, or a service that no longer answers."""
        wrong = []
        async with self.engine.connect() as connection:
            open_transactions = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                    )
                )
            ).scalar_one()
        if open_transactions:
            wrong.append(f"{open_transactions} transactions left open")
        response = await asyncio.wait_for(
            self.client.post("/graphql", json={"query": "{ plans { code } }"}), TIMEOUT
        )
        if response.status_code != 200 or "errors" in response.json():
            wrong.append(f"a plain query then answered {response.status_code}: {response.text}")
        return wrong


@pytest.mark.parametrize("role", ROLES)
async def test_generated_documents_never_fail_internally(
    role: str,
    make_database: Callable[..., Any],
    settings: Settings,
    clock: FixedClock,
    token: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="billing.errors")
    failures = []
    async with Stage(await make_database(), settings, clock) as stage:
        headers = {}
        if role != "anonymous":
            customer = stage.customer_id if role == "customer" else None
            headers["Authorization"] = f"Bearer {token(role, customer)}"
        for number, document in enumerate(documents(ROLES.index(role), PER_ROLE)):
            headers["X-Request-Id"] = f"fuzz-{role}-{number}"
            what = await stage.run(document, headers, caplog)
            if what is not None:
                failures.append(Failure(role, document, what))
        failures += [Failure(role, "(after the run)", what) for what in await stage.left_behind()]
    assert not failures, _report(failures)
