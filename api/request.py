"""Reading a GraphQL-over-HTTP request before anything runs: the body within its size limit,
JSON that is UTF-8 and shallow, and the fields the spec allows. Anything else is refused
with a status and a code (docs/limits.md, "HTTP requests")."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping
from itertools import accumulate
from typing import Any

from cross_web import HTTPException
from strawberry.http import GraphQLRequestData

# JSON nested deeper than this is refused before it is parsed: the parser recurses, and no
# GraphQL request needs more (variables are input objects, a few levels deep).
MAX_JSON_DEPTH = 64

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
for _open in b"[{":
    _STEP[_open] = 1
for _close in b"]}":
    _STEP[_close] = -1


class RequestRefused(HTTPException):
    """A request refused before execution: `status`, a GraphQL error `code`, a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, message)
        self.code = code


def bad_request(message: str) -> RequestRefused:
    return RequestRefused(400, "BAD_REQUEST", message)


async def read_body(
    chunks: AsyncIterator[bytes], headers: Mapping[str, str], max_bytes: int
) -> bytes:
    """The whole body, or 413 as soon as it is known to be over `max_bytes`: from
    Content-Length before reading anything, else while the chunks arrive."""
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise bad_request("Content-Length is not a number.")
        if int(declared) > max_bytes:
            raise _too_large(max_bytes)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    return bytes(body)


def _too_large(max_bytes: int) -> RequestRefused:
    return RequestRefused(
        413, "PAYLOAD_TOO_LARGE", f"The request body is over the limit of {max_bytes} bytes."
    )


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in `data` (brackets inside strings do not count),
    in linear time and without recursion. Meant for JSON; for anything else it is only
    an estimate, and the parser refuses it afterwards."""
    # after dropping escapes (`\\` and `\"` among them) every quote opens or closes a string
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", data)).translate(None, _NOT_A_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(data: str | bytes) -> object:
    """Parsed JSON, or 400: not UTF-8, nested deeper than MAX_JSON_DEPTH, NaN/Infinity,
    integers too long to convert, or not JSON at all."""
    try:
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        if json_depth(raw) > MAX_JSON_DEPTH:
            raise bad_request(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.")
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise bad_request("The request body is not UTF-8.") from None
    except json.JSONDecodeError as error:  # its message is Python's: name the place only
        raise bad_request(
            f"The request body is not valid JSON (line {error.lineno}, column {error.colno})."
        ) from None
    except ValueError as error:  # ours (NaN, Infinity), or int() of a number too long
        detail = str(error) if str(error).endswith("is not JSON") else "a number is too long"
        raise bad_request(f"The request body is not valid JSON: {detail}.") from None


def graphql_request(data: object) -> GraphQLRequestData:
    """The one operation a JSON body asks for (a JSON object with a `query` string and
    optional `variables`, `operationName` and `extensions`), or 400 naming what is wrong."""
    if not isinstance(data, dict):
        raise bad_request(f"The request body must be a JSON object, not {_json_type(data)}.")
    variables = data.get("variables")
    if not isinstance(variables, dict | None):
        raise bad_request("`variables` must be an object or null.")
    operation_name = data.get("operationName")
    if not isinstance(operation_name, str | None):
        raise bad_request("`operationName` must be a string or null.")
    extensions = data.get("extensions")
    if not isinstance(extensions, dict | None):
        raise bad_request("`extensions` must be an object or null.")
    return GraphQLRequestData(
        query=data.get("query"),
        variables=variables,
        operation_name=operation_name,
        extensions=extensions,
        protocol="http",
    )


def check_query(query: object, max_bytes: int) -> str:
    """The document, or 400 when there is none, 413 when it is over `max_bytes`."""
    if not isinstance(query, str) or not query.strip():
        raise bad_request("`query` must be a non-empty string (the GraphQL document).")
    if len(query) > max_bytes or len(query.encode("utf-8", "surrogatepass")) > max_bytes:
        raise RequestRefused(
            413, "QUERY_TOO_LARGE", f"The GraphQL document is over the limit of {max_bytes} bytes."
        )
    return query


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")
