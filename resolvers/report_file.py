"""An offline instance's exported usage report: parsed strictly, since anyone can upload one.

Counts must be JSON integers (1.9, true and "5" are refused, never truncated), `NaN`,
`Infinity` and numbers too large for a float (1e400) are refused, as are nesting too deep to
parse, strings with a NUL character and a `reported_at` outside 1900..2999. Every refusal is
an InvalidInputError naming the key, as `report.billable_users`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billing.errors import ErrorCode, InvalidInputError

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # the DateTime scalar's range


@dataclass(frozen=True)
class Report:
    license: str
    instance_uid: str
    hostname: str
    version: str
    billable_users: int
    max_historical_users: int
    reported_at: datetime


def _refuse(message: str, field: str = "report") -> InvalidInputError:
    return InvalidInputError(ErrorCode.INVALID_VALUE, message, field)


def _no_constants(name: str) -> Any:
    raise _refuse(f"Not a usage report file: {name} is not a number.")


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _refuse(f"`{key}` must be a string.", f"report.{key}")
    if "\x00" in value:
        raise _refuse(f"`{key}` contains a NUL character.", f"report.{key}")
    return value


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _refuse(f"`{key}` must be a whole number.", f"report.{key}")
    return value


def parse_report_file(file: str) -> Report:
    """The report in an exported usage file (a JSON object)."""
    try:
        data = json.loads(file, parse_constant=_no_constants)
    except RecursionError:
        raise _refuse("Not a usage report file: nested too deeply.") from None
    except ValueError as error:  # JSONDecodeError included
        raise _refuse(f"Not a usage report file: {error}") from None
    if not isinstance(data, dict):
        raise _refuse("Not a usage report file: expected a JSON object.")
    moment = _text(data, "reported_at")
    try:
        reported_at = datetime.fromisoformat(moment)
    except ValueError:
        raise _refuse("`reported_at` is not an ISO 8601 time.", "report.reported_at") from None
    if not EARLIEST <= reported_at.date() <= LATEST:
        raise _refuse(f"`reported_at` must be from {EARLIEST} to {LATEST}.", "report.reported_at")
    return Report(
        license=_text(data, "license").strip(),
        instance_uid=_text(data, "instance_id"),
        hostname=_text(data, "hostname"),
        version=_text(data, "version"),
        billable_users=_count(data, "billable_users"),
        max_historical_users=_count(data, "max_historical_users"),
        reported_at=reported_at,
    )
