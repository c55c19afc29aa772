"""What seats over the paid count will cost, and when: the charge a subscription makes for them
by itself (the next quarterly reconciliation, or the true-up at the end of the term) and, beside
it, what buying them now would cost. Pure: the same figures serve a namespace's members preview
and any count an instance reports."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from billing.charges import (
    ChargeKind,
    ChargeLine,
    Item,
    Term,
    charge_prorated,
    is_twelve_months,
    quarter_ends,
    reconcile_quarter,
    true_up,
)
from billing.money import Money


@dataclass(frozen=True, slots=True)
class DueCharge:
    """A charge the subscription makes on `on` without anyone asking, as its invoice line."""

    on: date
    line: ChargeLine


@dataclass(frozen=True, slots=True)
class SeatChargePreview:
    billable_now: int
    billable_after: int
    peak: int  # the term's highest count so far, today's included (today's before it starts)
    covered: int  # billable users up to this cost nothing more: max(seats, peak)
    new_seats_owed: int
    due: DueCharge | None  # what the owed seats will be charged, and when; None if never
    buy_now: DueCharge | None  # what buying them today (subscriptionAddSeats) would charge

    @property
    def will_incur_charge(self) -> bool:
        return self.due is not None


def preview_seat_charge(
    *,
    seat: Item,
    seats: int,
    max_seats_used: int,
    billable_now: int,
    billable_after: int,
    paid: bool,
    quarterly: bool,
    term: Term,
    today: date,
    plan_changed_on: date | None = None,
) -> SeatChargePreview:
    """What going from `billable_now` to `billable_after` billable users costs a subscription
    with `seats` paid and a peak of `max_seats_used` so far in `term` (`seat` names the plan and
    the price of one seat for the term; its quantity is ignored). `today` is before the term's
    end; it may be before its start (a subscription bought to start later: the users there on
    the start day count).

    Seats above ``covered = max(seats, peak)`` are owed (none on free and trial plans). They
    are charged, unless bought before:

    - with quarterly reconciliation, at the end of the quarter `today` is in (the first one
      before the term starts): ``owed x price / 4 x quarters left`` (3, 2, 1), rounded once,
      half up; in the fourth quarter nothing is charged for them in this term;
    - otherwise at the true-up on the term's end date: ``owed x price``, or after an upgrade
      on `plan_changed_on` for the days from it: ``owed x price x days from it / term_days``
      (the true-up of the new plan's part of the term, see `billing.charges.true_up`).

    Buying them now costs what `subscriptionAddSeats` charges today: ``owed x price x
    remaining / term_days`` from today (from the start date, before the term starts: the whole
    term), rounded once, half up.

    Example: 10 seats at 348.00 USD a year on 2026-03-15..2027-03-15, quarterly, 10 billable
    and 11 after on 2026-03-25: 1 seat owed, charged 1 x 34800 / 4 x 3 = 26100 (261.00) on
    2026-06-15, the end of quarter 1; bought now 1 x 34800 x 355 / 365 = 33846.57 -> 33847
    (338.47). Without quarterly reconciliation the seat is charged 348.00 on 2027-03-15.
    """
    started = today >= term.start
    peak = max(max_seats_used, billable_now) if started else billable_now
    covered = max(seats, peak)
    owed = max(0, billable_after - covered) if paid else 0
    due = buy_now = None
    if owed:
        on = max(today, term.start)
        bought = charge_prorated(ChargeKind.SEATS, Item(seat.name, owed, seat.unit_price), term, on)
        buy_now = DueCharge(today, bought.lines[0])  # invoiced today, for the days from `on`
        due = _charged_later(
            owed, covered, seat.unit_price, term, on, quarterly=quarterly, since=plan_changed_on
        )
    return SeatChargePreview(
        billable_now=billable_now,
        billable_after=billable_after,
        peak=peak,
        covered=covered,
        new_seats_owed=owed,
        due=due,
        buy_now=buy_now,
    )


def _charged_later(
    owed: int,
    covered: int,
    unit_price: Money,
    term: Term,
    on: date,
    *,
    quarterly: bool,
    since: date | None,
) -> DueCharge | None:
    if not quarterly:
        [line] = true_up(covered, covered + owed, unit_price, term, since=since).lines
        description = (
            f"True-up: {owed} more seat{'s' if owed != 1 else ''} used above the {covered} "
            f"already paid or owed, {line.period_start.isoformat()} to {term.end.isoformat()}"
        )
        return DueCharge(term.end, replace(line, description=description))
    if not is_twelve_months(term):
        return None  # reconciled quarterly only on annual terms; never trued up
    ends = quarter_ends(term)
    quarter = 1 + sum(end <= on for end in ends)
    if quarter == 4:
        return None
    _, charge = reconcile_quarter(quarter, covered, covered + owed, unit_price, term)
    return DueCharge(ends[quarter - 1], charge.lines[0])
