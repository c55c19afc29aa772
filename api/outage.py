"""Which exceptions mean "the database is unavailable" (answered 503, SERVICE_UNAVAILABLE)
or "a statement ran past the statement timeout" (QUERY_TIMEOUT) rather than a bug (masked
as INTERNAL_SERVER_ERROR). It lives at the edge because it knows
the driver and SQLAlchemy; `schema` never imports either."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

from sqlalchemy import exc

# PostgreSQL SQLSTATEs of a server that is gone, going, or full (class 08: connection
# exception; 57P01-57P03: shutting down or starting up; 53300: too many connections)
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
# 57014 query_canceled: what PostgreSQL raises when `statement_timeout` cancels a statement;
# 25P02 in_failed_sql_transaction: any later statement of that transaction
_CANCELED_SQLSTATE = "57014"
_ABORTED_SQLSTATE = "25P02"
_UNREACHABLE = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH}


def is_database_outage(error: BaseException) -> bool:
    """True when `error`, or an exception it was raised from, says the database cannot be
    reached, dropped the connection, or the pool had no connection in time."""
    return any(_is_outage(e) for e in _chain(error))


def is_connection_lost(error: BaseException) -> bool:
    """True when `error` says a pooled connection turned out dead (the database restarted or
    dropped it): SQLAlchemy has discarded it, so trying again gets a fresh one."""
    return any(isinstance(e, exc.DBAPIError) and e.connection_invalidated for e in _chain(error))


def is_query_timeout(error: BaseException) -> bool:
    """True when `error`, or an exception it was raised from, is a statement PostgreSQL
    cancelled: past the engine's `statement_timeout` (or cancelled by an operator)."""
    return _has_sqlstate(error, _CANCELED_SQLSTATE)


def is_aborted_transaction(error: BaseException) -> bool:
    """True when `error` is a statement refused because its transaction had already failed
    (after a cancelled statement: the other fields sharing the request's session)."""
    return _has_sqlstate(error, _ABORTED_SQLSTATE)


def _has_sqlstate(error: BaseException, sqlstate: str) -> bool:
    return any(getattr(e, "sqlstate", None) == sqlstate for e in _chain(error))


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, exc.TimeoutError | exc.DisconnectionError):  # pool timeout
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, ConnectionError | socket.gaierror | TimeoutError):
        return True
    if isinstance(error, OSError) and error.errno in _UNREACHABLE:
        return True
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATES)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, what it wraps (SQLAlchemy's `orig`) and its causes, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo and len(seen) < 20:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [
            orig if isinstance(orig, BaseException) else None,
            current.__cause__,
            current.__context__,
        ]
