"""The old plan's overage settled by an upgrade: seats used above those paid on the days
before the change, at the old price for those days' share of the term."""

from datetime import date

import pytest

from billing.charges import ChargeKind, Fraction, Item, Term
from billing.money import Money
from billing.upgrades import overage_before_upgrade

TERM = Term(date(2026, 3, 15), date(2027, 3, 15))  # 365 days
PREMIUM = Item("Premium", 10, Money(34800, "USD"))


@pytest.mark.parametrize(
    ("peak", "on", "expected"),
    [
        # 2 over for 184 of 365 days: 2 x 34800 x 184/365 = 35086.03 -> 35086
        (12, date(2026, 9, 15), (2, 35086, Fraction(184, 365))),
        # 1 over for 1 day: 34800 / 365 = 95.34 -> 95
        (11, date(2026, 3, 16), (1, 95, Fraction(1, 365))),
        # 3 over for 364 days: 3 x 34800 x 364/365 = 104113.97 -> 104114
        (13, date(2027, 3, 14), (3, 104114, Fraction(364, 365))),
    ],
)
def test_the_overage_before_an_upgrade_is_priced_for_the_days_used(
    peak: int, on: date, expected: tuple[int, int, Fraction]
) -> None:
    [line] = overage_before_upgrade(10, peak, PREMIUM, TERM, on).lines
    assert (line.quantity, line.amount.minor_units, line.fraction) == expected
    assert (line.kind, line.unit_price, line.period_start, line.period_end) == (
        ChargeKind.TRUE_UP,
        Money(34800, "USD"),
        date(2026, 3, 15),
        on,
    )


@pytest.mark.parametrize(
    ("peak", "on"),
    [
        (10, date(2026, 9, 15)),  # nothing over
        (8, date(2026, 9, 15)),  # fewer used than paid
        (13, date(2026, 3, 15)),  # changed on the start date: no day on the old plan
    ],
)
def test_nothing_is_owed_without_overage_or_days(peak: int, on: date) -> None:
    assert overage_before_upgrade(10, peak, PREMIUM, TERM, on).lines == ()


@pytest.mark.parametrize("on", [date(2026, 3, 14), date(2027, 3, 15)])
def test_a_change_outside_the_term_is_refused(on: date) -> None:
    with pytest.raises(ValueError, match="outside the term"):
        overage_before_upgrade(10, 12, PREMIUM, TERM, on)
