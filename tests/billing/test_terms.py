from datetime import date

import pytest

from billing.terms import BillingPeriod, add_months, term_end


@pytest.mark.parametrize(
    ("start", "period", "end"),
    [
        (date(2026, 3, 15), BillingPeriod.ANNUAL, date(2027, 3, 15)),
        (date(2028, 2, 29), BillingPeriod.ANNUAL, date(2029, 2, 28)),  # leap day
        (date(2027, 2, 28), BillingPeriod.ANNUAL, date(2028, 2, 28)),
        (date(2026, 1, 31), BillingPeriod.MONTHLY, date(2026, 2, 28)),
        (date(2028, 1, 31), BillingPeriod.MONTHLY, date(2028, 2, 29)),
        (date(2026, 12, 15), BillingPeriod.MONTHLY, date(2027, 1, 15)),
        (date(2026, 12, 31), BillingPeriod.ANNUAL, date(2027, 12, 31)),
    ],
)
def test_term_end(start: date, period: BillingPeriod, end: date) -> None:
    assert term_end(start, period) == end


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        (0, date(2026, 5, 31)),
        (1, date(2026, 6, 30)),
        (-3, date(2026, 2, 28)),
        (25, date(2028, 6, 30)),
    ],
)
def test_add_months_clamps_to_month_end(months: int, expected: date) -> None:
    assert add_months(date(2026, 5, 31), months) == expected


@pytest.mark.parametrize(
    ("start", "period", "anchor_day", "end"),
    [
        # monthly terms first started on 2026-01-31: Jan 31 -> Feb 28 -> Mar 31 -> Apr 30
        (date(2026, 1, 31), BillingPeriod.MONTHLY, 31, date(2026, 2, 28)),
        (date(2026, 2, 28), BillingPeriod.MONTHLY, 31, date(2026, 3, 31)),
        (date(2026, 3, 31), BillingPeriod.MONTHLY, 31, date(2026, 4, 30)),
        (date(2026, 4, 30), BillingPeriod.MONTHLY, 31, date(2026, 5, 31)),
        # first started on 2028-01-30: a leap February ends on the 29th, March on the 30th
        (date(2028, 1, 30), BillingPeriod.MONTHLY, 30, date(2028, 2, 29)),
        (date(2028, 2, 29), BillingPeriod.MONTHLY, 30, date(2028, 3, 30)),
        # a year first started on 2028-02-29 comes back to the 29th in the next leap year
        (date(2031, 2, 28), BillingPeriod.ANNUAL, 29, date(2032, 2, 29)),
        (date(2029, 2, 28), BillingPeriod.ANNUAL, 29, date(2030, 2, 28)),
        # no anchor: the start's own day
        (date(2026, 2, 28), BillingPeriod.MONTHLY, None, date(2026, 3, 28)),
    ],
)
def test_term_end_keeps_the_anchor_day(
    start: date, period: BillingPeriod, anchor_day: int | None, end: date
) -> None:
    assert term_end(start, period, anchor_day) == end
