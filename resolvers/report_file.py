"""An offline instance's exported usage report: parsed strictly, since anyone can upload one.

Counts must be JSON integers (1.9, true and "5" are refused, never truncated), `NaN`,
`Infinity` and numbers too large for a float (1e400) are refused, as are nesting too deep to
parse, strings with a NUL character and a `reported_at` outside 1900..2999. Every refusal is
an InvalidInputError naming the key, as `report.billable_users` or
`report.user_statistics.by_role.guest`, and never quotes Python's exception text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billing.errors import ErrorCode, InvalidInputError
from billing.user_statistics import UserStatistics, read_user_statistics

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
    # GitLab's admin breakdown; older reports carry only the two counts
    user_statistics: UserStatistics | None = None


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
    except json.JSONDecodeError as error:
        raise _refuse(
            f"Not a usage report file: not JSON (line {error.lineno}, column {error.colno})."
        ) from None
    except ValueError:  # a number too long to convert
        raise _refuse("Not a usage report file: a number is too long.") from None
    if not isinstance(data, dict):
        raise _refuse("Not a usage report file: expected a JSON object.")
    moment = _text(data, "reported_at")
    try:
        reported_at = datetime.fromisoformat(moment)
    except ValueError:
        raise _refuse("`reported_at` is not an ISO 8601 time.", "report.reported_at") from None
    if not EARLIEST <= reported_at.date() <= LATEST:
        raise _refuse(f"`reported_at` must be from {EARLIEST} to {LATEST}.", "report.reported_at")
    billable_users = _count(data, "billable_users")
    statistics = data.get("user_statistics")
    return Report(
        license=_text(data, "license").strip(),
        instance_uid=_text(data, "instance_id"),
        hostname=_text(data, "hostname"),
        version=_text(data, "version"),
        billable_users=billable_users,
        max_historical_users=_count(data, "max_historical_users"),
        reported_at=reported_at,
        user_statistics=None
        if statistics is None
        else read_user_statistics(
            statistics, billable_users=billable_users, field="report.user_statistics"
        ),
    )
