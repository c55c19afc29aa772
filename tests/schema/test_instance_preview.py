"""The instance preview asked online (by the customer, and by the instance with its license)
gives the figures the instance computes offline from its license alone: one function,
`billing.instance_preview.preview_users_change`, run on the same cases. Asking writes
nothing; a bad count or a foreign license is refused. Demo data: Initech's instance has
Ultimate (1188.00 a seat a year, guests free) for 120 seats, 2026-02-13 to 2027-02-13."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.licenses import LicenseKeys, verify_license
from billing.instance_preview import InstanceRole, preview_users_change
from db.tables import Customer, Instance, License, Subscription
from resolvers.jobs import run_daily
from tests.commerce import gid
from tests.conftest import FixedClock, GraphQL
from tests.helpers import data, error_codes, row_counts

pytestmark = pytest.mark.usefixtures("demo")

FIGURES = """billableNow newBillableCount seats maxSeatsUsed seatsCovered newSeatsOwed
  willIncurCharge charge { chargedOn quantity amount { minorUnits currency } }
  buyNow { chargedOn quantity amount { minorUnits currency } }"""
ONLINE = f"""query($id: ID!, $add: Int!, $role: InstanceRole!) {{ instance(id: $id) {{
  previewUsersChange(add: $add, role: $role) {{ {FIGURES} }} }} }}"""
BY_LICENSE = f"""query($license: String!, $add: Int!, $role: InstanceRole!) {{
  instancePreviewUsersChange(license: $license, add: $add, role: $role) {{ __typename
    ... on InstanceUsersChangePreview {{ {FIGURES} }} ... on UserError {{ code field }} }} }}"""


def _quote(on: date, line: Any) -> dict[str, Any]:
    amount = {"minorUnits": line.amount.minor_units, "currency": line.amount.currency}
    return {"chargedOn": on.isoformat(), "quantity": line.quantity, "amount": amount}


def offline(license: str, keys: LicenseKeys, *, today: date, **counts: Any) -> dict[str, Any]:
    """The figures an air-gapped instance computes from its license and its own counts."""
    grant = verify_license(license, keys.public, today=today)
    assert grant.seat_terms is not None
    preview = preview_users_change(grant.seat_terms, seats=grant.seats, today=today, **counts)
    charge = preview.charge
    assert charge is not None
    return {
        "billableNow": preview.billable_now,
        "newBillableCount": preview.billable_after,
        "seats": preview.seats,
        "maxSeatsUsed": charge.peak,
        "seatsCovered": charge.covered,
        "newSeatsOwed": charge.new_seats_owed,
        "willIncurCharge": charge.due is not None,
        "charge": _quote(charge.due.on, charge.due.line) if charge.due else None,
        "buyNow": _quote(charge.buy_now.on, charge.buy_now.line) if charge.buy_now else None,
    }


@pytest.mark.parametrize(
    ("quarterly", "today", "add", "role"),
    [
        (True, date(2026, 3, 20), 10, "DEVELOPER"),  # quarter 1: 3 quarters left
        (True, date(2026, 9, 1), 25, "OWNER"),
        (True, date(2027, 1, 10), 10, "DEVELOPER"),  # quarter 4: charged in no quarter
        (True, date(2026, 3, 20), 10, "GUEST"),  # guests are free on Ultimate
        (False, date(2026, 3, 20), 10, "MAINTAINER"),  # true-up on 2027-02-13
        (False, date(2026, 3, 20), 0, "DEVELOPER"),
    ],
)
async def test_online_and_offline_give_the_same_figures(
    gql: GraphQL,
    session: AsyncSession,
    token: Callable[..., str],
    clock: FixedClock,
    license_key: Path,
    quarterly: bool,
    today: date,
    add: int,
    role: str,
) -> None:
    # the instance runs at 115 billable users with a term peak of 118, 120 seats paid
    await session.execute(update(Subscription).values(quarterly_reconciliation=quarterly))
    await session.execute(update(Instance).values(seats_in_use=115))
    await session.execute(
        update(Subscription)
        .where(Subscription.instance_id.is_not(None))  # type: ignore[union-attr]
        .values(max_seats_used=118)
    )
    keys = LicenseKeys.load(license_key, [])
    await run_daily(session, day=date(2026, 3, 15), sign=keys.signer)
    license = (await session.execute(select(License))).scalar_one().token
    instance = (await session.execute(select(Instance))).scalar_one()
    customer = (
        await session.execute(select(Customer).where(Customer.id == instance.customer_id))
    ).scalar_one()
    clock.current = today

    asked = {"add": add, "role": role}
    before = await row_counts(session)
    body = await gql(ONLINE, {"id": gid("Instance", instance.id), **asked},
                     token=token("customer", customer.id))  # fmt: skip
    online = data(body)["instance"]["previewUsersChange"]
    own = data(await gql(BY_LICENSE, {"license": license, **asked}))["instancePreviewUsersChange"]
    assert await row_counts(session) == before  # asking writes nothing

    computed = offline(
        license, keys, today=today, max_seats_used=118, billable_now=115, add=add,
        role=InstanceRole[role],
    )  # fmt: skip
    assert online == computed
    assert own == {"__typename": "InstanceUsersChangePreview"} | computed


async def test_bad_questions_are_refused_and_nothing_written(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str], license_key: Path
) -> None:
    keys = LicenseKeys.load(license_key, [])
    await run_daily(session, day=date(2026, 3, 15), sign=keys.signer)
    license = (await session.execute(select(License))).scalar_one().token
    instance = (await session.execute(select(Instance))).scalar_one()
    before = await row_counts(session)

    negative = {"license": license, "add": -1, "role": "DEVELOPER"}
    refused = data(await gql(BY_LICENSE, negative))["instancePreviewUsersChange"]
    assert (refused["code"], refused["field"]) == ("INVALID_VALUE", "add")
    garbage = {"license": "garbage", "add": 1, "role": "DEVELOPER"}
    refused = data(await gql(BY_LICENSE, garbage))["instancePreviewUsersChange"]
    assert (refused["code"], refused["field"]) == ("LICENSE_MALFORMED", "license")
    # another customer does not see the instance's preview
    asked = {"id": gid("Instance", instance.id), "add": 1, "role": "DEVELOPER"}
    stranger = await gql(ONLINE, asked, token=token("customer", 999_999))
    assert error_codes(stranger) == ["NOT_FOUND"]
    assert await row_counts(session) == before
