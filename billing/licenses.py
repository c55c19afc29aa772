"""What a license grants, as claims of a signed token, and when it is in force.

Signing and signature checks live at the edge (`api/licenses.py`); this module only says
what the claims mean, so the service and an instance read a license the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from billing.charges import Term
from billing.instance_preview import SeatTerms


class LicenseType(StrEnum):
    ONLINE = "online"  # the instance syncs daily and receives renewed licenses
    OFFLINE = "offline"  # applied by hand from a file; usage is reported by hand


@dataclass(frozen=True, slots=True)
class Licensee:
    name: str
    email: str
    company: str


@dataclass(frozen=True, slots=True)
class LicenseGrant:
    """What a license grants: a plan for `seats` users (and add-ons) from `starts_on` up to,
    not including, `expires_on`."""

    licensee: Licensee
    plan: str
    seats: int
    add_ons: tuple[tuple[str, int], ...]
    starts_on: date
    expires_on: date
    license_type: LicenseType
    subscription_id: int
    issued_at: datetime
    # what seats over `seats` cost, for the "adding users will cost" warning offline;
    # absent from licenses signed before it existed (they still verify)
    seat_terms: SeatTerms | None = None

    def claims(self) -> dict[str, Any]:
        """The token's claims. `nbf`/`exp` are deliberately absent: validity is by calendar
        date (a term is [starts_on, expires_on)), checked by `in_force`."""
        extra = {"seat_terms": self.seat_terms.claims()} if self.seat_terms else {}
        return extra | {
            "licensee": {
                "name": self.licensee.name,
                "email": self.licensee.email,
                "company": self.licensee.company,
            },
            "plan": self.plan,
            "seats": self.seats,
            "add_ons": [{"code": code, "quantity": quantity} for code, quantity in self.add_ons],
            "starts_on": self.starts_on.isoformat(),
            "expires_on": self.expires_on.isoformat(),
            "type": self.license_type.value,
            "subscription_id": self.subscription_id,
            "iat": int(self.issued_at.timestamp()),
        }

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> LicenseGrant:
        """Read verified claims back; ValueError names what is missing or malformed."""
        try:
            licensee = claims["licensee"]
            grant = cls(
                licensee=Licensee(
                    str(licensee["name"]), str(licensee["email"]), str(licensee["company"])
                ),
                plan=str(claims["plan"]),
                seats=_whole(claims["seats"], "seats"),
                add_ons=tuple(
                    (str(a["code"]), _whole(a["quantity"], "add_ons.quantity"))
                    for a in claims["add_ons"]
                ),
                starts_on=date.fromisoformat(claims["starts_on"]),
                expires_on=date.fromisoformat(claims["expires_on"]),
                license_type=LicenseType(claims["type"]),
                subscription_id=_whole(claims["subscription_id"], "subscription_id"),
                issued_at=datetime.fromtimestamp(_whole(claims["iat"], "iat"), tz=UTC),
            )
            if "seat_terms" in claims:
                grant = replace(grant, seat_terms=_seat_terms(claims["seat_terms"], grant))
        except KeyError as error:
            raise ValueError(f"missing claim: {error.args[0]}") from None
        except (TypeError, OverflowError, OSError):
            raise ValueError("malformed claim") from None
        if grant.expires_on <= grant.starts_on:
            raise ValueError("expires_on must be after starts_on")
        return grant

    def in_force(self, today: date) -> str | None:
        """None when the license is valid on `today`, else why not: "not yet valid" before
        `starts_on`, "expired" from `expires_on` on. A license for 2026-03-15..2027-03-15 is
        valid on 2027-03-14 and expired on 2027-03-15."""
        if today < self.starts_on:
            return "not yet valid"
        if today >= self.expires_on:
            return "expired"
        return None


def _seat_terms(claim: Any, grant: LicenseGrant) -> SeatTerms:
    try:
        return SeatTerms.from_claims(claim, Term(grant.starts_on, grant.expires_on))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValueError("malformed claim: seat_terms") from None


def _whole(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a whole number")
    return value
