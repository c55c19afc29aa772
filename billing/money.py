"""Exact money: integer minor units with an ISO 4217 currency; Decimal only in between."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billing.errors import ErrorCode, InvalidInputError

# ISO 4217 minor-unit exponents of the currencies the service bills in.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "JPY": 0,
}


def currency_exponent(currency: str, field: str = "currency") -> int:
    """Number of decimal places of `currency`'s minor unit: ``currency_exponent("USD") == 2``.

    Raises InvalidInputError(UNSUPPORTED_CURRENCY) for a code the service does not bill in.
    """
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise InvalidInputError(
            ErrorCode.UNSUPPORTED_CURRENCY,
            f"Currency {currency!r} is not supported; use one of "
            f"{', '.join(sorted(CURRENCY_EXPONENTS))}.",
            field,
        ) from None


def round_half_up(value: Decimal) -> int:
    """Round a Decimal amount of minor units to a whole minor unit, half up (away from zero).

    ``round_half_up(Decimal("2.5")) == 3``, ``round_half_up(Decimal("-2.5")) == -3``,
    ``round_half_up(Decimal("2.49")) == 2``.
    """
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units: ``Money(34800, "USD").amount == Decimal("348.00")``."""

    minor_units: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor_units, int) or isinstance(self.minor_units, bool):
            raise TypeError("Money.minor_units must be an int")
        currency_exponent(self.currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units with exactly the currency's number of decimal places."""
        exponent = currency_exponent(self.currency)
        return Decimal(self.minor_units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))

    def __add__(self, other: Money) -> Money:
        if self.currency != other.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.minor_units + other.minor_units, self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)
