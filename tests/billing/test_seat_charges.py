"""What seats over the paid count will cost, and when (billing.seat_charges): dates passed in."""

from datetime import date

import pytest

from billing.charges import ChargeKind, Item, Term, charge_prorated
from billing.money import Money
from billing.seat_charges import SeatChargePreview, preview_seat_charge

USD = "USD"
PREMIUM = Item("Premium seat", 1, Money(34800, USD))
YEAR = Term(date(2026, 3, 15), date(2027, 3, 15))


def preview(
    *,
    seats: int = 10,
    peak: int = 10,
    now: int = 10,
    after: int = 11,
    quarterly: bool = False,
    paid: bool = True,
    today: date = date(2026, 3, 25),
    term: Term = YEAR,
    plan_changed_on: date | None = None,
) -> SeatChargePreview:
    return preview_seat_charge(
        seat=PREMIUM,
        seats=seats,
        max_seats_used=peak,
        billable_now=now,
        billable_after=after,
        paid=paid,
        quarterly=quarterly,
        term=term,
        today=today,
        plan_changed_on=plan_changed_on,
    )


def test_worked_example_quarterly() -> None:
    got = preview(quarterly=True)
    assert (got.new_seats_owed, got.covered, got.will_incur_charge) == (1, 10, True)
    assert got.due is not None
    assert got.due.on == date(2026, 6, 15)
    line = got.due.line
    assert (line.kind, line.quantity, line.amount) == (
        ChargeKind.RECONCILIATION,
        1,
        Money(26100, USD),
    )
    assert (str(line.fraction), line.period_start, line.period_end) == (
        "3/4",
        date(2026, 6, 15),
        date(2027, 3, 15),
    )
    assert got.buy_now is not None
    assert got.buy_now.on == date(2026, 3, 25)
    # 1 x 34800 x 355 / 365 = 33846.575... -> 33847
    assert (got.buy_now.line.amount, str(got.buy_now.line.fraction)) == (
        Money(33847, USD),
        "355/365",
    )


@pytest.mark.parametrize(
    ("today", "on", "quarters_left", "amount"),
    [
        (date(2026, 3, 15), date(2026, 6, 15), 3, 26100),  # the term's first day
        (date(2026, 6, 14), date(2026, 6, 15), 3, 26100),  # the last day of quarter 1
        (date(2026, 6, 15), date(2026, 9, 15), 2, 17400),  # a quarter's end opens the next
        (date(2026, 12, 14), date(2026, 12, 15), 1, 8700),
        (date(2026, 1, 10), date(2026, 6, 15), 3, 26100),  # before the term starts
    ],
)
def test_quarterly_charge_comes_at_the_end_of_the_quarter(
    today: date, on: date, quarters_left: int, amount: int
) -> None:
    got = preview(quarterly=True, today=today)
    assert got.due is not None
    assert (got.due.on, got.due.line.fraction.numerator, got.due.line.amount) == (
        on,
        quarters_left,
        Money(amount, USD),
    )


def test_quarterly_fourth_quarter_charges_nothing_this_term() -> None:
    got = preview(quarterly=True, today=date(2026, 12, 15))
    assert (got.new_seats_owed, got.due, got.will_incur_charge) == (1, None, False)
    assert got.buy_now is not None
    assert got.buy_now.line.amount == Money(8581, USD)  # 34800 x 90 / 365 = 8580.82


def test_annual_true_up_is_charged_at_full_price_on_the_end_date() -> None:
    got = preview(seats=10, peak=12, now=11, after=14, today=date(2026, 9, 15))
    assert (got.peak, got.covered, got.new_seats_owed) == (12, 12, 2)
    assert got.due is not None
    assert got.due.on == date(2027, 3, 15)
    assert (got.due.line.kind, got.due.line.amount, str(got.due.line.fraction)) == (
        ChargeKind.TRUE_UP,
        Money(69600, USD),
        "1/1",
    )


def test_before_the_term_starts_seats_over_are_owed_and_bought_for_the_whole_term() -> None:
    # an earlier peak is not of this term: only today's count is covered
    got = preview(seats=10, peak=15, now=10, after=12, today=date(2026, 2, 1))
    assert (got.peak, got.covered, got.new_seats_owed) == (10, 10, 2)
    assert got.due is not None
    assert (got.due.on, got.due.line.amount) == (date(2027, 3, 15), Money(69600, USD))
    assert got.buy_now is not None
    assert (got.buy_now.on, got.buy_now.line.amount) == (date(2026, 2, 1), Money(69600, USD))
    assert got.buy_now.line.period_start == date(2026, 3, 15)


@pytest.mark.parametrize(
    ("seats", "peak", "now", "after", "paid", "owed"),
    [
        (10, 0, 0, 10, True, 0),  # exactly the seats bought: no charge
        (10, 0, 0, 11, True, 1),
        (10, 12, 12, 12, True, 0),  # already owed at true-up: not charged twice
        (10, 12, 12, 13, True, 1),
        (10, 9, 13, 13, True, 0),  # today's count is part of the peak
        (10, 0, 0, 50, False, 0),  # free or trial
    ],
)
def test_a_charge_comes_exactly_above_seats_and_peak(
    seats: int, peak: int, now: int, after: int, paid: bool, owed: int
) -> None:
    got = preview(seats=seats, peak=peak, now=now, after=after, paid=paid, today=YEAR.start)
    assert got.new_seats_owed == owed
    assert got.will_incur_charge is (owed > 0)
    if owed == 0:
        assert (got.due, got.buy_now) == (None, None)
        return
    assert got.due is not None
    assert got.buy_now is not None
    assert got.due.line.amount == Money(owed * 34800, USD)
    assert got.buy_now.line.amount == Money(owed * 34800, USD)  # changed on the start date


@pytest.mark.parametrize("today", [date(2026, 3, 15), date(2026, 9, 15), date(2027, 3, 14)])
def test_buying_now_is_what_adding_the_seats_charges(today: date) -> None:
    got = preview(after=13, today=today)
    added = charge_prorated(
        ChargeKind.SEATS, Item("Premium seat", 3, Money(34800, USD)), YEAR, today
    )
    assert got.buy_now is not None
    assert (got.buy_now.on, got.buy_now.line) == (today, added.lines[0])


def test_quarterly_needs_an_annual_term_else_nothing_is_charged() -> None:
    month = Term(date(2026, 3, 15), date(2026, 4, 15))
    got = preview(quarterly=True, term=month)
    assert (got.new_seats_owed, got.due) == (1, None)


def test_a_year_anchored_on_the_29th_is_reconciled_like_the_job_does() -> None:
    # 2031-02-28..2032-02-29 is a year anchored on the 29th (bought on 2028-02-29): the job
    # reconciles it, so the preview quotes quarter 1, ending 2031-05-29: 1 x 348.00 / 4 x 3
    term = Term(date(2031, 2, 28), date(2032, 2, 29))
    got = preview(quarterly=True, term=term, today=date(2031, 3, 10))
    assert got.due is not None
    assert (got.due.on, got.due.line.amount) == (date(2031, 5, 29), Money(26100, USD))


def test_after_an_upgrade_the_true_up_covers_the_days_from_it() -> None:
    # upgraded on 2026-09-15, 181 of 365 days left: 1 x 348.00 x 181/365 = 172.5699 -> 172.57
    got = preview(today=date(2026, 10, 1), plan_changed_on=date(2026, 9, 15))
    assert got.due is not None
    line = got.due.line
    assert (got.due.on, line.kind, line.amount, str(line.fraction)) == (
        date(2027, 3, 15),
        ChargeKind.TRUE_UP,
        Money(17257, USD),
        "181/365",
    )
    assert (line.period_start, line.period_end) == (date(2026, 9, 15), date(2027, 3, 15))
