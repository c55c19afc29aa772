"""An online instance trades its subscription's one-time activation code for its license:
codes are random, single-use, stored only as hashes; wrong codes are rate-limited, never a
lockout."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.licenses import LicenseKeys, verify_license
from db.tables import ActivationCode, Customer, Instance, Subscription
from tests.commerce import gid, result
from tests.conftest import GraphQL
from tests.helpers import error_codes, row_counts

pytestmark = pytest.mark.usefixtures("demo")

CREATE = """mutation($id: ID!) { licenseActivationCodeCreate(input: {subscriptionId: $id}) {
  __typename ... on LicenseActivationCode { activationCode }
  ... on UserError { code field } } }"""
ACTIVATE = """mutation($code: String!, $instance: String!) { licenseActivate(input: {
  activationCode: $code, instanceId: $instance, hostname: "gitlab.initech.example",
  version: "18.6.0"}) {
  __typename ... on LicenseActivateSuccess { license { seats plan token } }
  ... on UserError { code field message } } }"""


@pytest.fixture
async def initech(session: AsyncSession, token: Callable[..., str]) -> dict[str, Any]:
    customer = (
        await session.execute(select(Customer).where(Customer.name == "Initech"))
    ).scalar_one()
    subscription = (
        await session.execute(select(Subscription).where(Subscription.instance_id.is_not(None)))  # type: ignore[union-attr]
    ).scalar_one()
    return {
        "token": token("customer", customer.id),
        "subscription": gid("Subscription", subscription.id),
    }


async def test_an_instance_trades_its_code_for_its_license_once(
    gql: GraphQL, initech: dict[str, Any], session: AsyncSession, license_key: Path
) -> None:
    code = result(await gql(CREATE, {"id": initech["subscription"]}, token=initech["token"]))[
        "activationCode"
    ]
    assert len(code) == 24
    assert code.count("-") == 4
    stored = (await session.execute(select(ActivationCode.code_hash))).scalar_one()
    assert code not in stored  # only a hash is kept
    # a new instance activates: it is bound to the subscription and gets its license
    activated = result(await gql(ACTIVATE, {"code": code.lower(), "instance": "new-uid-1"}))
    assert activated["__typename"] == "LicenseActivateSuccess", activated
    grant = verify_license(
        activated["license"]["token"],
        LicenseKeys.load(license_key, []).public,
        today=date(2026, 3, 15),
    )
    assert (grant.seats, grant.plan) == (120, "ultimate")
    instance = (await session.execute(select(Instance))).scalar_one()
    await session.refresh(instance)
    assert (instance.instance_uid, instance.version) == ("new-uid-1", "18.6.0")
    # the code is used up
    again = result(await gql(ACTIVATE, {"code": code, "instance": "new-uid-1"}))
    assert (again["code"], again["field"]) == ("ACTIVATION_CODE_INVALID", "activationCode")


async def test_a_new_code_replaces_the_unused_one(gql: GraphQL, initech: dict[str, Any]) -> None:
    first = result(await gql(CREATE, {"id": initech["subscription"]}, token=initech["token"]))[
        "activationCode"
    ]
    second = result(await gql(CREATE, {"id": initech["subscription"]}, token=initech["token"]))[
        "activationCode"
    ]
    assert first != second
    refused = result(await gql(ACTIVATE, {"code": first, "instance": "x"}))
    assert refused["code"] == "ACTIVATION_CODE_INVALID"
    assert result(await gql(ACTIVATE, {"code": second, "instance": "x"}))["__typename"] == (
        "LicenseActivateSuccess"
    )


async def test_wrong_codes_never_lock_the_instance_out(
    gql: GraphQL, initech: dict[str, Any], session: AsyncSession
) -> None:
    code = result(await gql(CREATE, {"id": initech["subscription"]}, token=initech["token"]))[
        "activationCode"
    ]
    before = await row_counts(session)
    for _ in range(5):
        wrong = result(await gql(ACTIVATE, {"code": "AAAA-BBBB-CCCC-DDDD-EEEE", "instance": "eve"}))
        assert (wrong["code"], wrong["field"]) == ("ACTIVATION_CODE_INVALID", "activationCode")
    assert await row_counts(session) == before  # wrong codes write nothing
    # the right code still works for that instance id (tests/schema/test_rate_limits.py has
    # the limits on wrong codes)
    assert result(await gql(ACTIVATE, {"code": code, "instance": "eve"}))["__typename"] == (
        "LicenseActivateSuccess"
    )


async def test_codes_are_for_online_instances_of_ones_own(
    gql: GraphQL, initech: dict[str, Any], token: Callable[..., str], session: AsyncSession
) -> None:
    acme = (
        await session.execute(select(Customer).where(Customer.name == "Acme Corp"))
    ).scalar_one()
    other = result(
        await gql(CREATE, {"id": initech["subscription"]}, token=token("customer", acme.id))
    )
    assert other["code"] == "SUBSCRIPTION_NOT_FOUND"
    assert error_codes(await gql(CREATE, {"id": initech["subscription"]})) == ["UNAUTHENTICATED"]
    await session.execute(update(Subscription).values(license_type="offline"))
    await session.commit()
    offline = result(await gql(CREATE, {"id": initech["subscription"]}, token=initech["token"]))
    assert (offline["code"], offline["field"]) == ("NOT_AN_ONLINE_INSTANCE", "subscriptionId")
