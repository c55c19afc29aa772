"""The HTTP edge's ASGI middleware: security headers on every answer, in one place, and the
request headers' size limit."""

from __future__ import annotations

import json
import logging

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("billing.http")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# for answers that set no policy of their own (JSON, errors): load nothing, frame nowhere
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
# GraphQL answers can carry license tokens and customers' data: no cache keeps them
NO_STORE_PATHS = ("/graphql",)


class SecurityHeaders:
    """Adds SECURITY_HEADERS (and a default CSP) to every HTTP answer, `Cache-Control:
    no-store` to every answer under NO_STORE_PATHS, and turns an exception that escapes
    the app before it answered into a JSON 500 that carries them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["path"].startswith(NO_STORE_PATHS)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            log.exception("unhandled error on %s %s", scope.get("method"), scope["path"])
            body = json.dumps(
                {
                    "errors": [
                        {
                            "message": "Unexpected error.",
                            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                        }
                    ]
                }
            ).encode()
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class HeaderLimit:
    """Refuses, with 431, a request whose headers (names and values) exceed `max_bytes`.
    The server bounds what it buffers (`billing serve` runs h11 with the same limit); this
    makes the limit exact whatever server runs the app."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) for name, value in scope["headers"])
            if size > self.max_bytes:
                await JSONResponse(
                    {
                        "errors": [
                            {
                                "message": f"The request headers are over the limit of "
                                f"{self.max_bytes} bytes.",
                                "extensions": {"code": "HEADERS_TOO_LARGE"},
                            }
                        ]
                    },
                    status_code=431,
                )(scope, receive, send)
                return
        await self.app(scope, receive, send)
