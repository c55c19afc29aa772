"""Billing periods and terms. A term is the half-open date range [start, end)."""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum


class BillingPeriod(StrEnum):
    """How long one term lasts and what one catalog price pays for."""

    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return 1 if self is BillingPeriod.MONTHLY else 12


def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day.

    ``add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)``;
    ``add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)``.
    """
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def term_end(start: date, period: BillingPeriod) -> date:
    """End (exclusive) of the term that starts on `start`.

    A one-year term starting 2026-03-15 ends 2027-03-15:
    ``term_end(date(2026, 3, 15), BillingPeriod.ANNUAL) == date(2027, 3, 15)``.
    """
    return add_months(start, period.months)
