"""What an upgrade settles for the days before it: the old plan's share of the term.

An upgrade ends the old plan's part of the term on the change day (the credit line takes back
the rest), so the seats used above those paid on the days before the change are settled on
the upgrade's invoice at the old plan's price, for the share of the term those days make up:
the true-up of a term that ended on the change day. The days from the change count under the
new plan (its peak restarts at the count of the change day).
"""

from __future__ import annotations

from datetime import date

from billing.charges import Charge, ChargeKind, ChargeLine, Fraction, Item, Term
from billing.proration import prorate


def overage_before_upgrade(seats: int, peak_before: int, old: Item, term: Term, on: date) -> Charge:
    """The old plan's overage of the days [term.start, on), charged when upgrading on `on`.

    ``owed = max(0, peak_before - seats)`` and
    ``amount = owed x old price x (on - term.start).days / term_days``, rounded once, half
    up; no lines when nothing is owed or no day of the term has passed. `old.quantity` is
    ignored (the owed seats are the quantity). Example: 10 Premium seats paid, 12 used at
    most from 2026-03-15 to 2026-09-14, upgraded on 2026-09-15 in the term
    2026-03-15..2027-03-15 (184 of 365 days before the change): 2 x 34800 x 184 / 365 =
    35086.03 -> 35086 minor units (350.86 USD), fraction 184/365. `on` outside the term
    raises ValueError.
    """
    if not term.contains(on):
        raise ValueError(f"{on} is outside the term {term.start}..{term.end}")
    owed, used = max(0, peak_before - seats), (on - term.start).days
    currency = old.unit_price.currency
    if owed == 0 or used == 0:
        return Charge(currency, ())
    fraction = Fraction(used, term.days)
    line = ChargeLine(
        kind=ChargeKind.TRUE_UP,
        description=(
            f"{old.name} before the upgrade: {owed} x {old.name} seat used above the {seats} "
            f"paid, {term.start.isoformat()} to {on.isoformat()} ({fraction} of the term)"
        ),
        quantity=owed,
        unit_price=old.unit_price,
        amount=prorate(owed, old.unit_price, used, term.days),
        period_start=term.start,
        period_end=on,
        fraction=fraction,
    )
    return Charge(currency, (line,))
