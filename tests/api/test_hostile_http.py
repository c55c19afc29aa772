"""Hostile requests at the HTTP edge: malformed and oversized requests are refused with 4xx
and a JSON error (GraphQL-over-HTTP), a database outage is 503, and every answer carries the
security headers. See docs/limits.md, "HTTP requests"."""

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from api.app import create_app
from api.headers import SecurityHeaders
from api.outage import is_database_outage
from api.request import MAX_JSON_DEPTH, json_depth
from api.settings import Settings
from db.engine import async_url, make_engine
from tests.api.test_cli import BILLING
from tests.conftest import JWT_SECRET, FixedClock, _libpq
from tests.helpers import row_counts

PLANS = '{ plans(currency: "EUR") { code } }'
SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def refusal(response: httpx.Response) -> tuple[int, str]:
    """The status and the one error's code of a refused request (asserting its shape)."""
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["message"]
    return response.status_code, error["extensions"]["code"]


async def post(client: httpx.AsyncClient, body: bytes, **headers: str) -> httpx.Response:
    return await client.post(
        "/graphql", content=body, headers={"content-type": "application/json", **headers}
    )


async def asgi(app: Any, path: bytes, *, chunks: list[bytes] = (), **headers: str) -> Any:
    """Send a request straight to the app, path unnormalized; returns (status, headers,
    body, how many body chunks the app read)."""
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        more = read < len(chunks)
        return {
            "type": "http.request",
            "body": chunks[read - 1] if chunks else b"",
            "more_body": more,
        }

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST" if chunks else "GET",
        "scheme": "http",
        "path": unquote(path.decode()),  # as servers do; raw_path keeps the bytes
        "raw_path": path,
        "query_string": b"",
        "root_path": "",
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
        "server": ("test", 80),
        "client": ("127.0.0.1", 1234),
    }
    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(httpx.Headers(start["headers"])), body, read


# -- malformed requests: 400 BAD_REQUEST, before anything runs -------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ plans { code } }\xff"}',  # not UTF-8
        b"\xff\xfe{\x00}\x00",  # UTF-16: JSON over HTTP is UTF-8
        b"null",
        b"42",
        b"[]",
        b'[{"query": "{ __typename }"}]',  # a batch: batching is off
        b'"{ __typename }"',
        b"{",
        b"",
        b"[" * 100_000,
        b'{"query": "{ __typename }", "variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"query": "{ __typename }", "variables": {"x": NaN}}',
        b'{"query": "{ __typename }", "variables": {"x": ' + b"9" * 5000 + b"}}",
        b"{}",
        b'{"query": null}',
        b'{"query": ""}',
        b'{"query": 42}',
        b'{"query": ["{ __typename }"]}',
        b'{"query": "{ __typename }", "variables": 42}',
        b'{"query": "{ __typename }", "variables": "{}"}',
        b'{"query": "{ __typename }", "variables": []}',
        b'{"query": "{ __typename }", "operationName": 5}',
        b'{"query": "{ __typename }", "extensions": "x"}',
    ],
    ids=lambda body: body[:40].decode("utf-8", "replace"),
)
async def test_a_malformed_body_is_400_bad_request(client: httpx.AsyncClient, body: bytes) -> None:
    assert refusal(await post(client, body)) == (400, "BAD_REQUEST")


async def test_deep_json_in_get_variables_is_400(client: httpx.AsyncClient) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    response = await client.get("/graphql", params={"query": PLANS, "variables": deep})
    assert refusal(response) == (400, "BAD_REQUEST")


async def test_a_get_without_a_query_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"variables": "{}"}, headers={"accept": "application/json"}
    )
    assert refusal(response) == (400, "BAD_REQUEST")


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b'{"a": [[1], {"b": "[[[[\\"[["}]}') == 3
    assert json_depth(b'{"a": "\\\\", "b": [[]]}') == 3
    assert json_depth(b"[" * 100_000) == 100_000
    nested = json.dumps({"v": json.loads("[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1))})
    assert json_depth(nested.encode()) == MAX_JSON_DEPTH


@pytest.mark.usefixtures("demo")
async def test_a_malformed_mutation_writes_nothing(
    client: httpx.AsyncClient, token: Callable[..., str], session: AsyncSession
) -> None:
    before = await row_counts(session)
    mutation = "mutation($r: [UserInput!]!) { usersUpsert(input: {records: $r}) { __typename } }"
    user = {"id": 901, "username": "mallory", "name": "M", "state": "active"}
    bodies = [
        {"query": mutation, "variables": [{"r": [user]}]},
        {"query": mutation + " query Other { __typename }", "variables": {"r": [user]}},
        {"query": mutation, "variables": {"r": [user]}, "operationName": "Nope"},
    ]
    for body in bodies:
        response = await post(
            client, json.dumps(body).encode(), authorization=f"Bearer {token('gitlab')}"
        )
        assert refusal(response) == (400, "BAD_REQUEST")
    assert await row_counts(session) == before


# -- operations: one per document unless operationName names one ----------------------------


@pytest.mark.usefixtures("demo")
async def test_two_operations_need_an_operation_name(client: httpx.AsyncClient) -> None:
    document = "query A { __typename } query B " + PLANS
    response = await post(client, json.dumps({"query": document}).encode())
    assert refusal(response) == (400, "BAD_REQUEST")
    assert "operationName" in response.json()["errors"][0]["message"]

    unknown = await post(client, json.dumps({"query": document, "operationName": "C"}).encode())
    assert refusal(unknown) == (400, "BAD_REQUEST")

    named = await post(client, json.dumps({"query": document, "operationName": "B"}).encode())
    assert named.status_code == 200
    assert named.json()["data"]["plans"][0] == {"code": "free"}


# -- sizes: 413 (body, document), 431 (headers) ----------------------------------------------


async def test_a_body_over_the_limit_is_413_and_not_read(app: Any, settings: Settings) -> None:
    limit = settings.max_body_bytes
    chunks = [b"[" * 65_536] * (limit // 65_536 + 10)
    declared = await asgi(
        app,
        b"/graphql",
        chunks=chunks,
        content_type="application/json",
        content_length=str(limit + 1),
    )
    status, _, body, read = declared
    assert (status, json.loads(body)["errors"][0]["extensions"]["code"]) == (
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert read == 0

    streamed = await asgi(app, b"/graphql", chunks=chunks, content_type="application/json")
    status, _, body, read = streamed
    assert (status, json.loads(body)["errors"][0]["extensions"]["code"]) == (
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert read == limit // 65_536 + 1  # stopped at the first chunk past the limit


async def test_a_document_over_the_limit_is_413(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    document = "{ __typename }" + " " * settings.max_query_bytes
    response = await post(client, json.dumps({"query": document}).encode())
    assert refusal(response) == (413, "QUERY_TOO_LARGE")


async def test_a_document_over_the_limit_is_413_over_get_too(
    settings: Settings, engine: Any, sessionmaker: Any
) -> None:
    small = settings.model_copy(update={"max_query_bytes": 1024})
    app = create_app(
        small, engine, clock=FixedClock(), sessionmaker=sessionmaker, dispose_engine=False
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/graphql", params={"query": "{ __typename }" + " " * 1024})
    assert refusal(response) == (413, "QUERY_TOO_LARGE")


async def test_headers_over_the_limit_are_431(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/healthz", headers={"x-padding": "a" * settings.max_header_bytes})
    assert refusal(response) == (431, "HEADERS_TOO_LARGE")
    assert SECURITY.items() <= response.headers.items()


# -- a database outage: 503 SERVICE_UNAVAILABLE ----------------------------------------------


async def graphql_on(
    settings: Settings, engine: Any, query: str = PLANS, **kwargs: Any
) -> httpx.Response:
    app = create_app(settings, engine, clock=FixedClock(), dispose_engine=False, **kwargs)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.post("/graphql", json={"query": query})


async def test_an_unreachable_database_is_503(settings: Settings) -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:9/nothing")
    response = await graphql_on(settings, engine)
    await engine.dispose()
    assert refusal(response) == (503, "SERVICE_UNAVAILABLE")
    assert response.headers["cache-control"] == "no-store"


async def test_an_exhausted_pool_is_503(settings: Settings, database_url: str) -> None:
    engine = create_async_engine(
        async_url(database_url), pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    async with engine.connect():  # holds the only connection
        response = await graphql_on(settings, engine)
    await engine.dispose()
    assert refusal(response) == (503, "SERVICE_UNAVAILABLE")


async def test_a_lost_connection_is_503(settings: Settings, database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    async with engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        admin = await asyncpg.connect(_libpq(database_url))
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        await admin.close()
        # a write (a read would run again on a fresh connection: test_request_lifecycle)
        response = await graphql_on(
            settings,
            engine,
            'mutation { licenseActivate(input: {activationCode: "x", instanceId: "i", '
            'hostname: "h", version: "17.0"}) { __typename } }',
            sessionmaker=async_sessionmaker(bind=connection),
        )
    await engine.dispose()
    assert refusal(response) == (503, "SERVICE_UNAVAILABLE")


def test_a_bug_is_not_an_outage() -> None:
    assert not is_database_outage(ValueError("bug"))
    assert not is_database_outage(FileNotFoundError(2, "no such file"))
    assert is_database_outage(asyncpg.exceptions.CannotConnectNowError("starting up"))
    assert is_database_outage(asyncpg.exceptions.TooManyConnectionsError("full"))


# -- headers on every answer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/graphql", {}, 200),
        ("POST", "/graphql", {"authorization": "Bearer nope"}, 401),
        ("GET", "/graphql", {"accept": "text/html"}, 200),
        ("GET", "/graphql?query=%7B", {}, 200),  # a syntax error
        ("GET", "/healthz", {}, 200),
        ("GET", "/readyz", {}, 200),
        ("GET", "/graphiql/assets/react/umd/react.production.min.js", {}, 200),
        ("GET", "/graphiql/assets/react/package.json", {}, 404),
        ("GET", "/nowhere", {}, 404),
        ("PUT", "/graphql", {}, 405),
    ],
)
async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    body = {"query": "{ __typename }"} if method == "POST" else None
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == status
    assert SECURITY.items() <= response.headers.items()
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    if path.startswith("/graphql"):
        assert response.headers["cache-control"] == "no-store"
    assert "server" not in response.headers


async def test_an_unhandled_error_is_a_json_500_with_the_headers() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("bug")

    transport = httpx.ASGITransport(app=SecurityHeaders(broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.get("/graphql")
    assert refusal(response) == (500, "INTERNAL_SERVER_ERROR")
    assert SECURITY.items() <= response.headers.items()


async def test_graphiql_allows_only_its_own_inline_script(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    csp = response.headers["content-security-policy"]
    policy = dict(part.split(" ", 1) for part in csp.split("; "))
    [script] = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"
    assert policy["frame-ancestors"] == "'none'"


# -- the asset route, reached with the raw path ------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        b"/graphiql/assets/../../pyproject.toml",
        b"/graphiql/assets/react/../../../pyproject.toml",
        b"/graphiql/assets/%2e%2e/%2e%2e/pyproject.toml",
        b"/graphiql/assets//etc/passwd",
    ],
)
async def test_path_traversal_under_the_asset_route_is_404(app: Any, path: bytes) -> None:
    status, headers, body, _ = await asgi(app, path)
    assert (status, json.loads(body)) == (404, {"error": "not found"})
    assert b"[project]" not in body
    assert headers["x-content-type-options"] == "nosniff"


# -- `billing serve`: no server header, bounded request headers ------------------------------


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc: field 4 of stat is the parent)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


async def test_billing_serve_runs_workers_bounds_headers_and_names_no_server(
    database_url: str, unused_port: int
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env |= {"DATABASE_URL": database_url, "BILLING_JWT_SECRET": JWT_SECRET}
    server = await asyncio.create_subprocess_exec(
        BILLING,
        "serve",
        "--port",
        str(unused_port),
        "--workers",
        "2",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{unused_port}") as c:
            for _ in range(600):
                try:
                    healthz = await c.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            # two workers, each with its own app and pool, answer on the one port
            assert len(_children(server.pid)) >= 2
            answer = await c.post("/graphql", json={"query": "{ __typename }"})
            assert answer.json()["data"] == {"__typename": "Query"}
            assert "server" not in healthz.headers
            assert SECURITY.items() <= healthz.headers.items()
            large = await c.get("/healthz", headers={"x-padding": "a" * 20_000})
            assert refusal(large) == (431, "HEADERS_TOO_LARGE")
            try:  # h11 stops buffering past the limit: an error, or the connection dropped
                huge = await c.get("/healthz", headers={"x-padding": "a" * 2_000_000})
                assert huge.status_code == 400
            except httpx.TransportError:
                pass
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)
