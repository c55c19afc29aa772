"""The Starlette application factory."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from api.access import AccessLog
from api.collector import scheduled_collection
from api.database import DatabaseError, check_migrated, check_reachable
from api.graphiql import ASSET_ROUTE, DEFAULT_ASSETS_DIR, local_graphiql
from api.headers import HeaderLimit, SecurityHeaders
from api.licenses import LicenseKeys
from api.metrics import Metrics
from api.settings import ConfigError, Settings
from api.view import BillingGraphQL
from db.engine import make_read_sessionmaker, make_sessionmaker
from resolvers.context import Clock
from schema.build import schema

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter


def load_license_keys(settings: Settings) -> LicenseKeys:
    """The configured license keys, or ConfigError naming the file that is wrong."""
    try:
        return LicenseKeys.load(settings.license_signing_key, settings.license_public_keys)
    except (OSError, ValueError, TypeError) as error:  # TypeError: a key with a password
        raise ConfigError(f"license keys: {error}") from None


def http_middleware(settings: Settings) -> list[Middleware]:
    """CORS for the configured origins (none: no CORS headers, and a preflight is refused as
    any OPTIONS is), and gzip for answers of `gzip_min_bytes` or more (docs/http.md)."""
    cors = Middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        # Apollo Client sends its name and version headers when it is given them
        allow_headers=[
            "Authorization",
            "Content-Type",
            "X-Request-Id",
            "Apollographql-Client-Name",
            "Apollographql-Client-Version",
        ],
        expose_headers=["X-Request-Id", "Retry-After", "Server-Timing"],
        max_age=600,
    )
    gzip = Middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes)
    return [cors, gzip] if settings.cors_origins else [gzip]


def tracing_middleware(
    settings: Settings, engine: AsyncEngine, exporter: SpanExporter | None
) -> tuple[list[Middleware], TracerProvider | None]:
    """The tracing middleware and its provider when `otel_endpoint` is set; else nothing, and
    OpenTelemetry is not even imported."""
    if settings.otel_endpoint is None:
        return [], None
    from api import tracing

    provider = tracing.tracer_provider(settings.otel_endpoint, exporter)
    tracer = provider.get_tracer("billing")
    if settings.otel_statements:
        tracing.trace_statements(engine, tracer)
    return [Middleware(tracing.Tracing, tracer=tracer)], provider


def create_app(
    settings: Settings,
    engine: AsyncEngine,
    *,
    clock: Clock,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    assets_dir: Path = DEFAULT_ASSETS_DIR,
    dispose_engine: bool = True,
    span_exporter: SpanExporter | None = None,
) -> Starlette:
    """The app serving /graphql, /healthz, /readyz, /metrics and GraphiQL's files.

    `sessionmaker` defaults to one on `engine`, and query operations then read without a
    transaction; tests pass one bound to a rolled-back connection, used for everything.
    `span_exporter` takes the spans instead of the OTLP collector when tracing is on (tests).
    Raises AssetsError when GraphiQL is on and its files are not right.
    """
    page = local_graphiql(assets_dir) if settings.graphiql else None
    license_keys = load_license_keys(settings)
    graphql = BillingGraphQL(
        schema,
        settings=settings,
        sessionmaker=sessionmaker or make_sessionmaker(engine),
        read_sessionmaker=None if sessionmaker else make_read_sessionmaker(engine),
        clock=clock,
        graphiql=page,
        license_jwks=license_keys.jwks(),
        sign_license=license_keys.signer,
        verify_license=license_keys.verifier,
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            await check_reachable(engine)
            await check_migrated(engine)
        except DatabaseError as error:
            return JSONResponse({"status": "unavailable", "reason": str(error)}, status_code=503)
        return JSONResponse({"status": "ready"})

    metrics = Metrics(engine) if settings.metrics else None

    async def metrics_page(request: Request) -> Response:
        assert metrics is not None
        if settings.metrics_token is not None:
            expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse(
                    {"error": "a bearer token (BILLING_METRICS_TOKEN) is needed"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def asset(request: Request) -> Response:
        path = page.files.get(request.path_params["path"]) if page else None
        if path is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    tracing, tracer_provider = tracing_middleware(settings, engine, span_exporter)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # what start-up made is frozen; the collector runs on a timer (api.collector)
        interval = settings.gc_interval_ms / 1000 if settings.gc_interval_ms else None
        async with scheduled_collection(interval):
            yield
        if tracer_provider is not None:
            tracer_provider.shutdown()  # sends the spans still batched
        if dispose_engine:
            await engine.dispose()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(ASSET_ROUTE + "/{path:path}", asset),
            *([Route("/metrics", metrics_page)] if metrics else []),
        ],
        middleware=[
            Middleware(AccessLog, metrics=metrics),
            *tracing,
            Middleware(SecurityHeaders),
            Middleware(HeaderLimit, max_bytes=settings.max_header_bytes),
            *http_middleware(settings),
        ],
        lifespan=lifespan,
    )


def served_app() -> Starlette:
    """The app `billing serve` runs in each worker process: settings from the environment
    (the command has put the database's URL there), an engine of the worker's own."""
    from api.clock import SystemClock
    from api.logs import configure_logging
    from api.settings import load_settings
    from db.engine import make_engine

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.database_url is None:
        raise ConfigError("DATABASE_URL: `billing serve` sets it for its workers")
    engine = make_engine(
        settings.database_url,
        # a fixed pool: connections beyond it would be opened and closed per request
        pool_size=settings.pool_size,
        max_overflow=0,
        idle_in_transaction_timeout_ms=settings.idle_in_transaction_timeout_ms,
        statement_timeout_ms=settings.statement_timeout_ms,
    )
    return create_app(settings, engine, clock=SystemClock())
