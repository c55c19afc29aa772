"""Failures reported as top-level GraphQL errors (not part of a result union)."""

from __future__ import annotations

import base64


class PublicError(Exception):
    """An error whose message is safe to show the caller; `code` goes in the error's extensions."""

    code = "BAD_REQUEST"
    field: str | None = None  # the input it is about, shown as `extensions.field`


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("Authentication required: send a bearer token.")


class Forbidden(PublicError):
    code = "FORBIDDEN"

    def __init__(self, what: str) -> None:
        super().__init__(f"Your role may not {what}.")


class ObjectNotFound(PublicError):
    """Raised alike for objects that do not exist and for objects the caller may not see, so the
    answer never tells them apart."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, key: object, *, id_of: str | None = None) -> None:
        """`key` is what the caller named (a path, a username); an int is a database id,
        which the message names by the global id the caller knows (of `id_of`, else `kind`)."""
        if isinstance(key, int):
            key = global_id(id_of or kind, key)
        super().__init__(f"{kind} {key} not found.")


def global_id(type_name: str, database_id: int) -> str:
    """The Relay global id clients see for a row: base64 of "Type:id" (strawberry's relay
    encoding; a test checks they agree)."""
    return base64.b64encode(f"{type_name}:{database_id}".encode()).decode()


class BadUserInput(PublicError):
    """An argument is out of range or malformed (a page size, a cursor, a date range)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
