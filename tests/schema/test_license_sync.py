"""Online instances sync daily, authenticated by their license: counts above the seats show
as seats owed and are charged at the next reconciliation; a repeat the same day changes
nothing; a changed, expired, foreign or revoked license is refused and nothing is written.
Demo data: Initech's instance has Ultimate for 120 seats, 2026-02-13 to 2027-02-13."""

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.licenses import LicenseKeys, verify_license
from db.tables import Customer, Instance, Invoice, License, Subscription, SyncReport
from resolvers.jobs import run_daily
from tests.commerce import ADD_SEATS, gid, result
from tests.conftest import FixedClock, GraphQL
from tests.helpers import data, error_codes, row_counts

pytestmark = pytest.mark.usefixtures("demo")

SYNC = """mutation($input: LicenseSyncInput!) { licenseSync(input: $input) {
  __typename
  ... on LicenseSyncSuccess { license licenseChanged nextSyncAt nextReconciliationOn seats
                              seatsInUse maxSeatsUsed }
  ... on UserError { code field message } } }"""
FIGURES = """query($id: ID!) { instance(id: $id) {
  subscription { seats seatsInUse maxSeatsUsed seatsOwed } } }"""


@pytest.fixture
async def licensed(
    session: AsyncSession, token: Callable[..., str], license_key: Path
) -> dict[str, Any]:
    """Initech's instance with its first license (signed by the daily job)."""
    keys = LicenseKeys.load(license_key, [])
    await run_daily(session, day=date(2026, 3, 15), sign=keys.signer)
    customer = (
        await session.execute(select(Customer).where(Customer.name == "Initech"))
    ).scalar_one()
    instance = (await session.execute(select(Instance))).scalar_one()
    first = (await session.execute(select(License))).scalar_one()
    return {
        "token": token("customer", customer.id),
        "instance": instance,
        "instance_gid": gid("Instance", instance.id),
        "subscription_gid": gid("Subscription", first.subscription_id),
        "license": first.token,
        "keys": keys,
    }


def report(licensed: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {
        "input": {
            "license": licensed["license"],
            "instanceId": licensed["instance"].instance_uid,
            "hostname": "gitlab.initech.example",
            "version": "18.6.0",
            "billableUsers": 130,
            "maxHistoricalUsers": 131,
            "reportedAt": "2026-03-15T08:00:00Z",
            **change,
        }
    }


async def test_a_sync_reports_counts_and_gets_the_current_license(
    gql: GraphQL, licensed: dict[str, Any], session: AsyncSession
) -> None:
    # no bearer token: the license is the credential
    answer = result(await gql(SYNC, report(licensed)))
    assert answer == {
        "__typename": "LicenseSyncSuccess",
        "license": licensed["license"],
        "licenseChanged": False,
        "nextSyncAt": "2026-03-16T12:00:00+00:00",
        "nextReconciliationOn": "2027-02-13",
        "seats": 120,
        "seatsInUse": 130,
        "maxSeatsUsed": 130,
    }
    figures = data(await gql(FIGURES, {"id": licensed["instance_gid"]}, token=licensed["token"]))
    assert figures["instance"]["subscription"] == {
        "seats": 120,
        "seatsInUse": 130,
        "maxSeatsUsed": 130,
        "seatsOwed": 10,
    }
    # the same day again: nothing changes, the same answer
    again = result(await gql(SYNC, report(licensed, billableUsers=5, maxHistoricalUsers=5)))
    assert again == answer
    count = select(func.count()).select_from(SyncReport)
    assert (await session.execute(count)).scalar_one() == 1


async def test_a_changed_subscription_answers_with_its_new_license(
    gql: GraphQL, licensed: dict[str, Any], clock: FixedClock
) -> None:
    await gql(
        ADD_SEATS,
        {"input": {"subscriptionId": licensed["subscription_gid"], "seats": 10}},
        token=licensed["token"],
    )
    clock.current = date(2026, 3, 16)
    answer = result(await gql(SYNC, report(licensed, reportedAt="2026-03-16T08:00:00Z")))
    assert answer["licenseChanged"] is True
    grant = verify_license(answer["license"], licensed["keys"].public, today=date(2026, 3, 16))
    assert grant.seats == 130
    assert answer["seatsInUse"] == 130


def _tampered(token: str) -> str:
    head, claims, signature = token.split(".")
    return ".".join([head, claims, ("A" if signature[0] != "A" else "B") + signature[1:]])


@pytest.mark.parametrize(
    ("change", "today", "code"),
    [
        ({"instanceId": "someone-else"}, date(2026, 3, 15), "LICENSE_FOREIGN"),
        ("tamper", date(2026, 3, 15), "LICENSE_BAD_SIGNATURE"),
        ({"license": "garbage"}, date(2026, 3, 15), "LICENSE_MALFORMED"),
        ({}, date(2027, 2, 13), "LICENSE_EXPIRED"),
        ("revoke", date(2026, 3, 15), "LICENSE_REVOKED"),
        ({"billableUsers": -1}, date(2026, 3, 15), "INVALID_VALUE"),
    ],
)
async def test_a_refused_sync_writes_nothing(
    gql: GraphQL,
    licensed: dict[str, Any],
    session: AsyncSession,
    clock: FixedClock,
    change: Any,
    today: date,
    code: str,
) -> None:
    if change == "tamper":
        change = {"license": _tampered(licensed["license"])}
    elif change == "revoke":
        await session.execute(update(Subscription).values(status="expired"))
        await session.commit()
        change = {}
    clock.current = today
    before = await row_counts(session)
    refused = result(await gql(SYNC, report(licensed, **change)))
    assert refused["code"] == code, refused
    assert await row_counts(session) == before


async def test_reported_overage_is_charged_at_the_next_reconciliation(
    gql: GraphQL, licensed: dict[str, Any], session: AsyncSession, clock: FixedClock
) -> None:
    # given quarterly reconciliation, and a sync in quarter 1 reporting 130 users on 120 seats
    await session.execute(update(Subscription).values(quarterly_reconciliation=True))
    await session.commit()
    answer = result(await gql(SYNC, report(licensed)))
    assert answer["nextReconciliationOn"] == "2026-05-13"
    # when the quarter ends: 10 seats over, 10 x 1188.00 / 4 x 3 = 8910.00
    reconciled = await run_daily(session, day=date(2026, 5, 13), sign=licensed["keys"].signer)
    assert any("quarter 1 reconciled, 10 seats over" in line for line in reconciled.done)
    invoice = (await session.execute(select(Invoice))).scalar_one()
    assert invoice.total == 891000
    # and the instance's license now grants the 130 seats
    latest = (
        await session.execute(select(License).order_by(License.id.desc()).limit(1))  # type: ignore[union-attr]
    ).scalar_one()
    assert latest.seats == 130


UPLOAD = """mutation($input: UsageReportUploadInput!) { usageReportUpload(input: $input) {
  __typename
  ... on LicenseSyncSuccess { license licenseChanged seats seatsInUse maxSeatsUsed }
  ... on UserError { code field message } } }"""


async def test_an_offline_instance_uploads_its_usage_file(
    gql: GraphQL, licensed: dict[str, Any], session: AsyncSession
) -> None:
    # the instance goes offline: its next license is an offline one
    await session.execute(update(Subscription).values(license_type="offline"))
    await run_daily(session, day=date(2026, 3, 15), sign=licensed["keys"].signer)
    offline = (
        await session.execute(select(License).order_by(License.id.desc()).limit(1))  # type: ignore[union-attr]
    ).scalar_one()
    # an offline license does not sync, and an online one does not upload files
    refused = result(await gql(SYNC, report(licensed, license=offline.token)))
    assert refused["code"] == "LICENSE_FOREIGN"
    file = json.dumps(
        {
            "license": offline.token,
            "instance_id": licensed["instance"].instance_uid,
            "hostname": "gitlab.initech.example",
            "version": "18.6.0",
            "billable_users": 125,
            "max_historical_users": 125,
            "reported_at": "2026-03-15T08:00:00+00:00",
        }
    )
    # no token: the license in the file is the credential
    answer = result(await gql(UPLOAD, {"input": {"report": file}}))
    assert answer == {
        "__typename": "LicenseSyncSuccess",
        "license": offline.token,
        "licenseChanged": False,
        "seats": 120,
        "seatsInUse": 125,
        "maxSeatsUsed": 125,
    }
    broken = result(await gql(UPLOAD, {"input": {"report": "not json"}}))
    assert (broken["code"], broken["field"]) == ("INVALID_VALUE", "report")


async def test_the_billing_team_enters_an_instances_counts(
    gql: GraphQL, licensed: dict[str, Any], token: Callable[..., str], session: AsyncSession
) -> None:
    entered = {
        "subscriptionId": licensed["subscription_gid"],
        "billableUsers": 140,
        "maxHistoricalUsers": 150,
    }
    body = await gql(UPLOAD, {"input": entered}, token=licensed["token"])
    assert error_codes(body) == ["FORBIDDEN"]
    answer = result(await gql(UPLOAD, {"input": entered}, token=token("admin")))
    assert (answer["seatsInUse"], answer["maxSeatsUsed"]) == (140, 140)
    report_row = (await session.execute(select(SyncReport))).scalar_one()
    assert report_row.license_id is None
    for bad in ({}, {**entered, "report": "{}"}, {"subscriptionId": licensed["subscription_gid"]}):
        refused = result(await gql(UPLOAD, {"input": bad}, token=token("admin")))
        assert refused["code"] == "INVALID_VALUE", refused


INSTANCE = """query($id: ID!) { instance(id: $id) { seatsInUse maxHistoricalUsers version
  lastSyncAt syncReports(first: 10) { edges { node { id day billableUsers
  enteredByBillingTeam } } } } }"""


async def test_the_instance_shows_its_reports(
    gql: GraphQL, licensed: dict[str, Any], token: Callable[..., str]
) -> None:
    await gql(SYNC, report(licensed))
    shown = data(await gql(INSTANCE, {"id": licensed["instance_gid"]}, token=licensed["token"]))
    instance = shown["instance"]
    assert (instance["seatsInUse"], instance["maxHistoricalUsers"], instance["version"]) == (
        130,
        131,
        "18.6.0",
    )
    assert instance["lastSyncAt"] == "2026-03-15T12:00:00+00:00"
    [edge] = instance["syncReports"]["edges"]
    assert edge["node"]["day"] == "2026-03-15"
    assert edge["node"]["billableUsers"] == 130
    assert edge["node"]["enteredByBillingTeam"] is False
    node = "query($id: ID!) { node(id: $id) { ... on SyncReport { billableUsers } } }"
    found = data(await gql(node, {"id": edge["node"]["id"]}, token=licensed["token"]))
    assert found["node"] == {"billableUsers": 130}
    other = await gql(node, {"id": edge["node"]["id"]}, token=token("customer", 1))
    assert data(other)["node"] is None


async def test_an_expired_license_fetches_the_renewal_for_a_while(
    gql: GraphQL, licensed: dict[str, Any], session: AsyncSession, clock: FixedClock
) -> None:
    # the subscription renews itself on 2027-02-13 (a new term, a new license); the instance
    # still holds the old license, which expired that day
    await run_daily(session, day=date(2027, 2, 13), sign=licensed["keys"].signer)
    clock.current = date(2027, 2, 14)
    answer = result(await gql(SYNC, report(licensed, reportedAt="2027-02-14T08:00:00Z")))
    assert answer["licenseChanged"] is True
    grant = verify_license(answer["license"], licensed["keys"].public, today=date(2027, 2, 14))
    assert grant.expires_on == date(2028, 2, 13)
    # past the grace period the old license is refused
    clock.current = date(2027, 3, 20)
    late = result(await gql(SYNC, report(licensed, reportedAt="2027-03-20T08:00:00Z")))
    assert late["code"] == "LICENSE_EXPIRED"
