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


def add_months(start: date, months: int, anchor_day: int | None = None) -> date:
    """The same day (or the `anchor_day`) `months` later, clamped to the month's last day.

    ``add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)``;
    ``add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)``; with the anchor a clamped day
    comes back: ``add_months(date(2026, 2, 28), 1, anchor_day=31) == date(2026, 3, 31)``.
    """
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = start.day if anchor_day is None else anchor_day
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def term_end(start: date, period: BillingPeriod, anchor_day: int | None = None) -> date:
    """End (exclusive) of the term that starts on `start`, on the subscription's anchor day
    (the day of the month of its first term's start; `start`'s own day by default).

    A one-year term starting 2026-03-15 ends 2027-03-15:
    ``term_end(date(2026, 3, 15), BillingPeriod.ANNUAL) == date(2027, 3, 15)``. Monthly terms
    first started on 2026-01-31 run 2026-01-31..2026-02-28..2026-03-31..2026-04-30:
    ``term_end(date(2026, 2, 28), BillingPeriod.MONTHLY, 31) == date(2026, 3, 31)``; one
    first started on 2028-01-29 ends 2028-02-29 (a leap year), then 2028-03-29.
    """
    return add_months(start, period.months, anchor_day)
