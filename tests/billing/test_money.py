from decimal import Decimal

import pytest

from billing.errors import ErrorCode, InvalidInputError
from billing.money import Money, currency_exponent, round_half_up


@pytest.mark.parametrize(
    ("minor_units", "currency", "amount"),
    [
        (34800, "USD", Decimal("348.00")),
        (1, "USD", Decimal("0.01")),
        (0, "EUR", Decimal("0.00")),
        (-250, "EUR", Decimal("-2.50")),
        (1200, "JPY", Decimal("1200")),
        (11_880_000_000, "USD", Decimal("118800000.00")),
    ],
)
def test_amount_has_the_currency_decimals(minor_units: int, currency: str, amount: Decimal) -> None:
    money = Money(minor_units, currency)
    assert money.amount == amount
    assert str(money.amount) == str(amount)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Decimal("2.5"), 3),
        (Decimal("2.4999"), 2),
        (Decimal("-2.5"), -3),
        (Decimal("0.5"), 1),
        (Decimal("95.3424657534246575"), 95),
        (Decimal(7), 7),
    ],
)
def test_round_half_up(value: Decimal, rounded: int) -> None:
    assert round_half_up(value) == rounded


def test_unknown_currency_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError) as raised:
        currency_exponent("XYZ")
    assert raised.value.code is ErrorCode.UNSUPPORTED_CURRENCY
    assert raised.value.field == "currency"


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot add"):
        Money(1, "USD") + Money(1, "EUR")
    assert Money(150, "USD") + Money(51, "USD") == Money(201, "USD")
