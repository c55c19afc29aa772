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
