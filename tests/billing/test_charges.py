"""Invoice lines of every billing event: worked examples with the dates written out, and
properties of the rounding (hypothesis)."""

from datetime import date, timedelta
from functools import reduce
from operator import add

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.charges import (
    WHOLE,
    Charge,
    ChargeKind,
    ChargeLine,
    Fraction,
    Item,
    Term,
    charge_plan_upgrade,
    charge_prorated,
    charge_term,
    is_twelve_months,
    quarter_ends,
    reconcile_quarter,
    true_up,
)
from billing.money import Money
from billing.terms import add_months

USD = "USD"
PREMIUM = 34800  # 348.00 USD a seat a year
ULTIMATE = 118800
YEAR_2026 = Term(date(2026, 3, 15), date(2027, 3, 15))  # 365 days
LEAP_2028 = Term(date(2028, 1, 1), date(2029, 1, 1))  # 366 days
OVER_LEAP_DAY = Term(date(2027, 3, 1), date(2028, 3, 1))  # 366 days, holds 2028-02-29
APRIL_2026 = Term(date(2026, 4, 1), date(2026, 5, 1))  # a monthly term of 30 days


def usd(minor_units: int) -> Money:
    return Money(minor_units, USD)


def seats(quantity: int, unit: int = PREMIUM, name: str = "Premium seat") -> Item:
    return Item(name, quantity, usd(unit))


# --- Term -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "days"),
    [(YEAR_2026, 365), (LEAP_2028, 366), (OVER_LEAP_DAY, 366), (APRIL_2026, 30)],
)
def test_term_days(term: Term, days: int) -> None:
    assert term.days == days


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2026, 3, 14), False),
        (date(2026, 3, 15), True),  # start belongs to the term
        (date(2027, 3, 14), True),
        (date(2027, 3, 15), False),  # end belongs to the next term
    ],
)
def test_a_term_is_half_open(day: date, inside: bool) -> None:
    assert YEAR_2026.contains(day) is inside


@pytest.mark.parametrize("end", [date(2026, 3, 15), date(2026, 3, 14)])
def test_a_term_must_end_after_it_starts(end: date) -> None:
    with pytest.raises(ValueError, match="must end after"):
        Term(date(2026, 3, 15), end)


# --- Charge -----------------------------------------------------------------------------


def test_a_total_is_the_sum_of_the_lines_also_across_plus() -> None:
    # given
    purchase = charge_term(ChargeKind.PURCHASE, [seats(10)], YEAR_2026)
    added = charge_prorated(ChargeKind.SEATS, seats(3), YEAR_2026, date(2026, 9, 15))
    # when
    both = purchase + added
    # then
    assert both.lines == purchase.lines + added.lines
    assert both.total == usd(348000 + 51771)
    assert Charge(USD, ()).total == usd(0)


def test_charges_in_different_currencies_do_not_add() -> None:
    euros = charge_term(
        ChargeKind.PURCHASE, [Item("Premium seat", 1, Money(32000, "EUR"))], YEAR_2026
    )
    with pytest.raises(ValueError, match="cannot add a EUR charge to a USD one"):
        charge_term(ChargeKind.PURCHASE, [seats(1)], YEAR_2026) + euros


def test_a_charge_holds_lines_of_its_own_currency_only() -> None:
    [line] = charge_term(ChargeKind.PURCHASE, [seats(1)], YEAR_2026).lines
    with pytest.raises(ValueError, match="a EUR charge cannot hold"):
        Charge("EUR", (line,))


# --- charge_term ------------------------------------------------------------------------


def test_a_purchase_line_reads_well() -> None:
    # when
    charge = charge_term(ChargeKind.PURCHASE, [seats(10)], YEAR_2026)
    # then
    assert charge == Charge(
        USD,
        (
            ChargeLine(
                kind=ChargeKind.PURCHASE,
                description="10 x Premium seat, 2026-03-15 to 2027-03-15",
                quantity=10,
                unit_price=usd(34800),
                amount=usd(348000),
                period_start=date(2026, 3, 15),
                period_end=date(2027, 3, 15),
                fraction=WHOLE,
            ),
        ),
    )


@pytest.mark.parametrize(
    ("kind", "items", "term", "amounts", "total"),
    [
        (ChargeKind.PURCHASE, [seats(10)], YEAR_2026, [348000], 348000),
        (
            ChargeKind.RENEWAL,
            [seats(12, ULTIMATE, "Ultimate seat"), seats(5, 22800, "Duo Pro seat")],
            LEAP_2028,  # a leap year costs the same: the price is per term
            [1425600, 114000],
            1539600,
        ),
        (ChargeKind.PURCHASE, [seats(0)], APRIL_2026, [0], 0),
    ],
)
def test_charge_term(
    kind: ChargeKind, items: list[Item], term: Term, amounts: list[int], total: int
) -> None:
    charge = charge_term(kind, items, term)
    assert [line.amount for line in charge.lines] == [usd(a) for a in amounts]
    assert {(line.kind, line.fraction) for line in charge.lines} == {(kind, WHOLE)}
    assert {(line.period_start, line.period_end) for line in charge.lines} == {
        (term.start, term.end)
    }
    assert charge.total == usd(total)


def test_charge_term_refuses_nothing_and_mixed_currencies() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        charge_term(ChargeKind.PURCHASE, [], YEAR_2026)
    with pytest.raises(ValueError, match="cannot hold"):
        charge_term(ChargeKind.PURCHASE, [seats(1), Item("Duo", 1, Money(100, "EUR"))], YEAR_2026)


# --- charge_prorated --------------------------------------------------------------------


def test_added_seats_line_reads_well() -> None:
    # when three seats are added half way through
    charge = charge_prorated(ChargeKind.SEATS, seats(3), YEAR_2026, date(2026, 9, 15))
    # then 3 x 34800 x 181 / 365 = 51770.96 -> 51771
    assert charge.lines == (
        ChargeLine(
            kind=ChargeKind.SEATS,
            description="3 x Premium seat added, 2026-09-15 to 2027-03-15 (181/365 of the term)",
            quantity=3,
            unit_price=usd(34800),
            amount=usd(51771),
            period_start=date(2026, 9, 15),
            period_end=date(2027, 3, 15),
            fraction=Fraction(181, 365),
        ),
    )


@pytest.mark.parametrize(
    ("item", "term", "on", "fraction", "amount"),
    [
        (seats(3), YEAR_2026, date(2026, 9, 15), (181, 365), 51771),  # 51770.96
        (seats(3), YEAR_2026, date(2026, 3, 15), (365, 365), 104400),  # start: full price
        (seats(3), YEAR_2026, date(2027, 3, 14), (1, 365), 286),  # last day: 286.03
        (seats(10), OVER_LEAP_DAY, date(2028, 2, 29), (1, 366), 951),  # 950.82
        (seats(10), OVER_LEAP_DAY, date(2027, 3, 1), (366, 366), 348000),
        (seats(1, 34801), LEAP_2028, date(2028, 7, 2), (183, 366), 17401),  # 17400.5 up
        (seats(1, 2901), APRIL_2026, date(2026, 4, 16), (15, 30), 1451),  # 1450.5 up
        (seats(1, 2901), APRIL_2026, date(2026, 4, 30), (1, 30), 97),  # 96.7
        (seats(0), YEAR_2026, date(2026, 9, 15), (181, 365), 0),
    ],
)
def test_charge_prorated(
    item: Item, term: Term, on: date, fraction: tuple[int, int], amount: int
) -> None:
    [line] = charge_prorated(ChargeKind.SEATS, item, term, on).lines
    assert line.fraction == Fraction(*fraction)
    assert line.amount == usd(amount)
    assert (line.period_start, line.period_end) == (on, term.end)


def test_an_add_on_bought_mid_term_is_prorated_like_seats() -> None:
    duo = Item("Duo Pro seat", 5, usd(22800))
    [line] = charge_prorated(ChargeKind.ADD_ON, duo, LEAP_2028, date(2028, 7, 1)).lines
    # 5 x 22800 x 184 / 366 = 57311.47 -> 57311
    assert (line.kind, line.fraction, line.amount) == (
        ChargeKind.ADD_ON,
        Fraction(184, 366),
        usd(57311),
    )


@pytest.mark.parametrize("on", [date(2026, 3, 14), date(2027, 3, 15), date(2028, 1, 1)])
def test_a_change_outside_the_term_is_refused(on: date) -> None:
    with pytest.raises(ValueError, match="outside the term"):
        charge_prorated(ChargeKind.SEATS, seats(1), YEAR_2026, on)
    with pytest.raises(ValueError, match="outside the term"):
        charge_plan_upgrade(1, seats(1), seats(1, ULTIMATE), YEAR_2026, on)


# --- charge_plan_upgrade ----------------------------------------------------------------


def test_an_upgrade_reads_well() -> None:
    # given 10 Premium seats
    old, new = seats(10), seats(10, ULTIMATE, "Ultimate seat")
    # when they move to Ultimate half way through
    charge = charge_plan_upgrade(10, old, new, YEAR_2026, date(2026, 9, 15))
    # then -(10 x 34800 x 181 / 365) = -172569.86 and 10 x 118800 x 181 / 365 = 589117.81
    rest = "for the rest of the term, 2026-09-15 to 2027-03-15 (181/365 of the term)"
    assert charge.lines == (
        ChargeLine(
            kind=ChargeKind.PLAN_CHANGE_CREDIT,
            description=f"Credit: 10 x Premium seat {rest}",
            quantity=10,
            unit_price=usd(34800),
            amount=usd(-172570),
            period_start=date(2026, 9, 15),
            period_end=date(2027, 3, 15),
            fraction=Fraction(181, 365),
        ),
        ChargeLine(
            kind=ChargeKind.PLAN_CHANGE_CHARGE,
            description=f"10 x Ultimate seat {rest}",
            quantity=10,
            unit_price=usd(118800),
            amount=usd(589118),
            period_start=date(2026, 9, 15),
            period_end=date(2027, 3, 15),
            fraction=Fraction(181, 365),
        ),
    )
    assert charge.total == usd(416548)


@pytest.mark.parametrize(
    ("count", "old", "new", "term", "on", "credit", "charge"),
    [
        (10, PREMIUM, ULTIMATE, YEAR_2026, date(2026, 3, 15), -348000, 1188000),  # start
        (10, PREMIUM, ULTIMATE, YEAR_2026, date(2027, 3, 14), -953, 3255),  # 1/365
        (10, PREMIUM, ULTIMATE, OVER_LEAP_DAY, date(2028, 2, 29), -951, 3246),  # 1/366
        # -17400.5 -> -17401 and 17401.5 -> 17402: the credit rounds away from zero too
        (1, 34801, 34803, LEAP_2028, date(2028, 7, 2), -17401, 17402),
        (1, 2901, 2903, APRIL_2026, date(2026, 4, 16), -1451, 1452),  # -1450.5, 1451.5
    ],
)
def test_charge_plan_upgrade(
    count: int, old: int, new: int, term: Term, on: date, credit: int, charge: int
) -> None:
    result = charge_plan_upgrade(count, seats(count, old), seats(count, new), term, on)
    assert [line.amount for line in result.lines] == [usd(credit), usd(charge)]
    assert result.total == usd(credit + charge)


def test_an_upgrade_needs_items_priced_for_the_seats_in_one_currency() -> None:
    on = date(2026, 9, 15)
    with pytest.raises(ValueError, match="priced for 10 seats"):
        charge_plan_upgrade(10, seats(10), seats(9, ULTIMATE), YEAR_2026, on)
    with pytest.raises(ValueError, match="same currency"):
        charge_plan_upgrade(1, seats(1), Item("Ultimate", 1, Money(1, "EUR")), YEAR_2026, on)


# --- quarter_ends and reconcile_quarter -------------------------------------------------


@pytest.mark.parametrize(
    ("start", "ends"),
    [
        (date(2026, 1, 31), (date(2026, 4, 30), date(2026, 7, 31), date(2026, 10, 31))),
        (date(2026, 3, 15), (date(2026, 6, 15), date(2026, 9, 15), date(2026, 12, 15))),
        (date(2028, 2, 29), (date(2028, 5, 29), date(2028, 8, 29), date(2028, 11, 29))),
    ],
)
def test_quarter_ends(start: date, ends: tuple[date, date, date]) -> None:
    assert quarter_ends(Term(start, add_months(start, 12))) == ends


@pytest.mark.parametrize(
    ("term", "twelve_months", "ends"),
    [
        # a year anchored on 2028-02-29, in a year that starts clamped: the 29th comes back
        (
            Term(date(2031, 2, 28), date(2032, 2, 29)),
            True,
            (date(2031, 5, 29), date(2031, 8, 29), date(2031, 11, 29)),
        ),
        (
            Term(date(2029, 2, 28), date(2030, 2, 28)),
            True,
            (date(2029, 5, 28), date(2029, 8, 28), date(2029, 11, 28)),
        ),
        # a month anchored on the 31st is no year
        (Term(date(2026, 2, 28), date(2026, 3, 31)), False, None),
        (Term(date(2026, 3, 15), date(2027, 3, 16)), False, None),
    ],
)
def test_twelve_month_terms_keep_their_anchor(
    term: Term, twelve_months: bool, ends: tuple[date, date, date] | None
) -> None:
    assert is_twelve_months(term) is twelve_months
    if ends is None:
        with pytest.raises(ValueError, match="12-month"):
            quarter_ends(term)
    else:
        assert quarter_ends(term) == ends


@pytest.mark.parametrize(
    "term",
    [
        APRIL_2026,
        Term(date(2028, 1, 1), date(2028, 12, 31)),
        Term(date(2026, 1, 1), date(2028, 1, 1)),
    ],
)
def test_quarters_need_a_twelve_month_term(term: Term) -> None:
    with pytest.raises(ValueError, match="12-month term"):
        quarter_ends(term)
    with pytest.raises(ValueError, match="12-month term"):
        reconcile_quarter(1, 10, 15, usd(PREMIUM), term)


@pytest.mark.parametrize(
    ("quarter", "paid", "peak", "unit", "overage", "amount", "since"),
    [
        (1, 10, 15, PREMIUM, 5, 130500, date(2026, 6, 15)),  # 5 x 34800 / 4 x 3
        (2, 10, 12, PREMIUM, 2, 34800, date(2026, 9, 15)),  # 2 x 34800 / 4 x 2
        (3, 10, 11, PREMIUM, 1, 8700, date(2026, 12, 15)),  # 1 x 34800 / 4 x 1
        (1, 10, 11, 34802, 1, 26102, date(2026, 6, 15)),  # 26101.5 up
        (3, 10, 11, 34802, 1, 8701, date(2026, 12, 15)),  # 8700.5 up
    ],
)
def test_reconcile_quarter_with_overage(
    quarter: int, paid: int, peak: int, unit: int, overage: int, amount: int, since: date
) -> None:
    found, charge = reconcile_quarter(quarter, paid, peak, usd(unit), YEAR_2026)
    [line] = charge.lines
    assert found == overage
    assert (line.kind, line.quantity, line.unit_price, line.amount) == (
        ChargeKind.RECONCILIATION,
        overage,
        usd(unit),
        usd(amount),
    )
    assert line.fraction == Fraction(4 - quarter, 4)
    assert (line.period_start, line.period_end) == (since, date(2027, 3, 15))


def test_a_reconciliation_line_reads_well() -> None:
    _, charge = reconcile_quarter(1, 10, 15, usd(PREMIUM), YEAR_2026)
    assert [line.description for line in charge.lines] == [
        "Quarter 1 overage: 5 seats x 3/4 of a year, 2026-06-15 to 2027-03-15"
    ]


@pytest.mark.parametrize(("quarter", "peak"), [(1, 10), (2, 7), (3, 0)])
def test_reconcile_quarter_without_overage(quarter: int, peak: int) -> None:
    assert reconcile_quarter(quarter, 10, peak, usd(PREMIUM), YEAR_2026) == (0, Charge(USD, ()))


@pytest.mark.parametrize("quarter", [0, 4])
def test_only_quarters_one_to_three_are_reconciled(quarter: int) -> None:
    with pytest.raises(ValueError, match="quarter must be 1, 2 or 3"):
        reconcile_quarter(quarter, 10, 15, usd(PREMIUM), YEAR_2026)


# --- true_up ----------------------------------------------------------------------------


def test_true_up_with_overage() -> None:
    # given 10 seats paid and at most 14 used in the term that ends
    # when
    charge = true_up(10, 14, usd(PREMIUM), YEAR_2026)
    # then the 4 extra seats are charged at the full price
    assert charge == Charge(
        USD,
        (
            ChargeLine(
                kind=ChargeKind.TRUE_UP,
                description="True-up: 4 seats used above the 10 paid, 2026-03-15 to 2027-03-15",
                quantity=4,
                unit_price=usd(34800),
                amount=usd(139200),
                period_start=date(2026, 3, 15),
                period_end=date(2027, 3, 15),
                fraction=WHOLE,
            ),
        ),
    )


@pytest.mark.parametrize(("used", "owed", "amount"), [(11, 1, 34800), (10, 0, 0), (3, 0, 0)])
def test_true_up(used: int, owed: int, amount: int) -> None:
    charge = true_up(10, used, usd(PREMIUM), LEAP_2028)
    assert [line.quantity for line in charge.lines] == ([owed] if owed else [])
    assert charge.total == usd(amount)


@pytest.mark.parametrize(
    ("since", "amount", "period_start", "fraction"),
    [
        # upgraded on 2026-09-15, 181 of 365 days left: 2 x 1188.00 x 181/365 = 1178.2356
        (date(2026, 9, 15), 117824, date(2026, 9, 15), Fraction(181, 365)),
        # on the last day: 2 x 1188.00 x 1/365 = 6.5096 -> 6.51
        (date(2027, 3, 14), 651, date(2027, 3, 14), Fraction(1, 365)),
        # on the start date, before it, or in another term: the whole term
        (date(2026, 3, 15), 237600, date(2026, 3, 15), WHOLE),
        (date(2026, 3, 1), 237600, date(2026, 3, 15), WHOLE),
        (date(2027, 3, 15), 237600, date(2026, 3, 15), WHOLE),
        (None, 237600, date(2026, 3, 15), WHOLE),
    ],
)
def test_true_up_after_an_upgrade_covers_the_days_from_it(
    since: date | None, amount: int, period_start: date, fraction: Fraction
) -> None:
    # given 10 seats paid and 12 used at the Ultimate price, upgraded on `since`
    [line] = true_up(10, 12, usd(ULTIMATE), YEAR_2026, since=since).lines
    # then the true-up covers the new plan's part of the term, rounded once, half up
    assert (line.amount, line.period_start, line.period_end, line.fraction) == (
        usd(amount),
        period_start,
        date(2027, 3, 15),
        fraction,
    )


# --- properties -------------------------------------------------------------------------

PRICES = st.integers(0, 10_000_000)
QUANTITIES = st.integers(0, 100_000)


@st.composite
def terms_and_days(draw: st.DrawFn, *, twelve_months: bool = False) -> tuple[Term, date]:
    """A term within 2024..2030 (monthly, yearly or any length up to 366 days) and a day in it."""
    start = draw(st.dates(date(2024, 1, 1), date(2029, 12, 31)))
    lengths = [add_months(start, 12)] if twelve_months else [add_months(start, m) for m in (1, 12)]
    end = draw(
        st.sampled_from(lengths)
        if twelve_months
        else st.one_of(
            st.sampled_from(lengths), st.integers(1, 366).map(lambda n: start + timedelta(n))
        )
    )
    term = Term(start, end)
    return term, start + timedelta(draw(st.integers(0, term.days - 1)))


@settings(max_examples=200)
@given(quantity=QUANTITIES, unit=PRICES, term_and_day=terms_and_days())
def test_a_whole_term_proration_is_the_full_price(
    quantity: int, unit: int, term_and_day: tuple[Term, date]
) -> None:
    term, _ = term_and_day
    charge = charge_prorated(ChargeKind.SEATS, seats(quantity, unit), term, term.start)
    assert charge.total == usd(quantity * unit)


@settings(max_examples=200)
@given(a=QUANTITIES, b=QUANTITIES, unit=PRICES, term_and_day=terms_and_days())
def test_adding_seats_in_two_steps_costs_the_same_within_a_minor_unit_per_line(
    a: int, b: int, unit: int, term_and_day: tuple[Term, date]
) -> None:
    term, on = term_and_day

    def cost(quantity: int) -> int:
        charge = charge_prorated(ChargeKind.SEATS, seats(quantity, unit), term, on)
        return charge.total.minor_units

    assert abs(cost(a) + cost(b) - cost(a + b)) <= 1


@st.composite
def charges(draw: st.DrawFn) -> Charge:
    """A charge from any of the functions, on a 12-month term."""
    term, on = draw(terms_and_days(twelve_months=True))
    count, peak, old, new = (draw(QUANTITIES), draw(QUANTITIES), draw(PRICES), draw(PRICES))
    return draw(
        st.sampled_from(
            [
                charge_term(ChargeKind.RENEWAL, [seats(count, old), seats(peak, new)], term),
                charge_prorated(ChargeKind.ADD_ON, seats(count, old), term, on),
                charge_plan_upgrade(count, seats(count, old), seats(count, new), term, on),
                reconcile_quarter(draw(st.integers(1, 3)), count, peak, usd(old), term)[1],
                true_up(count, peak, usd(new), term),
            ]
        )
    )


@settings(max_examples=200)
@given(parts=st.lists(charges(), min_size=1, max_size=4))
def test_a_total_is_the_sum_of_its_lines(parts: list[Charge]) -> None:
    combined: Charge = reduce(add, parts)
    for charge in [*parts, combined]:
        assert charge.total == usd(sum(line.amount.minor_units for line in charge.lines))
    assert combined.total == usd(sum(part.total.minor_units for part in parts))


@settings(max_examples=200)
@given(count=QUANTITIES, old=PRICES, new=PRICES, term_and_day=terms_and_days())
def test_an_upgrade_costs_the_price_difference_within_a_minor_unit(
    count: int, old: int, new: int, term_and_day: tuple[Term, date]
) -> None:
    # given a change of plan on a day of the term
    term, on = term_and_day
    # when
    credit, charge = charge_plan_upgrade(
        count, seats(count, old), seats(count, new), term, on
    ).lines
    # then credit + charge = count x (new - old) x remaining / term_days, within one minor unit
    remaining = (term.end - on).days
    assert credit.fraction == charge.fraction == Fraction(remaining, term.days)
    paid = credit.amount.minor_units + charge.amount.minor_units
    assert abs(paid * term.days - count * (new - old) * remaining) <= term.days
