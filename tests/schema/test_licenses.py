"""Licenses follow instance subscriptions: every change to what a subscription grants signs a
new license, which verifies offline with the published key. Demo data: Initech's instance
has Ultimate for 120 seats, from 30 days before 2026-03-15."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.licenses import LicenseKeys, verify_license
from billing.licenses import LicenseType
from db.tables import Customer, Instance, License, Subscription
from resolvers.jobs import run_daily
from tests.commerce import ADD_ON_PURCHASE, ADD_SEATS, PURCHASE, SET_AUTO_RENEW, gid, result
from tests.conftest import GraphQL
from tests.helpers import data, error_codes

pytestmark = pytest.mark.usefixtures("demo")

LICENSES = """query($id: ID!) { instance(id: $id) { licenses(first: 100) { edges { node {
  kid licenseType plan seats startsOn expiresOn token } } } } }"""
FILE = """query($id: ID!) { licenseFile(subscriptionId: $id) {
  filename content license { seats } } }"""


@pytest.fixture
async def initech(session: AsyncSession, token: Callable[..., str]) -> dict[str, Any]:
    customer = (
        await session.execute(select(Customer).where(Customer.name == "Initech"))
    ).scalar_one()
    instance = (await session.execute(select(Instance))).scalar_one()
    subscription = (
        await session.execute(select(Subscription).where(Subscription.instance_id == instance.id))
    ).scalar_one()
    return {
        "token": token("customer", customer.id),
        "instance": gid("Instance", instance.id),
        "subscription": gid("Subscription", subscription.id),
        "subscription_id": subscription.id,
    }


def _public(license_key: Path) -> dict[str, Any]:
    return LicenseKeys.load(license_key, []).public


async def test_every_change_to_what_is_granted_signs_a_new_license(
    gql: GraphQL, initech: dict[str, Any], license_key: Path
) -> None:
    customer, subscription = initech["token"], initech["subscription"]
    added = result(
        await gql(
            ADD_SEATS, {"input": {"subscriptionId": subscription, "seats": 5}}, token=customer
        )
    )
    assert added["subscription"]["seats"] == 125
    await gql(
        ADD_ON_PURCHASE,
        {"input": {"subscriptionId": subscription, "addOn": "duo_pro", "quantity": 10}},
        token=customer,
    )
    # turning auto-renewal off changes nothing a license grants: no new license
    await gql(
        SET_AUTO_RENEW,
        {"input": {"subscriptionId": subscription, "autoRenew": False}},
        token=customer,
    )
    body = data(await gql(LICENSES, {"id": initech["instance"]}, token=customer))
    licenses = [edge["node"] for edge in body["instance"]["licenses"]["edges"]]
    assert [(lic["seats"], lic["plan"], lic["licenseType"]) for lic in licenses] == [
        (125, "ultimate", "ONLINE"),
        (125, "ultimate", "ONLINE"),
    ]
    assert (licenses[0]["startsOn"], licenses[0]["expiresOn"]) == ("2026-02-13", "2027-02-13")
    grant = verify_license(licenses[1]["token"], _public(license_key), today=date(2026, 3, 15))
    assert (grant.seats, grant.plan, grant.add_ons) == (125, "ultimate", (("duo_pro", 10),))
    assert (grant.licensee.company, grant.licensee.email) == ("Initech", "ap@initech.example")
    assert grant.subscription_id == initech["subscription_id"]


async def test_the_license_file_is_the_current_license(
    gql: GraphQL, initech: dict[str, Any], token: Callable[..., str], session: AsyncSession
) -> None:
    customer, subscription = initech["token"], initech["subscription"]
    assert error_codes(await gql(FILE, {"id": subscription}, token=customer)) == ["NOT_FOUND"]
    await gql(ADD_SEATS, {"input": {"subscriptionId": subscription, "seats": 1}}, token=customer)
    file = data(await gql(FILE, {"id": subscription}, token=customer))["licenseFile"]
    assert file["license"] == {"seats": 121}
    assert file["filename"].endswith(".gitlab-license")
    stored = (await session.execute(select(License.token))).scalar_one()
    assert file["content"] == stored + "\n"
    acme = (
        await session.execute(select(Customer).where(Customer.name == "Acme Corp"))
    ).scalar_one()
    other = token("customer", acme.id)
    assert error_codes(await gql(FILE, {"id": subscription}, token=other)) == ["NOT_FOUND"]
    assert error_codes(await gql(FILE, {"id": subscription})) == ["UNAUTHENTICATED"]


async def test_namespace_subscriptions_have_no_licenses(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    acme = (
        await session.execute(select(Customer).where(Customer.name == "Acme Corp"))
    ).scalar_one()
    subscription = (
        await session.execute(select(Subscription).where(Subscription.seats == 25))
    ).scalar_one()
    await gql(
        ADD_SEATS,
        {"input": {"subscriptionId": gid("Subscription", subscription.id), "seats": 1}},
        token=token("customer", acme.id),
    )
    assert (await session.execute(select(func.count()).select_from(License))).scalar_one() == 0


async def test_the_daily_job_licenses_the_renewed_term(
    gql: GraphQL, initech: dict[str, Any], session: AsyncSession, license_key: Path
) -> None:
    keys = LicenseKeys.load(license_key, [])
    await run_daily(session, day=date(2027, 2, 13), sign=keys.signer)
    rows = (await session.execute(select(License))).scalars().all()
    assert [(row.starts_on, row.expires_on) for row in rows] == [
        (date(2027, 2, 13), date(2028, 2, 13))
    ]
    grant = verify_license(rows[0].token, keys.public, today=date(2027, 2, 13))
    assert grant.starts_on == date(2027, 2, 13)


async def test_license_lists_take_the_same_statements_for_5_and_50(
    gql: GraphQL, initech: dict[str, Any], count_statements: Callable[[], Any]
) -> None:
    customer, subscription = initech["token"], initech["subscription"]
    counts = []
    for total in (5, 50):
        while True:
            body = data(await gql(LICENSES, {"id": initech["instance"]}, token=customer))
            if len(body["instance"]["licenses"]["edges"]) >= total:
                break
            await gql(
                ADD_SEATS, {"input": {"subscriptionId": subscription, "seats": 1}}, token=customer
            )
        with count_statements() as counted:
            body = data(await gql(LICENSES, {"id": initech["instance"]}, token=customer))
        assert len(body["instance"]["licenses"]["edges"]) == total
        counts.append(counted.n)
    assert counts[0] == counts[1]


async def test_an_offline_purchase_signs_an_offline_license(
    gql: GraphQL, initech: dict[str, Any], session: AsyncSession, license_key: Path
) -> None:
    await session.execute(update(Subscription).values(status="expired"))
    await session.commit()
    customer = (
        await session.execute(select(Customer).where(Customer.name == "Initech"))
    ).scalar_one()
    request = {
        "customerId": gid("Customer", customer.id),
        "instanceId": initech["instance"],
        "plan": "premium",
        "seats": 50,
        "licenseType": "OFFLINE",
    }
    # a preview signs nothing
    preview = result(
        await gql(PURCHASE, {"input": {**request, "preview": True}}, token=initech["token"])
    )
    assert preview["__typename"] == "SubscriptionChangePreview", preview
    assert (await session.execute(select(func.count()).select_from(License))).scalar_one() == 0
    bought = result(await gql(PURCHASE, {"input": request}, token=initech["token"]))
    file = data(await gql(FILE, {"id": bought["subscription"]["id"]}, token=initech["token"]))[
        "licenseFile"
    ]
    grant = verify_license(file["content"].strip(), _public(license_key), today=date(2026, 3, 15))
    assert (grant.license_type, grant.seats, grant.plan) == (LicenseType.OFFLINE, 50, "premium")


async def test_licenses_are_for_the_customer_and_admins_only(
    gql: GraphQL, initech: dict[str, Any], token: Callable[..., str], session: AsyncSession
) -> None:
    subscription = initech["subscription"]
    await gql(
        ADD_SEATS, {"input": {"subscriptionId": subscription, "seats": 1}}, token=initech["token"]
    )
    license_id = (await session.execute(select(License.id))).scalar_one()
    node = "query($id: ID!) { node(id: $id) { ... on License { seats } } }"
    for who, sees in [
        (initech["token"], True),
        (token("admin"), True),
        (token("analyst"), False),
    ]:
        listed = data(await gql(LICENSES, {"id": initech["instance"]}, token=who))
        assert bool(listed["instance"]["licenses"]["edges"]) is sees
        found = data(await gql(node, {"id": gid("License", license_id)}, token=who))["node"]
        assert (found == {"seats": 121}) is sees
    analyst_file = await gql(FILE, {"id": subscription}, token=token("analyst"))
    assert error_codes(analyst_file) == ["NOT_FOUND"]


async def test_the_daily_job_gives_older_subscriptions_their_first_license(
    initech: dict[str, Any], session: AsyncSession, license_key: Path
) -> None:
    unsigned = await run_daily(session, day=date(2026, 3, 16))
    assert len(unsigned.failed) == 1
    assert "no signing key is configured" in unsigned.failed[0]
    signed = await run_daily(
        session, day=date(2026, 3, 16), sign=LicenseKeys.load(license_key, []).signer
    )
    assert signed.failed == []
    assert any("licensed 120 seats of ultimate" in line for line in signed.done)
    again = await run_daily(
        session, day=date(2026, 3, 16), sign=LicenseKeys.load(license_key, []).signer
    )
    assert not any("licensed" in line for line in again.done)
