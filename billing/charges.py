"""What each billing event charges, as invoice lines a customer can check by hand.

Every line says what it is for (kind, quantity, unit price, period, proration fraction) and
its amount is rounded once, half up (away from zero), to the minor unit; a charge's total is
the sum of its rounded lines. Terms are half-open date ranges [start, end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from billing.money import Money
from billing.proration import prorate, remaining_days
from billing.terms import add_months


class ChargeKind(StrEnum):
    """What a charge line is for."""

    PURCHASE = "purchase"
    SEATS = "seats"
    PLAN_CHANGE_CREDIT = "plan_change_credit"
    PLAN_CHANGE_CHARGE = "plan_change_charge"
    RENEWAL = "renewal"
    TRUE_UP = "true_up"
    RECONCILIATION = "reconciliation"
    ADD_ON = "add_on"


@dataclass(frozen=True, slots=True)
class Term:
    """The half-open date range [start, end): 2026-03-15..2027-03-15 has 365 days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"a term must end after it starts: {self.start}..{self.end}")

    @property
    def days(self) -> int:
        """``(end - start).days``: 366 for 2028-01-01..2029-01-01."""
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        """``start <= day < end``: the end date belongs to the next term."""
        return self.start <= day < self.end


@dataclass(frozen=True, slots=True)
class Fraction:
    """The share of a term a line pays for, shown unreduced (181/365); a whole term is 1/1."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.denominator <= 0 or self.numerator < 0:
            raise ValueError(f"invalid fraction {self.numerator}/{self.denominator}")

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


WHOLE = Fraction(1, 1)


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One invoice line: ``amount = quantity x unit_price x fraction``, rounded once, half up.

    A credit has a positive quantity and unit price and a negative amount.
    """

    kind: ChargeKind
    description: str
    quantity: int
    unit_price: Money
    amount: Money
    period_start: date
    period_end: date
    fraction: Fraction


@dataclass(frozen=True, slots=True)
class Charge:
    """The lines one billing event produces, all in one currency; it may have no lines."""

    currency: str
    lines: tuple[ChargeLine, ...]

    def __post_init__(self) -> None:
        for line in self.lines:
            if {line.amount.currency, line.unit_price.currency} != {self.currency}:
                raise ValueError(f"a {self.currency} charge cannot hold line {line.description!r}")

    @property
    def total(self) -> Money:
        """The sum of the already rounded line amounts: lines of 51771 and -17401 total 34370."""
        return Money(sum(line.amount.minor_units for line in self.lines), self.currency)

    def __add__(self, other: Charge) -> Charge:
        """Both charges' lines, in order, as one charge; ValueError across currencies."""
        if other.currency != self.currency:
            raise ValueError(f"cannot add a {other.currency} charge to a {self.currency} one")
        return Charge(self.currency, self.lines + other.lines)


@dataclass(frozen=True, slots=True)
class Item:
    """Something priced per unit for a whole term: a name, how many, the catalog price of one."""

    name: str
    quantity: int
    unit_price: Money

    def __post_init__(self) -> None:
        if self.quantity < 0:
            raise ValueError(f"{self.name}: quantity cannot be negative ({self.quantity})")


def _period(start: date, end: date) -> str:
    return f"{start.isoformat()} to {end.isoformat()}"


def _seats(count: int) -> str:
    return f"{count} seat" if count == 1 else f"{count} seats"


def charge_term(kind: ChargeKind, items: Sequence[Item], term: Term) -> Charge:
    """One whole-term line per item, each of kind `kind` (a PURCHASE or a RENEWAL).

    ``amount = quantity x unit price``, fraction 1/1, period = the term. Example: 10 Premium
    seats at 348.00 USD for 2026-03-15..2027-03-15 give one line "10 x Premium seat,
    2026-03-15 to 2027-03-15" of 10 x 34800 = 348000 minor units. Integer minor units times
    an integer quantity, so nothing needs rounding. At least one item is required (it names
    the currency); items in different currencies raise ValueError.
    """
    if not items:
        raise ValueError("a term charge needs at least one item")
    lines = tuple(
        ChargeLine(
            kind=kind,
            description=f"{item.quantity} x {item.name}, {_period(term.start, term.end)}",
            quantity=item.quantity,
            unit_price=item.unit_price,
            amount=Money(item.quantity * item.unit_price.minor_units, item.unit_price.currency),
            period_start=term.start,
            period_end=term.end,
            fraction=WHOLE,
        )
        for item in items
    )
    return Charge(items[0].unit_price.currency, lines)


def charge_prorated(kind: ChargeKind, item: Item, term: Term, on: date) -> Charge:
    """One line for `item` bought on `on` for the rest of the term (SEATS or ADD_ON).

    ``amount = quantity x unit price x remaining / term_days`` with
    ``remaining = (term.end - on).days``, rounded once, half up. Example: 3 seats at 348.00 USD
    added on 2026-09-15 to the term 2026-03-15..2027-03-15: 3 x 34800 x 181 / 365 = 51770.96
    -> 51771 minor units, fraction 181/365, period 2026-09-15..2027-03-15. On the start date
    the line costs the full price (365/365); on the last day 1/365. `on` outside the term
    raises ValueError.
    """
    remaining, term_days = remaining_days(term.start, term.end, on)
    fraction = Fraction(remaining, term_days)
    line = ChargeLine(
        kind=kind,
        description=(
            f"{item.quantity} x {item.name} added, {_period(on, term.end)} ({fraction} of the term)"
        ),
        quantity=item.quantity,
        unit_price=item.unit_price,
        amount=prorate(item.quantity, item.unit_price, remaining, term_days),
        period_start=on,
        period_end=term.end,
        fraction=fraction,
    )
    return Charge(item.unit_price.currency, (line,))


def charge_plan_upgrade(seats: int, old: Item, new: Item, term: Term, on: date) -> Charge:
    """A credit for the old plan and a charge for the new one, for the rest of the term.

    Both items must have ``quantity == seats`` and the same currency (ValueError otherwise);
    whether the change is an upgrade is the caller's decision (downgrades wait for renewal).
    Credit ``-(seats x old price x remaining / term_days)``, rounded half up on the absolute
    value and then negated, so credit and charge round alike; charge
    ``seats x new price x remaining / term_days``, rounded once, half up. Example: 10 seats
    moved from Premium (348.00 USD) to Ultimate (1188.00 USD) on 2026-09-15 in the term
    2026-03-15..2027-03-15: credit -(10 x 34800 x 181 / 365) = -172569.86 -> -172570 and
    charge 10 x 118800 x 181 / 365 = 589117.81 -> 589118, total 416548 minor units.
    """
    if old.quantity != seats or new.quantity != seats:
        raise ValueError(f"both plans must be priced for {seats} seats, as `seats` says")
    if old.unit_price.currency != new.unit_price.currency:
        raise ValueError("the old and new plans must be priced in the same currency")
    remaining, term_days = remaining_days(term.start, term.end, on)
    fraction = Fraction(remaining, term_days)
    rest = f"for the rest of the term, {_period(on, term.end)} ({fraction} of the term)"
    currency = old.unit_price.currency
    lines = tuple(
        ChargeLine(
            kind=kind,
            description=f"{prefix}{seats} x {item.name} {rest}",
            quantity=seats,
            unit_price=item.unit_price,
            amount=Money(
                sign * prorate(seats, item.unit_price, remaining, term_days).minor_units, currency
            ),
            period_start=on,
            period_end=term.end,
            fraction=fraction,
        )
        for kind, prefix, item, sign in (
            (ChargeKind.PLAN_CHANGE_CREDIT, "Credit: ", old, -1),
            (ChargeKind.PLAN_CHANGE_CHARGE, "", new, 1),
        )
    )
    return Charge(currency, lines)


def quarter_ends(term: Term) -> tuple[date, date, date]:
    """The ends of quarters 1, 2 and 3 of a 12-month term: 3, 6 and 9 months after its start.

    Days past a short month's end are clamped: a term starting 2026-01-31 gives 2026-04-30,
    2026-07-31 and 2026-10-31. A term anchored on the 29th of February that starts clamped
    (2031-02-28..2032-02-29) keeps its anchor: 2031-05-29, 2031-08-29, 2031-11-29. A term
    that is not 12 months long raises ValueError.
    """
    if not is_twelve_months(term):
        raise ValueError(f"quarters need a 12-month term, not {term.start}..{term.end}")
    anchor = _anchor(term)
    first, second, third = (add_months(term.start, months, anchor) for months in (3, 6, 9))
    return first, second, third


def _anchor(term: Term) -> int:
    """The day of the month the term is anchored on: its start's, or a later one its end
    shows when the start was clamped to a month's last day (2031-02-28..2032-02-29: 29)."""
    start = term.start
    clamped = add_months(start, 0, 31) == start
    return max(start.day, term.end.day) if clamped else start.day


def is_twelve_months(term: Term) -> bool:
    """Whether the term is one year on its anchor day: 2026-03-15..2027-03-15 and
    2031-02-28..2032-02-29 (anchored on the 29th) are; 2026-03-15..2026-04-15 and
    2026-03-15..2027-03-16 are not."""
    return term.end == add_months(term.start, 12, _anchor(term))


def reconcile_quarter(
    quarter: int, seats: int, quarter_peak: int, unit_price: Money, term: Term
) -> tuple[int, Charge]:
    """(overage, charge) at the end of quarter 1, 2 or 3 of a 12-month term.

    ``overage = max(0, quarter_peak - seats)``; the charge is
    ``overage x unit price / 4 x (4 - quarter)``, rounded once, half up, for the period from
    the quarter's end to the term's end, and has no lines when there is no overage. The
    caller raises the subscription's seats by the overage. Example: 10 seats, a peak of 15 in
    quarter 1 at 348.00 USD a year: overage 5, 5 x 34800 / 4 x 3 = 130500 minor units,
    fraction 3/4. ValueError for a quarter outside 1..3 or a term that is not 12 months.
    """
    if not 1 <= quarter <= 3:
        raise ValueError(f"quarter must be 1, 2 or 3, not {quarter}")
    quarter_end = quarter_ends(term)[quarter - 1]
    overage = max(0, quarter_peak - seats)
    if overage == 0:
        return 0, Charge(unit_price.currency, ())
    left = 4 - quarter
    line = ChargeLine(
        kind=ChargeKind.RECONCILIATION,
        description=(
            f"Quarter {quarter} overage: {_seats(overage)} x {left}/4 of a year, "
            f"{_period(quarter_end, term.end)}"
        ),
        quantity=overage,
        unit_price=unit_price,
        amount=prorate(overage, unit_price, left, 4),
        period_start=quarter_end,
        period_end=term.end,
        fraction=Fraction(left, 4),
    )
    return overage, Charge(unit_price.currency, (line,))


def true_up(
    seats: int, max_seats_used: int, unit_price: Money, term: Term, *, since: date | None = None
) -> Charge:
    """The annual true-up for the term that ends: seats used above those paid, at full price.

    ``max(0, max_seats_used - seats) x unit price``, fraction 1/1, period = the term; no
    lines when nothing is owed. Integer arithmetic, so nothing needs rounding. Example: 10
    seats paid, 14 used at most, 348.00 USD a year: "True-up: 4 seats used above the 10 paid"
    of 4 x 34800 = 139200 minor units.

    After an upgrade on `since` (inside the term, after its start) the plan's part of the term
    is the days from `since`, the days before having been settled at the old plan's price: the
    true-up is ``owed x unit price x (term.end - since).days / term_days``, rounded once, half
    up, for ``since..term.end``. Example: 2 seats over at 1188.00 USD after an upgrade on
    2026-09-15 in 2026-03-15..2027-03-15: 2 x 118800 x 181 / 365 = 117823.56 -> 117824.
    """
    owed = max(0, max_seats_used - seats)
    if owed == 0:
        return Charge(unit_price.currency, ())
    start = since if since is not None and term.start < since < term.end else term.start
    days = (term.end - start).days
    fraction = WHOLE if start == term.start else Fraction(days, term.days)
    line = ChargeLine(
        kind=ChargeKind.TRUE_UP,
        description=(
            f"True-up: {_seats(owed)} used above the {seats} paid, {_period(start, term.end)}"
            + ("" if fraction is WHOLE else f" ({fraction} of the term)")
        ),
        quantity=owed,
        unit_price=unit_price,
        amount=prorate(owed, unit_price, days, term.days),
        period_start=start,
        period_end=term.end,
        fraction=fraction,
    )
    return Charge(unit_price.currency, (line,))
