"""Prometheus metrics of one server process, served at /metrics (prometheus-client).

Each app has a registry of its own: requests by route and status, GraphQL requests by
operation name and outcome with their latency, rate-limit refusals, the database pool read
at scrape time, and the process's CPU, memory and file descriptors. With `billing serve
--workers N` every worker counts its own requests: see the README's operator section."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

# operation names become labels only when short and plain, and only so many of them
MAX_OPERATION_NAMES = 100
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
ANONYMOUS = "anonymous"  # an operation without a name, or a request before one was read
OTHER = "other"  # a long or odd name, or one past MAX_OPERATION_NAMES

# seconds; a GraphQL request answers in milliseconds unless the database is slow
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def operation_name(name: str | None) -> str:
    """The name as logged: ANONYMOUS for none, OTHER for one that is long or odd."""
    if name is None:
        return ANONYMOUS
    return name if _PLAIN_NAME.match(name) else OTHER


def outcome(status: int, errors: int) -> str:
    """ok: answered without errors; errors: answered (2xx) with GraphQL errors in the body;
    refused: the request was turned down (4xx: malformed, token, limits, rate);
    failed: the server could not answer (5xx: database unavailable, a bug)."""
    if status >= 500:
        return "failed"
    if status >= 400:
        return "refused"
    return "errors" if errors else "ok"


class PoolCollector(Collector):
    """The engine's connection pool, read when Prometheus scrapes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.pool = engine.sync_engine.pool

    def collect(self) -> Iterator[Metric]:
        checked_out = getattr(self.pool, "checkedout", None)
        size = getattr(self.pool, "size", None)
        if checked_out is not None:
            yield GaugeMetricFamily(
                "billing_db_pool_connections_in_use",
                "Database connections a request or job holds now.",
                value=checked_out(),
            )
        if size is not None:
            yield GaugeMetricFamily(
                "billing_db_pool_size",
                "Database connections the pool keeps (BILLING_POOL_SIZE).",
                value=size(),
            )


class Metrics:
    """The process's metrics and the one call per request that updates them."""

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        self.registry = CollectorRegistry()
        self.http = Counter(
            "billing_http_requests",
            "HTTP requests by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.graphql = Counter(
            "billing_graphql_requests",
            "GraphQL requests by operation name and outcome (ok, errors, refused, failed).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "billing_graphql_request_duration_seconds",
            "Time from the request's arrival to the end of its answer, by operation name.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "billing_rate_limit_refusals",
            "Requests answered 429 because a caller went past BILLING_RATE_LIMIT_PER_MINUTE.",
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        if engine is not None:
            self.registry.register(PoolCollector(engine))
        self._names: set[str] = set()
        self._children: dict[tuple[str, int, str, str], tuple[Any, Any, Any]] = {}

    def label(self, name: str) -> str:
        """The operation's label: the first MAX_OPERATION_NAMES names seen keep theirs."""
        if name in self._names or name in (ANONYMOUS, OTHER):
            return name
        if len(self._names) >= MAX_OPERATION_NAMES:
            return OTHER
        self._names.add(name)
        return name

    def record(self, route: str, status: int, seconds: float, operation: str, result: str) -> None:
        """Counts one request; `operation` and `result` (outcome()) for GraphQL ones."""
        key = (route, status, operation, result)
        children = self._children.get(key)
        if children is None:  # labels() looks its child up each time: keep them per request kind
            label = self.label(operation)
            children = self._children[key] = (
                self.http.labels(route, str(status)),
                self.graphql.labels(label, result) if route == "graphql" else None,
                self.latency.labels(label) if route == "graphql" else None,
            )
            if len(self._children) > 10_000:  # made-up paths do not grow it without bound
                self._children.clear()
        http, graphql, latency = children
        http.inc()
        if status == 429:
            self.rate_limited.inc()
        if graphql is not None and latency is not None:
            graphql.inc()
            latency.observe(seconds)
