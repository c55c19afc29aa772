"""The GraphQL endpoint: token -> Principal, one Context (and session) per request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.auth import InvalidToken, principal_from_token
from api.graphiql import CONTENT_SECURITY_POLICY
from api.settings import Settings
from billing.licenses import LicenseGrant
from resolvers.context import Clock, Context, LicenseSigner
from resolvers.principal import Principal
from resolvers.rates import RateLimited, RateLimits
from schema.error_policy import public_error

log = logging.getLogger("billing.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BillingGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        graphiql_html: str | None,
        license_jwks: dict[str, Any] | None = None,
        sign_license: LicenseSigner | None = None,
        verify_license: Callable[[str, date | None], LicenseGrant] | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql_html else None)
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.graphiql_html = graphiql_html
        self.license_jwks = license_jwks or {"keys": []}
        self.sign_license = sign_license
        self.verify_license = verify_license
        self.limits = settings.limits()
        self.rates = RateLimits(settings.rate_limit_per_minute)  # per process (docs/limits.md)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request):
            return await super().run(request, context, root_value)
        supplied = request.headers.get("x-request-id", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        try:
            principal = self._principal(request)
        except InvalidToken as error:
            log.info("refused token [request %s]: %s", request_id, error)
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": f"Invalid token: {error}.",
                            "extensions": {"code": "UNAUTHENTICATED"},
                        }
                    ]
                },
                status_code=401,
                headers={
                    "WWW-Authenticate": 'Bearer error="invalid_token"',
                    "X-Request-Id": request_id,
                },
            )
        request.state.request_id = request_id
        context = Context(
            principal=principal,
            clock=self.clock,
            request_id=request_id,
            sessionmaker=self.sessionmaker,
            license_jwks=self.license_jwks,
            sign_license=self.sign_license,
            verify_license=self.verify_license,
            limits=self.limits,
            client=request.client.host if request.client else "unknown",
            rates=self.rates,
        )
        started = time.perf_counter()
        try:
            response: Response = await super().run(request, context, root_value)
        finally:
            await context.close()
        if (retry_after := getattr(request.state, "retry_after", None)) is not None:
            response.status_code = 429
            response.headers["Retry-After"] = str(retry_after)
        response.headers["X-Request-Id"] = request_id
        # time spent in the app (auth, GraphQL, database), for clients and load tests
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    def _principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if not header:
            return Principal()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("expected `Authorization: Bearer <token>`")
        return principal_from_token(self.settings, token.strip())

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [public_error(e, request.state.request_id) for e in result.errors]
            waits = [
                e.original_error.retry_after
                for e in result.errors
                if isinstance(e.original_error, RateLimited)
            ]
            if waits:  # the whole answer is a 429 (run sets the status and Retry-After)
                request.state.retry_after = max(waits)
        return process_result(result)

    async def render_graphql_ide(self, request: Request) -> Response:
        assert self.graphiql_html is not None
        return HTMLResponse(
            self.graphiql_html, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY}
        )
