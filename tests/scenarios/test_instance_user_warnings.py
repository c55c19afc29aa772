"""Initech's self-managed instance asks "what will adding 10 users cost?" before adding them,
and the answer is what it then pays, to the cent. Online, the instance syncs its user
statistics and its admin asks the service; offline, the instance computes the same answer
from its license alone, then carries its usage report across the air gap. Premium costs
348.00 a seat a year; the term is 2027-01-01..2028-01-01 (365 days), 20 seats, quarterly
reconciliation, bought on 2026-12-01 for 20 x 348.00 = 6960.00."""

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.licenses import LicenseKeys, verify_license
from billing.instance_preview import InstanceRole, preview_users_change
from db.tables import Instance
from resolvers.jobs import run_daily
from tests.helpers import data, row_counts
from tests.scenarios.test_instance_reports import Initech, _invoices, initech
from tests.schema.test_license_sync import SYNC, UPLOAD

__all__ = ["initech"]  # the fixture
pytestmark = pytest.mark.usefixtures("demo")

LICENSE = """query($id: ID!) { licenseFile(subscriptionId: $id) { content } }"""
QUOTE = "chargedOn quantity fractionNumerator fractionDenominator amount { minorUnits currency }"
PREVIEW_FIELDS = f"""billableNow newBillableCount seats maxSeatsUsed seatsCovered newSeatsOwed
  willIncurCharge charge {{ {QUOTE} }} buyNow {{ {QUOTE} }}"""
ADMIN_PREVIEW = f"""query($id: ID!) {{ instance(id: $id) {{
  userStatistics {{ total active billable licensedSeats usersOverSubscription }}
  userStatisticsHistory(from: "2027-01-01", to: "2027-03-31") {{ day statistics {{ billable }} }}
  previewUsersChange(add: 10, role: DEVELOPER) {{ {PREVIEW_FIELDS} }} }} }}"""
INSTANCE_PREVIEW = f"""query($license: String!) {{
  instancePreviewUsersChange(license: $license, add: 10, role: DEVELOPER) {{
    __typename ... on InstanceUsersChangePreview {{ {PREVIEW_FIELDS} }}
    ... on UserError {{ code field }} }} }}"""

# 2027-02-10, in quarter 1: 10 more developers on top of 20 billable users owe 10 seats:
# charged 10 x 348.00 / 4 x 3 = 2610.00 at the end of quarter 1, 2027-04-01; bought now for
# the 325 days left, 10 x 348.00 x 325/365 = 3098.6301 -> 3098.63
EXPECTED = {
    "billableNow": 20,
    "newBillableCount": 30,
    "seats": 20,
    "maxSeatsUsed": 20,
    "seatsCovered": 20,
    "newSeatsOwed": 10,
    "willIncurCharge": True,
    "charge": {
        "chargedOn": "2027-04-01",
        "quantity": 10,
        "fractionNumerator": 3,
        "fractionDenominator": 4,
        "amount": {"minorUnits": 261000, "currency": "USD"},
    },
    "buyNow": {
        "chargedOn": "2027-02-10",
        "quantity": 10,
        "fractionNumerator": 325,
        "fractionDenominator": 365,
        "amount": {"minorUnits": 309863, "currency": "USD"},
    },
}


def statistics(billable: int) -> dict[str, Any]:
    """`billable` developers, 3 guests (billable on Premium), 2 bots, 4 blocked users."""
    return {
        "total": billable + 6,
        "active": billable + 2,
        "billable": billable,
        "blocked": 4,
        "deactivated": 0,
        "bots": 2,
        "pending_approval": 0,
        "without_group_or_project": 0,
        "by_role": {"guest": 3, "developer": billable - 3},
    }


def camel(counts: dict[str, Any]) -> dict[str, Any]:
    names = {"pending_approval": "pendingApproval", "without_group_or_project":
             "withoutGroupOrProject", "by_role": "byRole"}  # fmt: skip
    return {names.get(key, key): value for key, value in counts.items()}


async def _license(story: Initech) -> str:
    body = await story.gql(LICENSE, {"id": story.subscription_id}, token=story.customer)
    return str(data(body)["licenseFile"]["content"]).strip()


async def test_an_online_instance_is_warned_and_pays_what_it_was_told(
    initech: Initech, license_key: Path
) -> None:
    story = initech
    story.clock.current = date(2026, 12, 1)
    await story.buy(20, startDate="2027-01-01", quarterlyReconciliation=True, licenseType="ONLINE")
    license = await _license(story)
    uid = (await story.session.execute(select(Instance))).scalar_one().instance_uid

    async def sync(day: date, billable: int) -> None:
        story.clock.current = day
        report = {
            "license": license,
            "instanceId": uid,
            "hostname": "gitlab.initech.example",
            "version": "18.6.0",
            "billableUsers": billable,
            "maxHistoricalUsers": billable,
            "reportedAt": f"{day.isoformat()}T06:00:00Z",
            "userStatistics": camel(statistics(billable)),
        }
        answer = data(await story.gql(SYNC, {"input": report}))["licenseSync"]
        assert answer["__typename"] == "LicenseSyncSuccess", answer

    # the quarter's syncs: 18 users on 2027-01-04, 20 on 2027-01-18 and on 2027-02-10
    for day, billable in ((date(2027, 1, 4), 18), (date(2027, 1, 18), 20), (date(2027, 2, 10), 20)):
        await sync(day, billable)

    # 2027-02-10: the instance's admin asks what 10 more developers would cost; so does the
    # instance itself with its license. Neither writes anything.
    before = await row_counts(story.session)
    asked = {"id": story.instance_gid}
    shown = data(await story.gql(ADMIN_PREVIEW, asked, token=story.customer))["instance"]
    own = data(await story.gql(INSTANCE_PREVIEW, {"license": license}))
    assert await row_counts(story.session) == before
    assert shown["previewUsersChange"] == EXPECTED
    assert (
        own["instancePreviewUsersChange"] == {"__typename": "InstanceUsersChangePreview"} | EXPECTED
    )
    assert shown["userStatistics"] == {
        "total": 26, "active": 22, "billable": 20, "licensedSeats": 20, "usersOverSubscription": 0,
    }  # fmt: skip
    assert [(d["day"], d["statistics"]["billable"]) for d in shown["userStatisticsHistory"]] == [
        ("2027-01-04", 18),
        ("2027-01-18", 20),
        ("2027-02-10", 20),
    ]

    # 2027-02-11: the 10 developers are added; the next sync counts 30
    await sync(date(2027, 2, 11), 30)
    # 2027-04-01, the end of quarter 1: the daily job charges exactly what the preview said
    keys = LicenseKeys.load(license_key, [])
    assert (await run_daily(story.session, day=date(2027, 4, 1), sign=keys.signer)).failed == []
    assert await _invoices(story.session) == [
        ("INV-2026-000001", "2026-12-01", [("purchase", 20, 696000)]),
        ("INV-2027-000001", "2027-04-01", [("reconciliation", 10, 261000)]),
    ]


async def test_an_offline_instance_computes_the_warning_from_its_license(
    initech: Initech, license_key: Path
) -> None:
    story = initech
    story.clock.current = date(2026, 12, 1)
    await story.buy(20, startDate="2027-01-01", quarterlyReconciliation=True)
    license = await _license(story)
    keys = LicenseKeys.load(license_key, [])

    # 2027-02-10, behind the air gap: the instance reads its license with the published key
    # and counts its own 20 billable users (its term peak so far is 20)
    grant = verify_license(license, keys.public, today=date(2027, 2, 10))
    assert grant.seat_terms is not None
    local = preview_users_change(
        grant.seat_terms,
        seats=grant.seats,
        max_seats_used=20,
        billable_now=20,
        add=10,
        role=InstanceRole.DEVELOPER,
        today=date(2027, 2, 10),
    )
    assert local.charge is not None
    assert local.charge.due is not None
    assert local.charge.buy_now is not None
    assert (local.billable_after, local.charge.new_seats_owed) == (30, 10)
    assert (local.charge.due.on, local.charge.due.line.amount.minor_units) == (
        date(2027, 4, 1),
        261000,
    )
    assert local.charge.buy_now.line.amount.minor_units == 309863

    # 2027-02-11: the 10 developers are added; the report of 2027-02-11 is carried across
    # and uploaded on 2027-02-20
    uid = (await story.session.execute(select(Instance))).scalar_one().instance_uid
    report = {
        "license": license,
        "instance_id": uid,
        "hostname": "gitlab.initech.example",
        "version": "18.6.0",
        "billable_users": 30,
        "max_historical_users": 30,
        "reported_at": "2027-02-11T06:00:00+00:00",
        "user_statistics": statistics(30),
    }
    story.clock.current = date(2027, 2, 20)
    uploaded = data(await story.gql(UPLOAD, {"input": {"report": json.dumps(report)}}))
    assert uploaded["usageReportUpload"]["seatsInUse"] == 30

    # 2027-04-01: reconciled at the figure the license foretold
    assert (await run_daily(story.session, day=date(2027, 4, 1), sign=keys.signer)).failed == []
    assert await _invoices(story.session) == [
        ("INV-2026-000001", "2026-12-01", [("purchase", 20, 696000)]),
        ("INV-2027-000001", "2027-04-01", [("reconciliation", 10, 261000)]),
    ]
