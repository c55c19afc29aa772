from datetime import date

import pytest

from billing.charges import ChargeKind, Item
from billing.errors import ErrorCode, InvalidInputError
from billing.money import Money
from billing.quotes import AddOnRequest, price_purchase, validate_purchase
from billing.terms import BillingPeriod

TODAY = date(2026, 3, 15)


def test_purchase_lines_and_total_are_exact() -> None:
    quote = price_purchase(
        plan=Item("Premium", 10, Money(34800, "USD")),
        add_ons=[Item("GitLab Duo Pro", 3, Money(22800, "USD"))],
        start_date=TODAY,
        billing_period=BillingPeriod.ANNUAL,
    )
    assert [(line.kind, line.quantity, line.amount) for line in quote.lines] == [
        (ChargeKind.PURCHASE, 10, Money(348000, "USD")),
        (ChargeKind.ADD_ON, 3, Money(68400, "USD")),
    ]
    assert quote.total == Money(416400, "USD")
    assert (quote.start_date, quote.end_date) == (TODAY, date(2027, 3, 15))
    assert all(
        (line.period_start, line.period_end) == (TODAY, date(2027, 3, 15)) for line in quote.lines
    )


def test_largest_purchase_stays_exact_beyond_32_bits() -> None:
    quote = price_purchase(
        plan=Item("Ultimate", 100_000, Money(118800, "USD")),
        add_ons=[],
        start_date=TODAY,
        billing_period=BillingPeriod.ANNUAL,
    )
    assert quote.total == Money(11_880_000_000, "USD")


@pytest.mark.parametrize(
    ("seats", "add_ons", "start", "code", "field"),
    [
        (0, [], TODAY, ErrorCode.SEATS_BELOW_MINIMUM, "seats"),
        (-5, [], TODAY, ErrorCode.SEATS_BELOW_MINIMUM, "seats"),
        (100_001, [], TODAY, ErrorCode.SEATS_ABOVE_MAXIMUM, "seats"),
        (
            5,
            [AddOnRequest("duo_pro", 0)],
            TODAY,
            ErrorCode.QUANTITY_BELOW_MINIMUM,
            "addOns.0.quantity",
        ),
        (
            5,
            [AddOnRequest("a", 1), AddOnRequest("b", 100_001)],
            TODAY,
            ErrorCode.QUANTITY_ABOVE_MAXIMUM,
            "addOns.1.quantity",
        ),
        (
            5,
            [AddOnRequest("a", 1), AddOnRequest("a", 2)],
            TODAY,
            ErrorCode.DUPLICATE_ADD_ON,
            "addOns.1.code",
        ),
        (5, [], date(2026, 3, 14), ErrorCode.START_DATE_IN_PAST, "startDate"),
        (
            5,
            [AddOnRequest(f"a{n}", 1) for n in range(21)],
            TODAY,
            ErrorCode.INVALID_VALUE,
            "addOns",
        ),
    ],
)
def test_invalid_purchases(
    seats: int, add_ons: list[AddOnRequest], start: date, code: ErrorCode, field: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        validate_purchase(seats=seats, add_ons=add_ons, start_date=start, today=TODAY)
    assert (raised.value.code, raised.value.field) == (code, field)


@pytest.mark.parametrize("seats", [1, 100_000])
def test_seat_limits_are_inclusive(seats: int) -> None:
    validate_purchase(seats=seats, add_ons=[], start_date=TODAY, today=TODAY)
