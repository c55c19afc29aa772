"""What callers see of errors: public errors keep their message and get a code; anything
unexpected is logged with the request id and masked."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.relay import GlobalIDValueError

from resolvers.errors import PublicError

log = logging.getLogger("billing.errors")

# graphql-core names the variable and the path inside it only in the message of a variable
# that cannot be coerced: "Variable '$input' has invalid value at .records[3].id: ..."
_BAD_VARIABLE = re.compile(r"Variable '\$(\w+)' has invalid value(?: at ([\w.\[\]]+))?:")


def variable_field(message: str) -> str | None:
    """`input.records.3.id` for the message above: the field, as UserError fields are named."""
    found = _BAD_VARIABLE.match(message)
    if found is None:
        return None
    name, path = found.groups()
    return name + re.sub(r"\[(\d+)\]", r".\1", path or "")


def public_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the caller may see it, always with `extensions.code`.

    Errors in the request itself (syntax, validation, depth/alias/token limits, bad variables)
    and PublicErrors are shown as they are. Any other exception is logged with its traceback
    and replaced by "Unexpected error" and the request id, so no internals leak.
    """
    original = error.original_error
    field = None
    if original is None:
        # the parser's refusals (syntax, the token limit) are GraphQLSyntaxErrors
        parsing = isinstance(error, GraphQLSyntaxError)
        default = "GRAPHQL_PARSE_FAILED" if parsing else "GRAPHQL_VALIDATION_FAILED"
        code = (error.extensions or {}).get("code", default)
    elif isinstance(original, PublicError):
        code, field = original.code, original.field
    elif isinstance(original, GraphQLError | GlobalIDValueError):
        code, field = "BAD_USER_INPUT", variable_field(error.message)
    else:
        log.error("unexpected error [request %s]", request_id, exc_info=original)
        return GraphQLError(
            f"Unexpected error (request {request_id}).",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
    error.extensions = {**(error.extensions or {}), "code": code}
    if field is not None:
        error.extensions["field"] = field
    return error
