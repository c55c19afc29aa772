from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import Money
from billing.proration import prorate, remaining_days

USD = "USD"


@pytest.mark.parametrize(
    ("start", "end", "change", "expected"),
    [
        (date(2026, 3, 15), date(2027, 3, 15), date(2026, 9, 15), (181, 365)),
        (date(2026, 3, 15), date(2027, 3, 15), date(2026, 3, 15), (365, 365)),  # start date
        (date(2026, 3, 15), date(2027, 3, 15), date(2027, 3, 14), (1, 365)),  # last day
        (date(2027, 6, 1), date(2028, 6, 1), date(2028, 2, 29), (93, 366)),  # leap year
    ],
)
def test_remaining_days(start: date, end: date, change: date, expected: tuple[int, int]) -> None:
    assert remaining_days(start, end, change) == expected


@pytest.mark.parametrize("change", [date(2026, 3, 14), date(2027, 3, 15)])
def test_changes_outside_the_term_are_refused(change: date) -> None:
    with pytest.raises(ValueError, match="outside the term"):
        remaining_days(date(2026, 3, 15), date(2027, 3, 15), change)


@pytest.mark.parametrize(
    ("quantity", "unit", "remaining", "term", "expected"),
    [
        (3, 34800, 181, 365, 51771),  # 51770.96 -> 51771
        (1, 34800, 1, 365, 95),  # 95.34 -> 95
        (1, 100, 1, 2, 50),
        (1, 1, 1, 2, 1),  # 0.5 -> 1, half up
        (10, 118800, 366, 366, 1188000),  # whole term: full price
        (0, 34800, 100, 365, 0),
    ],
)
def test_prorate(quantity: int, unit: int, remaining: int, term: int, expected: int) -> None:
    assert prorate(quantity, Money(unit, USD), remaining, term) == Money(expected, USD)


@given(quantity=st.integers(0, 100_000), unit=st.integers(0, 10_000_000), term=st.integers(1, 3660))
def test_a_whole_term_costs_the_full_price(quantity: int, unit: int, term: int) -> None:
    assert prorate(quantity, Money(unit, USD), term, term).minor_units == quantity * unit
