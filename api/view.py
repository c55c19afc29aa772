"""The GraphQL endpoint: token -> Principal, one Context (and session) per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any, cast

import orjson
import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.access import new_request_id
from api.auth import InvalidToken, VerifiedTokens
from api.graphiql import GraphiQLPage
from api.logs import annotate, describe, request_fields
from api.media import GRAPHQL_RESPONSE, request_error_status, response_media_type
from api.outage import (
    is_aborted_transaction,
    is_connection_lost,
    is_database_outage,
    is_query_timeout,
)
from api.persisted import PersistedQueries
from api.request import bad_request, check_query, decode_json, graphql_request, read_body
from api.settings import Settings
from billing.licenses import LicenseGrant
from resolvers.context import Clock, Context, LicenseSigner
from resolvers.principal import Principal
from resolvers.rates import RateLimited, RateLimits
from schema.error_policy import public_error

log = logging.getLogger("billing.http")


class BillingGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        clock: Clock,
        graphiql: GraphiQLPage | None,
        license_jwks: dict[str, Any] | None = None,
        sign_license: LicenseSigner | None = None,
        verify_license: Callable[[str, date | None], LicenseGrant] | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker
        self.clock = clock
        self.graphiql = graphiql
        self.license_jwks = license_jwks or {"keys": []}
        self.sign_license = sign_license
        self.verify_license = verify_license
        self.limits = settings.limits()
        self.tokens = VerifiedTokens(settings)
        self.rates = RateLimits(settings.rate_limit_per_minute)  # per process (docs/limits.md)
        self.persisted = PersistedQueries(settings.persisted_queries_bytes)  # per process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as refused:  # malformed or too large: before anything ran
            code = getattr(refused, "code", _CODES.get(refused.status_code, "BAD_REQUEST"))
            response = _error_response(refused.status_code, code, refused.reason, request)
        except Exception as error:
            if not is_database_outage(error):
                raise
            log.warning(
                "database unavailable [request %s]: %s", _request_id(request), describe(error)
            )
            response = _error_response(503, "SERVICE_UNAVAILABLE", _UNAVAILABLE, request)
        if response.headers.get("content-type") == "application/json" and (
            response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE
        ):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        await response(scope, receive, send)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request):
            return await super().run(request, context, root_value)
        request_id = _request_id(request)
        try:
            principal = self._principal(request)
            annotate(role=principal.role.value if principal.role else "anonymous")
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
        started = time.perf_counter()
        response, wrote = await self._execute(request, principal, root_value)
        if request.state.connection_lost and not wrote:
            # a read met a pooled connection the database had dropped (a restart, say): the
            # pool has let it go, so the read runs once more on a fresh one
            log.info("connection lost, read retried [request %s]", request_id)
            response, wrote = await self._execute(request, principal, root_value)
        if request.state.request_error_status is not None:
            response.status_code = request.state.request_error_status
        if request.state.database_unavailable:
            response.status_code = 503
        elif (retry_after := getattr(request.state, "retry_after", None)) is not None:
            response.status_code = 429
            response.headers["Retry-After"] = str(retry_after)
        response.headers["X-Request-Id"] = request_id
        # time spent in the app (auth, GraphQL, database), for clients and load tests
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    async def _execute(
        self, request: Request, principal: Principal, root_value: Any
    ) -> tuple[Response, bool]:
        """The request run with a Context of its own; whether it began to write."""
        request.state.database_unavailable = request.state.connection_lost = False
        request.state.request_error_status = None
        context = Context(
            principal=principal,
            clock=self.clock,
            request_id=request.state.request_id,
            sessionmaker=self.sessionmaker,
            read_sessionmaker=self.read_sessionmaker,
            license_jwks=self.license_jwks,
            sign_license=self.sign_license,
            verify_license=self.verify_license,
            limits=self.limits,
            client=request.client.host if request.client else "unknown",
            rates=self.rates,
        )
        try:
            response: Response = await super().run(request, context, root_value)
        finally:
            await context.close()
        return response, context.wrote

    def _principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if not header:
            return Principal()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("expected `Authorization: Bearer <token>`")
        return self.tokens.principal(token.strip())

    def decode_json(self, data: str | bytes) -> object:
        return decode_json(data)

    def encode_json(self, data: object) -> bytes:
        """Answers are encoded by orjson: the same compact JSON, several times faster."""
        return orjson.dumps(data)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """One operation, checked as the GraphQL-over-HTTP spec asks (api/request.py); a
        JSON body is read only up to `max_body_bytes`."""
        content_type, _ = parse_content_type(request.content_type or "")
        starlette_request: Request = request._request  # type: ignore[attr-defined]
        if (read := getattr(starlette_request.state, "graphql_request", None)) is not None:
            return cast(GraphQLRequestData, read)  # run again: the body was read once
        if request.method == "POST" and "application/json" in content_type:
            body = await read_body(
                starlette_request.stream(), request.headers, self.settings.max_body_bytes
            )
            data = graphql_request(self.decode_json(body))
        else:
            parsed = await super().parse_http_body(request)
            if isinstance(parsed, list):  # batching is off: strawberry has refused it
                raise bad_request("Send one operation per request.")
            data = parsed
        data = self.persisted.resolve(data)
        check_query(data.query, self.settings.max_query_bytes)
        starlette_request.state.graphql_request = data
        return data

    async def execute_single(  # noqa: PLR0917
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        if request_data.query is not None:
            operations = _operations(request_data.query, self.limits.tokens)
            if request_data.operation_name is None and len(operations) > 1:
                # strawberry would run the first; the spec says such a request is invalid
                raise bad_request(
                    f"The document has {len(operations)} operations: name the one to run in"
                    " `operationName`."
                )
            name = request_data.operation_name
            kind = next((k for n, k in operations if name is None or n == name), None)
            annotate(operation=name if name is not None or not operations else operations[0][0])
            # a query only reads: its session needs no transaction (db.engine)
            context.session.reads_only = kind is OperationType.QUERY
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            annotate(errors=len(result.errors))
            # fields that shared the session of a cancelled statement fail after it (25P02)
            request.state.timed_out = any(
                e.original_error is not None and is_query_timeout(e.original_error)
                for e in result.errors
            )
            errors = sorted(result.errors, key=_document_order)
            result.errors = [self._public_error(e, request) for e in errors]
            waits = [
                e.original_error.retry_after
                for e in result.errors
                if isinstance(e.original_error, RateLimited)
            ]
            if waits:  # the whole answer is a 429 (run sets the status and Retry-After)
                request.state.retry_after = max(waits)
        answer = process_result(result)
        status = request_error_status(result)
        if status is None:  # it ran: a persisted query's document is worth keeping
            self.persisted.keep(request.state.graphql_request)
        elif response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE:
            # this media type's rule: a request error has no `data` and a 4xx status
            # (application/json keeps 200 and `data: null`, as its clients expect)
            del answer["data"]
            request.state.request_error_status = status
        return answer

    def _public_error(self, error: GraphQLError, request: Request) -> GraphQLError:
        request_id = request.state.request_id
        original = error.original_error
        if original is not None and is_database_outage(original):
            log.warning("database unavailable [request %s]: %s", request_id, describe(original))
            request.state.database_unavailable = True
            request.state.connection_lost |= is_connection_lost(original)
            return _driver_error(error, _UNAVAILABLE, "SERVICE_UNAVAILABLE", request_id)
        if original is not None and is_query_timeout(original):
            # the statement timeout is a backstop: worth a look, but the caller's to fix
            log.warning("statement timeout [request %s]: %s", request_id, describe(original))
            return _driver_error(error, _TIMED_OUT, "QUERY_TIMEOUT", request_id)
        if original is not None and request.state.timed_out and is_aborted_transaction(original):
            return _driver_error(error, _TIMED_OUT_BEFORE, "QUERY_TIMEOUT", request_id)
        return public_error(error, request_id)

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's GET without a query, unless it names a persisted one."""
        return bool(super().should_render_graphql_ide(request)) and (
            "extensions" not in request.query_params
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        assert self.graphiql is not None
        return HTMLResponse(
            self.graphiql.html,
            headers={"Content-Security-Policy": self.graphiql.content_security_policy},
        )


_UNAVAILABLE = "The database is unavailable; try again shortly."
_TIMED_OUT = (
    "A database statement ran past the time limit and was cancelled; ask for less"
    " (a smaller page, range or batch)."
)
_TIMED_OUT_BEFORE = (
    "Not read: another field's database statement ran past the time limit and was"
    " cancelled, ending this request's transaction; ask for less."
)
_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def _driver_error(error: GraphQLError, message: str, code: str, request_id: str) -> GraphQLError:
    """A field's database failure as the caller sees it: ours, not the driver's, message."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": code, "requestId": request_id},
    )


def _request_id(request: Request) -> str:
    """The id api.access gave the request (or, without that middleware, one of its own)."""
    fields = request_fields.get()
    if fields is not None:
        return cast(str, fields["request_id"])
    return new_request_id(request.headers.get("x-request-id"))


def _error_response(status: int, code: str, message: str, request: Request) -> Response:
    request_id = getattr(request.state, "request_id", None) or _request_id(request)
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers={"X-Request-Id": request_id},
    )


@lru_cache(maxsize=64)
def _operations(query: str, max_tokens: int) -> tuple[tuple[str | None, OperationType], ...]:
    """The document's operations: name (None for an anonymous one) and type; none when it
    does not parse (the schema reports why)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return ()
    return tuple(
        (d.name.value if d.name else None, d.operation)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


def _document_order(error: GraphQLError) -> tuple[Any, ...]:
    """Errors in the order of the document (then of their paths), not in the order sibling
    fields happened to fail: root lookups fail independently, and an answer should not depend
    on which database read came back first."""
    where = error.locations[0] if error.locations else None
    place = (where.line, where.column) if where is not None else (0, 0)
    path = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.path or ())
    return (place, path)
