"""Error policy: public errors keep their message and get a code; anything else is masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.errors import PublicError

log = logging.getLogger("billing.errors")


class ErrorPolicy(SchemaExtension):
    """Every error leaves with `extensions.code`. Errors of the request itself (syntax,
    validation, limits) and PublicErrors are shown as they are; an unexpected exception is
    logged with the request id and shown only as "Unexpected error" with that id, so no
    internals leak."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._public(error) for error in result.errors]

    def _public(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:
            code = "GRAPHQL_VALIDATION_FAILED"
        elif isinstance(original, PublicError):
            code = original.code
        elif isinstance(original, GraphQLError):
            code = "BAD_USER_INPUT"
        else:
            request_id = self.execution_context.context.request_id
            log.error("unexpected error [request %s]", request_id, exc_info=original)
            return GraphQLError(
                f"Unexpected error (request {request_id}).",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            )
        error.extensions = {**(error.extensions or {}), "code": code}
        return error
