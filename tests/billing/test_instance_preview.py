"""The "adding users will cost" warning an instance computes from its license: the same
rules as a namespace's members preview. Premium at 348.00 USD a seat a year, the term
2027-01-01..2028-01-01 (365 days), 20 seats paid."""

from datetime import UTC, date, datetime

import pytest

from billing.charges import Term
from billing.errors import InvalidInputError
from billing.instance_preview import (
    InstanceRole,
    Reconciliation,
    SeatTerms,
    preview_users_change,
)
from billing.licenses import Licensee, LicenseGrant, LicenseType
from billing.money import Money

TERM = Term(date(2027, 1, 1), date(2028, 1, 1))


def terms(reconciliation: Reconciliation = Reconciliation.QUARTERLY, **change: object) -> SeatTerms:
    fields: dict[str, object] = {
        "plan_name": "Premium",
        "seat_price": Money(34800, "USD"),
        "term": TERM,
        "reconciliation": reconciliation,
        "paid": True,
        "guests_free": False,
        **change,
    }
    return SeatTerms(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seat_terms", "today", "peak", "add", "role", "owed", "due", "buy_now"),
    [
        # 2027-02-10, quarter 1: 10 owed, 10 x 34800 / 4 x 3 on 2027-04-01; bought now for
        # the 325 days left: 10 x 34800 x 325 / 365 = 309863.01 -> 309863
        (terms(), date(2027, 2, 10), 20, 10, "developer", 10, (date(2027, 4, 1), 261000), 309863),
        # 2027-08-15, quarter 3: 1 quarter left, 10 x 34800 / 4 = 87000 on 2027-10-01
        (terms(), date(2027, 8, 15), 20, 10, "developer", 10, (date(2027, 10, 1), 87000), None),
        # 2027-11-15, quarter 4: nothing charged in this term
        (terms(), date(2027, 11, 15), 20, 10, "developer", 10, None, None),
        # the term peaked at 25 already: 5 of the 10 are covered
        (terms(), date(2027, 2, 10), 25, 10, "developer", 5, (date(2027, 4, 1), 130500), None),
        # true-up at the renewal, full price: 10 x 34800
        (terms(Reconciliation.TRUE_UP), date(2027, 2, 10), 20, 10, "maintainer", 10,
         (date(2028, 1, 1), 348000), None),
        # guests are free on Ultimate, Minimal Access everywhere
        (terms(guests_free=True), date(2027, 2, 10), 20, 10, "guest", 0, None, None),
        (terms(), date(2027, 2, 10), 20, 10, "guest", 10, (date(2027, 4, 1), 261000), None),
        (terms(), date(2027, 2, 10), 20, 10, "minimal_access", 0, None, None),
        # trials and free plans owe nothing
        (terms(paid=False), date(2027, 2, 10), 20, 10, "developer", 0, None, None),
    ],
)  # fmt: skip
def test_the_warning_from_the_license_terms(
    seat_terms: SeatTerms,
    today: date,
    peak: int,
    add: int,
    role: str,
    owed: int,
    due: tuple[date, int] | None,
    buy_now: int | None,
) -> None:
    preview = preview_users_change(
        seat_terms,
        seats=20,
        max_seats_used=peak,
        billable_now=20,
        add=add,
        role=InstanceRole(role),
        today=today,
    )
    assert preview.charge is not None
    assert preview.charge.new_seats_owed == owed
    charged = preview.charge.due
    assert (None if charged is None else (charged.on, charged.line.amount.minor_units)) == due
    if buy_now is not None:
        assert preview.charge.buy_now is not None
        assert preview.charge.buy_now.line.amount.minor_units == buy_now


def test_after_the_term_nothing_is_charged_and_a_bad_count_is_refused() -> None:
    ended = preview_users_change(
        terms(), seats=20, max_seats_used=20, billable_now=20, add=5,
        role=InstanceRole.DEVELOPER, today=date(2028, 1, 1),
    )  # fmt: skip
    assert (ended.billable_after, ended.charge) == (25, None)
    with pytest.raises(InvalidInputError) as refused:
        preview_users_change(
            terms(), seats=20, max_seats_used=20, billable_now=20, add=-1,
            role=InstanceRole.DEVELOPER, today=date(2027, 2, 10),
        )  # fmt: skip
    assert refused.value.field == "add"


GRANT = LicenseGrant(
    licensee=Licensee("Initech", "it@initech.example", "Initech"),
    plan="premium",
    seats=20,
    add_ons=(),
    starts_on=TERM.start,
    expires_on=TERM.end,
    license_type=LicenseType.OFFLINE,
    subscription_id=4,
    issued_at=datetime(2026, 12, 1, tzinfo=UTC),
    seat_terms=terms(plan_changed_on=date(2027, 3, 1)),
)


def test_the_license_carries_the_seat_terms_and_old_licenses_still_read() -> None:
    assert LicenseGrant.from_claims(GRANT.claims()) == GRANT
    old = GRANT.claims()
    del old["seat_terms"]
    assert LicenseGrant.from_claims(old).seat_terms is None
    broken = GRANT.claims() | {"seat_terms": {"seat_price": "a lot"}}
    with pytest.raises(ValueError, match=r"^malformed claim: seat_terms$"):
        LicenseGrant.from_claims(broken)
    missing = GRANT.claims()
    del missing["plan"]
    with pytest.raises(ValueError, match=r"^missing claim: plan$"):
        LicenseGrant.from_claims(missing)
