"""The access line and the request metrics: one ASGI middleware, outermost, sees every
request and the status it was answered with (uvicorn's own access log is off).

Each request gets its id here (the caller's X-Request-Id when it is plain, else a new one);
the view adds what it learns (role, operation, error count) to the same fields, which every
line logged during the request carries (api.logs)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphiql import ASSET_ROUTE
from api.logs import request_fields
from api.metrics import Metrics, operation_name, outcome

log = logging.getLogger("billing.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ROUTES = {"/graphql": "graphql", "/healthz": "healthz", "/readyz": "readyz", "/metrics": "metrics"}


def new_request_id(supplied: str | None) -> str:
    """The caller's id when it is 1-64 plain characters, else a new random one."""
    return supplied if supplied and _REQUEST_ID.match(supplied) else uuid.uuid4().hex


def route_of(path: str) -> str:
    """A bounded name for the path, as a metrics label."""
    return _ROUTES.get(path) or ("graphiql" if path.startswith(ASSET_ROUTE) else "other")


class AccessLog:
    """Logs one `request` line per HTTP request (method, path, status, duration and the
    request's fields) and counts it in `metrics`."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        supplied = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        fields: dict[str, Any] = {
            "request_id": new_request_id(supplied.decode("latin-1")),
            "role": None,
            "operation": None,
        }
        token = request_fields.set(fields)
        status = 500  # unless the app answers: an exception escaped before it did

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._done(scope, status, time.perf_counter() - started, fields)
            request_fields.reset(token)

    def _done(self, scope: Scope, status: int, seconds: float, fields: dict[str, Any]) -> None:
        route = route_of(scope["path"])
        errors = fields.pop("errors", 0)
        result = ""
        if route == "graphql":
            fields["operation"] = operation_name(fields["operation"])
            fields["outcome"] = result = outcome(status, errors)
            fields["errors"] = errors
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"][:200],
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
        if self.metrics is not None:
            self.metrics.record(route, status, seconds, fields["operation"] or "", result)
