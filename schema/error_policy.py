"""What callers see of errors: public errors keep their message and get a code; anything
unexpected is logged with the request id and masked."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.relay import GlobalIDValueError

from resolvers.errors import PublicError

log = logging.getLogger("billing.errors")


def public_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the caller may see it, always with `extensions.code`.

    Errors in the request itself (syntax, validation, depth/alias/token limits, bad variables)
    and PublicErrors are shown as they are. Any other exception is logged with its traceback
    and replaced by "Unexpected error" and the request id, so no internals leak.
    """
    original = error.original_error
    if original is None:
        code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
    elif isinstance(original, PublicError):
        code = original.code
    elif isinstance(original, GraphQLError | GlobalIDValueError):
        code = "BAD_USER_INPUT"
    else:
        log.error("unexpected error [request %s]", request_id, exc_info=original)
        return GraphQLError(
            f"Unexpected error (request {request_id}).",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
    error.extensions = {**(error.extensions or {}), "code": code}
    return error
