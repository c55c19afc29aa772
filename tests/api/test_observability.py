"""Operators' view of the service: one JSON access line per request (request id, role,
operation, status, duration, outcome), the request id on every other line logged while the
request runs, and Prometheus metrics at /metrics."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from api.app import create_app
from api.logs import make_formatter
from api.metrics import MAX_OPERATION_NAMES, OTHER, Metrics, operation_name
from api.settings import Settings, load_settings
from tests.api.test_cli import BILLING
from tests.conftest import JWT_SECRET


class Lines:
    """What the root logger wrote while the test ran, in the service's JSON format."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.all() if line["logger"] == "billing.access"]


@pytest.fixture
def logs() -> Iterator[Lines]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield Lines(stream)
    root.removeHandler(handler)
    root.setLevel(level)


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a /metrics answer (None when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


async def test_every_request_has_one_json_access_line(
    client: httpx.AsyncClient, logs: Lines, token: Any
) -> None:
    await client.post(
        "/graphql",
        json={"query": "query Plans { plans { code } }"},
        headers={"X-Request-Id": "req-42", "Authorization": f"Bearer {token('admin')}"},
    )
    await client.post("/graphql", json={"query": "{ __typename }"})
    await client.get("/healthz")

    first, second, health = logs.access()
    assert first["event"] == "request"
    assert first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    assert {k: first[k] for k in ("request_id", "method", "path", "status")} == {
        "request_id": "req-42",
        "method": "POST",
        "path": "/graphql",
        "status": 200,
    }
    assert (first["role"], first["operation"], first["outcome"], first["errors"]) == (
        "admin",
        "Plans",
        "ok",
        0,
    )
    assert isinstance(first["duration_ms"], float)
    assert first["duration_ms"] > 0
    assert (second["role"], second["operation"], second["outcome"]) == (
        "anonymous",
        "anonymous",
        "ok",
    )
    assert len(second["request_id"]) == 32  # a new one: none was sent
    assert (health["path"], health["status"], health["role"]) == ("/healthz", 200, None)


async def test_a_refused_token_and_a_failing_field_are_logged_with_the_request_id(
    client: httpx.AsyncClient, logs: Lines, monkeypatch: pytest.MonkeyPatch, token: Any
) -> None:
    import resolvers.accounts

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(resolvers.accounts, "get_customer", broken)

    await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"X-Request-Id": "bad-token", "Authorization": "Bearer nonsense"},
    )
    answer = await client.post(
        "/graphql",
        json={"query": 'query One { customer(id: "Q3VzdG9tZXI6MQ==") { name } }'},
        headers={"X-Request-Id": "bug-1", "Authorization": f"Bearer {token('admin')}"},
    )

    assert answer.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    lines = logs.all()
    refused = next(line for line in lines if line["event"].startswith("refused token"))
    assert (refused["request_id"], refused["level"]) == ("bad-token", "info")
    error = next(line for line in lines if line["level"] == "error")
    assert (error["request_id"], error["role"], error["operation"]) == ("bug-1", "admin", "One")
    assert "RuntimeError: a bug" in error["exception"]
    assert "Traceback (most recent call last)" in error["exception"]
    access = {line["request_id"]: line for line in logs.access()}
    assert (access["bad-token"]["status"], access["bad-token"]["outcome"]) == (401, "refused")
    assert (access["bug-1"]["outcome"], access["bug-1"]["errors"]) == ("errors", 1)


def test_the_console_format_is_readable() -> None:
    record = logging.LogRecord("billing.access", logging.INFO, __file__, 1, "request", (), None)
    record.status = 200
    line = make_formatter("console").format(record)
    assert "request" in line
    assert "status=200" in line
    assert not line.startswith("{")


async def test_metrics_count_requests_by_operation_and_outcome(
    client: httpx.AsyncClient, token: Any
) -> None:
    admin = {"Authorization": f"Bearer {token('admin')}"}
    for _ in range(2):
        await client.post("/graphql", json={"query": "query Plans { plans { code } }"})
    await client.post(
        "/graphql", json={"query": "query Who { customers(first: 1) { edges { cursor } } }"}
    )
    await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "x"})
    await client.post("/graphql", json={"query": "query Admin { __typename }"}, headers=admin)

    text = (await client.get("/metrics")).text

    total = "billing_graphql_requests_total"
    assert metric(text, total, operation="Plans", outcome="ok") == 2
    assert metric(text, total, operation="Who", outcome="errors") == 1  # anonymous: forbidden
    assert metric(text, total, operation="anonymous", outcome="refused") == 1  # bad header
    assert metric(text, total, operation="Admin", outcome="ok") == 1
    histogram = "billing_graphql_request_duration_seconds"
    assert metric(text, histogram + "_count", operation="Plans") == 2
    assert metric(text, histogram + "_bucket", operation="Plans", le="+Inf") == 2
    assert metric(text, "billing_http_requests_total", route="graphql", status="401") == 1
    # the test's connection is checked out of the pool of 5 (tests/conftest.py)
    assert metric(text, "billing_db_pool_size") == 5
    in_use = metric(text, "billing_db_pool_connections_in_use")
    assert in_use is not None
    assert in_use >= 1
    assert metric(text, "process_resident_memory_bytes") is not None


def test_operation_labels_are_bounded() -> None:
    assert operation_name(None) == "anonymous"
    assert operation_name("a" * 64) == "a" * 64
    assert operation_name("a" * 65) == OTHER
    metrics = Metrics()
    labels = [metrics.label(f"Op{n}") for n in range(MAX_OPERATION_NAMES + 5)]
    assert labels[:MAX_OPERATION_NAMES] == [f"Op{n}" for n in range(MAX_OPERATION_NAMES)]
    assert set(labels[MAX_OPERATION_NAMES:]) == {OTHER}
    assert metrics.label("Op0") == "Op0"  # names seen keep their label


async def test_rate_limit_refusals_are_counted(
    license_key: Path, engine: Any, clock: Any, sessionmaker: Any
) -> None:
    settings = load_settings(
        _env_file=None,
        jwt_secret=JWT_SECRET,
        database_url=None,
        license_signing_key=license_key,
        rate_limit_per_minute=1,
    )
    app = create_app(settings, engine, clock=clock, sessionmaker=sessionmaker, dispose_engine=False)
    quote = {
        "query": "query Q($i: QuoteInput!) { quote(input: $i) { __typename } }",
        "variables": {"i": {"plan": "premium", "seats": 10, "currency": "USD"}},
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.post("/graphql", json=quote)).status_code == 200
        assert (await client.post("/graphql", json=quote)).status_code == 429
        text = (await client.get("/metrics")).text

    assert metric(text, "billing_rate_limit_refusals_total") == 1
    assert metric(text, "billing_graphql_requests_total", operation="Q", outcome="refused") == 1


async def test_metrics_can_be_turned_off_or_need_a_token(
    settings: Settings, engine: Any, clock: Any, sessionmaker: Any
) -> None:
    async def get(overrides: dict[str, object], headers: dict[str, str]) -> int:
        app = create_app(
            settings.model_copy(update=overrides),
            engine,
            clock=clock,
            sessionmaker=sessionmaker,
            dispose_engine=False,
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            return (await client.get("/metrics", headers=headers)).status_code

    secret: dict[str, object] = {"metrics_token": SecretStr("scrape-secret")}
    assert await get({"metrics": False}, {}) == 404
    assert await get(secret, {}) == 401
    assert await get(secret, {"Authorization": "Bearer wrong"}) == 401
    assert await get(secret, {"Authorization": "Bearer scrape-secret"}) == 200


async def test_billing_serve_logs_json_access_lines_of_its_own(database_url: str) -> None:
    """Workers log through api.logs too; uvicorn's access line (`"GET / HTTP/1.1" 200`) is off."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env |= {"DATABASE_URL": database_url, "BILLING_JWT_SECRET": JWT_SECRET}
    server = await asyncio.create_subprocess_exec(
        *(BILLING, "serve", "--port", str(port), "--workers", "2"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(600):
                try:
                    await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            await client.post(
                "/graphql",
                json={"query": "query Hello { __typename }"},
                headers={"X-Request-Id": "served-1"},
            )
    finally:
        server.terminate()
        assert server.stderr is not None
        stderr = (await asyncio.wait_for(server.stderr.read(), 10)).decode()
        await asyncio.wait_for(server.wait(), 10)

    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    [access] = [line for line in lines if line.get("request_id") == "served-1"]
    assert (access["event"], access["operation"], access["status"]) == ("request", "Hello", 200)
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # uvicorn's own, as JSON
    assert "HTTP/1.1" not in stderr
