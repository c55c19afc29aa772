"""OpenTelemetry tracing, on only when `BILLING_OTEL_ENDPOINT` is set: one span per HTTP
request (method and route, status, GraphQL operation, role, request id), continuing the
caller's trace (W3C `traceparent`), and with `BILLING_OTEL_STATEMENTS` one child span per SQL
statement (its text, which holds no values: they travel as bind parameters).

The app imports this module only when tracing is on, so without it no OpenTelemetry code is
loaded and requests pay nothing (tests/api/test_tracing.py checks both). Spans are sent in
batches over OTLP/HTTP to `<endpoint>/v1/traces`; the standard `OTEL_EXPORTER_OTLP_*`
variables (headers, timeout, certificate) and `OTEL_SERVICE_NAME` apply."""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access import route_of
from api.logs import request_fields
from api.metrics import operation_name

_SPAN = "_billing_otel_span"  # where a statement's span waits on the cursor's context


def tracer_provider(endpoint: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Spans batched to the OTLP collector at `endpoint`; or, given an exporter (tests),
    handed to it as each ends."""
    service = os.environ.get("OTEL_SERVICE_NAME", "billing-api")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is None:
        url = endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


class Tracing:
    """ASGI middleware, inside the access log (whose request fields it reads at the end)."""

    def __init__(self, app: ASGIApp, tracer: trace.Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        route = route_of(scope["path"])
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            f"{scope['method']} {route}",
            context=propagate.extract(carrier),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": scope["method"], "http.route": route},
        ) as span:
            try:
                await self.app(scope, receive, send_status)
            finally:
                span.set_attributes(_request_attributes(status))
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR)


def _request_attributes(status: int) -> dict[str, Any]:
    fields = request_fields.get() or {}
    attributes: dict[str, Any] = {
        "http.response.status_code": status,
        "billing.request_id": fields.get("request_id") or "",
        "billing.role": fields.get("role") or "anonymous",
    }
    if "errors" in fields or fields.get("operation"):
        attributes["graphql.operation.name"] = operation_name(fields.get("operation"))
    return attributes


def trace_statements(engine: AsyncEngine, tracer: trace.Tracer) -> None:
    """A span per statement, a child of the request's, named by its first word."""

    # cursor events pass (connection, cursor, statement, parameters, context, executemany)
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def start(*args: Any) -> None:
        statement, context = args[2], args[4]
        span = tracer.start_span(
            statement.split(None, 1)[0].upper() if statement.strip() else "SQL",
            kind=trace.SpanKind.CLIENT,
            attributes={"db.system.name": "postgresql", "db.query.text": statement[:2000]},
        )
        if context is not None:
            setattr(context, _SPAN, span)

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def end(*args: Any) -> None:
        span = getattr(args[4], _SPAN, None)
        if span is not None:
            span.end()

    @event.listens_for(engine.sync_engine, "handle_error")
    def failed(exception_context: Any) -> None:
        span = getattr(exception_context.execution_context, _SPAN, None)
        if span is not None:
            # the class only: PostgreSQL's messages quote values (api.logs hides them too)
            span.set_status(
                trace.StatusCode.ERROR, type(exception_context.original_exception).__name__
            )
            span.end()
