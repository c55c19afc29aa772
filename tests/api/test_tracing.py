"""OpenTelemetry tracing (api/tracing.py): with BILLING_OTEL_ENDPOINT set, a request gives a
server span carrying its operation, role and request id, in the caller's trace, and with
BILLING_OTEL_STATEMENTS its SQL statements as child spans; unset, no OpenTelemetry module is
even imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from api.app import create_app
from api.settings import ConfigError, Settings, load_settings
from db.engine import make_engine
from tests.conftest import JWT_SECRET, ROOT, FixedClock

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
PLANS = "query Plans { plans { code } }"

Traced = Callable[..., Any]


@pytest.fixture
async def traced(settings: Settings, database_url: str) -> AsyncIterator[Traced]:
    """Runs one GraphQL request through an app with tracing on; answers its spans."""
    engines = []

    async def run(query: str, *, statements: bool, headers: dict[str, str]) -> list[ReadableSpan]:
        exporter = InMemorySpanExporter()
        engine = make_engine(database_url)  # its own: statement listeners stay on it
        engines.append(engine)
        on = settings.model_copy(
            update={"otel_endpoint": "http://127.0.0.1:4318", "otel_statements": statements}
        )
        app = create_app(on, engine, clock=FixedClock(), span_exporter=exporter)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 200, response.text
        return list(exporter.get_finished_spans())

    yield run
    for engine in engines:
        await engine.dispose()


async def test_a_request_is_one_server_span_with_its_operation_role_and_id(
    traced: Traced, token: Callable[..., str]
) -> None:
    headers = {
        "Authorization": f"Bearer {token('analyst')}",
        "X-Request-Id": "trace-me-1",
        "traceparent": TRACEPARENT,
    }
    spans = await traced(PLANS, statements=False, headers=headers)
    [request] = spans  # no statement spans unless asked for
    assert request.name == "POST graphql"
    assert request.kind == SpanKind.SERVER
    assert dict(request.attributes or {}) == {
        "http.request.method": "POST",
        "http.route": "graphql",
        "http.response.status_code": 200,
        "graphql.operation.name": "Plans",
        "billing.role": "analyst",
        "billing.request_id": "trace-me-1",
    }
    # the caller's trace continues
    assert format(request.context.trace_id, "032x") == TRACE_ID


async def test_statements_are_child_spans_of_the_request_when_asked_for(traced: Traced) -> None:
    spans = await traced(PLANS, statements=True, headers={})
    [request] = [s for s in spans if s.kind == SpanKind.SERVER]
    statements = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert statements, [s.name for s in spans]
    assert dict(request.attributes or {})["billing.role"] == "anonymous"
    for span in statements:
        assert span.parent is not None
        assert span.parent.span_id == request.context.span_id
        attributes = dict(span.attributes or {})
        assert attributes["db.system.name"] == "postgresql"
        assert span.name == str(attributes["db.query.text"]).split()[0].upper()
    assert "SELECT" in {span.name for span in statements}


APP_REQUEST = """
import asyncio, json, os, sys
import httpx
from api.app import create_app
from api.settings import load_settings
from db.engine import make_engine
from tests.conftest import FixedClock

async def main():
    settings = load_settings(_env_file=None)
    engine = make_engine(settings.database_url)
    app = create_app(settings, engine, clock=FixedClock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": "query Plans { plans { code } }"})
    await engine.dispose()
    print(json.dumps({"status": response.status_code,
                      "otel": sorted(m for m in sys.modules if m.startswith("opentelemetry"))}))

asyncio.run(main())
sys.stdout.flush()
os._exit(0)  # skips the exit-time export of batched spans to the absent collector
"""


@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:4318"])
def test_opentelemetry_is_imported_only_when_tracing_is_on(
    database_url: str, endpoint: str | None
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BILLING_", "OTEL_"))},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "BILLING_JWT_SECRET": JWT_SECRET,
        **({"BILLING_OTEL_ENDPOINT": endpoint} if endpoint else {}),
    }
    done = subprocess.run(
        [sys.executable, "-c", APP_REQUEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == 200
    if endpoint is None:
        assert result["otel"] == []
    else:
        assert "opentelemetry.sdk.trace" in result["otel"]


@pytest.mark.parametrize("endpoint", ["collector:4318", "grpc://collector:4317", "http://"])
def test_an_endpoint_that_is_no_http_url_is_refused_naming_the_setting(endpoint: str) -> None:
    with pytest.raises(ConfigError, match=r"^BILLING_OTEL_ENDPOINT: must be the collector's"):
        load_settings(_env_file=None, jwt_secret=JWT_SECRET, otel_endpoint=endpoint)


def test_an_empty_endpoint_leaves_tracing_off() -> None:
    settings = load_settings(_env_file=None, jwt_secret=JWT_SECRET, otel_endpoint="")
    assert settings.otel_endpoint is None
