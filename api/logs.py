"""Logs as structured lines through structlog: JSON for machines, a readable console format
for people. Every record, ours and the libraries' (standard `logging` calls included), goes
through one ProcessorFormatter on the root logger, so all lines have the same fields.

What no line may carry (customers' data, secrets): database errors are shown by class and
SQLSTATE only, never by message (PostgreSQL puts values in them: `Key (email)=(...)`,
`invalid input syntax for type integer: "..."`), the engine hides statement parameters
(db.engine), and e-mail addresses and JWTs left in any message are masked."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["json", "console"]

# The request being served: its id and what the view learns (role, operation), added to
# every line logged while it runs (api.access sets a fresh dict per request).
request_fields: ContextVar[dict[str, Any] | None] = ContextVar("request_fields", default=None)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def annotate(**fields: Any) -> None:
    """Add fields to the current request's lines (a no-op outside a request)."""
    current = request_fields.get()
    if current is not None:
        current.update(fields)


def _add_request_fields(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    current = request_fields.get()
    if current is not None:
        for key, value in current.items():
            event.setdefault(key, value)
    return event


# attributes every LogRecord has, and those formatters add (`message`, `asctime`)
_RECORD_KEYS = frozenset(
    [*logging.LogRecord("", 0, "", 0, "", (), None).__dict__, "message", "asctime"]
)


def _add_extra(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    """The `extra` fields of a standard logging call."""
    record = event.get("_record")
    if record is not None:
        for key, value in record.__dict__.items():
            if key not in _RECORD_KEYS:
                event.setdefault(key, value)
    return event


def scrub(text: str) -> str:
    """The text with e-mail addresses and JWTs masked."""
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    if "eyJ" in text:
        text = _JWT.sub("<token>", text)
    return text


def _scrub(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    for key, value in event.items():
        if isinstance(value, str) and ("@" in value or "eyJ" in value):
            event[key] = scrub(value)
    return event


def _is_database_error(error: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    module = type(error).__module__
    return (
        isinstance(error, DBAPIError)
        or module.startswith("asyncpg")
        or module.endswith(".asyncpg")  # SQLAlchemy's adapter of asyncpg's errors
    )


def describe(error: BaseException) -> str:
    """`Class: message`, where a database error's message is replaced by its SQLSTATE and
    the names (constraint, table, column) it gives: safe to log."""
    module = type(error).__module__
    kind = (
        type(error).__qualname__ if module == "builtins" else f"{module}.{type(error).__qualname__}"
    )
    if not _is_database_error(error):
        return scrub(f"{kind}: {error}")
    origin: Any = getattr(error, "orig", None) or error
    origin = getattr(origin, "__cause__", None) or origin  # the adapter's is asyncpg's
    parts = [f"SQLSTATE {getattr(origin, 'sqlstate', None) or '?'}"]
    for attribute in ("constraint_name", "table_name", "column_name"):
        if value := getattr(origin, attribute, None):
            parts.append(f"{attribute.removesuffix('_name')} {value}")
    return f"{kind}: {', '.join(parts)} (message hidden)"


def format_exception(error: BaseException) -> str:
    """The traceback as Python prints it, causes first, each exception shown by describe()."""
    chain: list[tuple[BaseException, str]] = []
    current: BaseException | None = error
    link = ""
    while current is not None and len(chain) < 20 and all(current is not e for e, _ in chain):
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts = []
    for position, (item, _) in enumerate(reversed(chain)):
        if position:  # how this one led to the next, as the link recorded on the next
            parts.append(chain[len(chain) - position][1])
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(describe(item) + "\n")
    return "".join(parts).rstrip("\n")


def _exception(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    """exc_info rendered by format_exception into `exception` (instead of structlog's
    format_exc_info, which prints messages as they are)."""
    exc_info = event.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        error = exc_info if isinstance(exc_info, BaseException) else exc_info[1]
        if error is not None:
            event["exception"] = format_exception(error)
    return event


_timestamp = structlog.processors.TimeStamper(fmt="iso", utc=True)


def _json(value: MutableMapping[str, Any], **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def make_formatter(log_format: LogFormat, *, colors: bool = False) -> logging.Formatter:
    """The formatter every handler uses: records of standard `logging` calls, with their
    `extra` fields, become event dicts like structlog's own."""
    shared: list[Processor] = [
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        _add_extra,
        _add_request_fields,
        _timestamp,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_json)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=colors, sort_keys=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _exception,
            _scrub,
            renderer,
        ],
    )


def configure_logging(
    level: str, log_format: LogFormat | None = None, *, stream: TextIO | None = None
) -> None:
    """One handler on the root logger, in `log_format` (None: console when the stream is a
    terminal, JSON otherwise); structlog's own loggers hand their events to it too."""
    stream = stream or sys.stderr
    tty = stream.isatty()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter(log_format or ("console" if tty else "json"), colors=tty))
    # no line shows them: each record skips the look-ups
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in root.handlers[:]:  # the one a previous call added, not others'
        if getattr(old, "billing_logs", False):
            root.removeHandler(old)
    handler.billing_logs = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            _add_request_fields,
            _timestamp,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
