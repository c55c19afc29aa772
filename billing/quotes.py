"""What a new purchase costs: validation of the request and its invoice-style lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing.charges import ChargeKind, ChargeLine, Item, Term, charge_term
from billing.errors import ErrorCode, InvalidInputError
from billing.money import Money
from billing.terms import BillingPeriod, term_end

MIN_SEATS = 1
MAX_SEATS = 100_000
MAX_ADD_ON_QUANTITY = 100_000
MAX_ADD_ONS = 20  # distinct add-ons in one purchase; the catalog has a handful


@dataclass(frozen=True, slots=True)
class AddOnRequest:
    """An add-on the buyer asks for, as sent: `code` and `quantity`."""

    code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    billing_period: BillingPeriod
    start_date: date
    end_date: date
    lines: tuple[ChargeLine, ...]
    total: Money


def validate_purchase(
    *, seats: int, add_ons: Sequence[AddOnRequest], start_date: date, today: date
) -> None:
    """Reject a purchase request whose numbers cannot be sold, naming the first bad field.

    Seats must be 1..100000, at most 20 add-ons, each quantity 1..100000, each add-on once, and
    the term cannot start before `today`.
    """
    if seats < MIN_SEATS:
        raise InvalidInputError(
            ErrorCode.SEATS_BELOW_MINIMUM, f"Seats must be at least {MIN_SEATS}.", "seats"
        )
    if seats > MAX_SEATS:
        raise InvalidInputError(
            ErrorCode.SEATS_ABOVE_MAXIMUM,
            f"Seats cannot exceed {MAX_SEATS}; contact sales for larger deals.",
            "seats",
        )
    if len(add_ons) > MAX_ADD_ONS:
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE, f"At most {MAX_ADD_ONS} add-ons per purchase.", "addOns"
        )
    seen: set[str] = set()
    for index, add_on in enumerate(add_ons):
        field = f"addOns.{index}"
        if add_on.code in seen:
            raise InvalidInputError(
                ErrorCode.DUPLICATE_ADD_ON,
                f"Add-on {add_on.code!r} is listed more than once.",
                f"{field}.code",
            )
        seen.add(add_on.code)
        if add_on.quantity < 1:
            raise InvalidInputError(
                ErrorCode.QUANTITY_BELOW_MINIMUM,
                "Quantity must be at least 1.",
                f"{field}.quantity",
            )
        if add_on.quantity > MAX_ADD_ON_QUANTITY:
            raise InvalidInputError(
                ErrorCode.QUANTITY_ABOVE_MAXIMUM,
                f"Quantity cannot exceed {MAX_ADD_ON_QUANTITY}.",
                f"{field}.quantity",
            )
    if start_date < today:
        raise InvalidInputError(
            ErrorCode.START_DATE_IN_PAST,
            f"The term cannot start before today ({today.isoformat()}).",
            "startDate",
        )


def price_purchase(
    *,
    plan: Item,
    add_ons: Sequence[Item],
    start_date: date,
    billing_period: BillingPeriod,
) -> Quote:
    """Lines and total of a new purchase: each item costs `quantity x unit price` for the
    whole term (`billing.charges.charge_term`), a PURCHASE line for the plan's seats and an
    ADD_ON line per add-on.

    No proration: a purchase always buys a whole term. Example: 10 Premium seats at 348.00 USD a
    year plus 10 Duo Pro seats at 228.00 give lines of 3480.00 and 2280.00, total 5760.00 USD.
    Amounts are integer minor units, so nothing needs rounding.
    """
    term = Term(start_date, term_end(start_date, billing_period))
    charge = charge_term(ChargeKind.PURCHASE, [plan], term)
    if add_ons:
        charge += charge_term(ChargeKind.ADD_ON, add_ons, term)
    return Quote(charge.currency, billing_period, term.start, term.end, charge.lines, charge.total)
