"""Proration by day over a term."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.money import Money, round_half_up


def remaining_days(term_start: date, term_end: date, change_date: date) -> tuple[int, int]:
    """(days from `change_date` to the end of the term, days in the term), for a change
    inside the term [term_start, term_end). Example: a term 2026-03-15..2027-03-15 changed on
    2026-09-15 gives (181, 365)."""
    if not term_start <= change_date < term_end:
        raise ValueError(f"{change_date} is outside the term {term_start}..{term_end}")
    return (term_end - change_date).days, (term_end - term_start).days


def prorate(quantity: int, unit_price: Money, remaining: int, term_days: int) -> Money:
    """`quantity x unit price x remaining / term_days`, rounded once, half up, to the minor unit.

    Example: 3 seats at 348.00 USD with 181 of 365 days left cost
    3 x 34800 x 181 / 365 = 51770.958... -> 51771 minor units (517.71 USD).
    A whole term (remaining == term_days) costs exactly `quantity x unit price`.
    """
    exact = Decimal(quantity * unit_price.minor_units) * remaining / term_days
    return Money(round_half_up(exact), unit_price.currency)
