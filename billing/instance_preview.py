"""Would adding users to a self-managed instance cost money, and how much? The one answer
both an online instance (asking the service) and an air-gapped one (reading its license)
get: the license carries `SeatTerms`, and `preview_users_change` computes from them and the
instance's own counts with the same rules as a namespace's members preview
(`billing.seat_charges`). Standard library only, so an instance can run it offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from billing.charges import Item, Term
from billing.errors import ErrorCode, InvalidInputError
from billing.money import Money
from billing.seat_charges import SeatChargePreview, preview_seat_charge

MAX_ADD = 10_000_000


class InstanceRole(StrEnum):
    """The highest role the added users get (GitLab's roles)."""

    MINIMAL_ACCESS = "minimal_access"
    GUEST = "guest"
    PLANNER = "planner"
    REPORTER = "reporter"
    DEVELOPER = "developer"
    MAINTAINER = "maintainer"
    OWNER = "owner"


class Reconciliation(StrEnum):
    QUARTERLY = "quarterly"  # seats over the paid ones charged at each quarter's end
    TRUE_UP = "true_up"  # charged at full price at the renewal


@dataclass(frozen=True, slots=True)
class SeatTerms:
    """What a license says about the price of seats over the paid count: the plan's name and
    the price of one seat for the term (minor units), the term, how overage is charged,
    whether the plan is paid and whether guests are free on it."""

    plan_name: str
    seat_price: Money
    term: Term
    reconciliation: Reconciliation
    paid: bool
    guests_free: bool
    plan_changed_on: date | None = None

    def claims(self) -> dict[str, Any]:
        """The license's `seat_terms` claim (the term is the license's own dates)."""
        return {
            "plan_name": self.plan_name,
            "seat_price": self.seat_price.minor_units,
            "currency": self.seat_price.currency,
            "reconciliation": self.reconciliation.value,
            "paid": self.paid,
            "guests_free": self.guests_free,
            "plan_changed_on": self.plan_changed_on.isoformat() if self.plan_changed_on else None,
        }

    @classmethod
    def from_claims(cls, claim: dict[str, Any], term: Term) -> SeatTerms:
        """Read the claim back; KeyError, TypeError or ValueError when malformed."""
        price = claim["seat_price"]
        if not isinstance(price, int) or isinstance(price, bool) or price < 0:
            raise ValueError("seat_terms.seat_price must be a whole number")
        changed = claim.get("plan_changed_on")
        return cls(
            plan_name=str(claim["plan_name"]),
            seat_price=Money(price, str(claim["currency"])),
            term=term,
            reconciliation=Reconciliation(claim["reconciliation"]),
            paid=bool(claim["paid"]),
            guests_free=bool(claim["guests_free"]),
            plan_changed_on=date.fromisoformat(changed) if changed else None,
        )


@dataclass(frozen=True, slots=True)
class UsersChangePreview:
    billable_now: int
    billable_after: int
    seats: int
    charge: SeatChargePreview | None  # None once the term has ended


def takes_seat(role: InstanceRole, *, guests_free: bool) -> bool:
    """Minimal Access never takes a seat; Guest takes none where guests are free (Ultimate)."""
    if role is InstanceRole.MINIMAL_ACCESS:
        return False
    return not (guests_free and role is InstanceRole.GUEST)


def preview_users_change(
    terms: SeatTerms,
    *,
    seats: int,
    max_seats_used: int,
    billable_now: int,
    add: int,
    role: InstanceRole,
    today: date,
) -> UsersChangePreview:
    """What adding `add` users with highest role `role` costs an instance with `seats` paid,
    `billable_now` billable users and a term peak of `max_seats_used` so far, on `today`.

    Seats above ``max(seats, peak)`` are owed and charged like a namespace's
    (`billing.seat_charges.preview_seat_charge`): ``owed x price / 4 x quarters left`` at the
    next quarter's end with quarterly reconciliation, else ``owed x price`` at the renewal's
    true-up; buying them now costs ``owed x price x remaining days / term days``. Each amount
    is rounded once, half up.

    Example: Premium at 348.00 USD a seat a year, 2027-01-01..2028-01-01, quarterly, 20
    seats, 20 billable, peak 20; adding 10 developers on 2027-02-10 owes 10 seats, charged
    10 x 34800 / 4 x 3 = 261000 (2610.00) on 2027-04-01; bought now 10 x 34800 x 325 / 365
    = 309863.01 -> 309863 (3098.63).
    """
    if not 0 <= add <= MAX_ADD:
        raise InvalidInputError(
            ErrorCode.INVALID_VALUE, f"Must be from 0 to {MAX_ADD:,} users.", "add"
        )
    billable_after = billable_now + (add if takes_seat(role, guests_free=terms.guests_free) else 0)
    if today >= terms.term.end:
        return UsersChangePreview(billable_now, billable_after, seats, None)
    charge = preview_seat_charge(
        seat=Item(terms.plan_name, 1, terms.seat_price),
        seats=seats,
        max_seats_used=max_seats_used,
        billable_now=billable_now,
        billable_after=billable_after,
        paid=terms.paid,
        quarterly=terms.reconciliation is Reconciliation.QUARTERLY,
        term=terms.term,
        today=today,
        plan_changed_on=terms.plan_changed_on,
    )
    return UsersChangePreview(billable_now, billable_after, seats, charge)
