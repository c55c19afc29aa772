"""The fields anyone may call without a token (licenseActivate, licenseSync, usageReportUpload,
quote) are rate-limited, 30 calls a minute (BILLING_RATE_LIMIT_PER_MINUTE) per client address
and per instance id: past it, HTTP 429 with Retry-After, a RATE_LIMITED error with
`retryAfter`, and nothing done. Activation codes are 100-bit random: wrong codes, whoever sends
them and for whatever instance id, never keep a real instance with a valid code out.
Time is the limiter's injected monotonic clock: nothing sleeps."""

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Route

from api.licenses import LicenseKeys
from api.view import BillingGraphQL
from db.tables import ActivationCode, Customer, Instance, License, Subscription
from resolvers.jobs import run_daily
from resolvers.rates import RateLimits
from tests.commerce import gid
from tests.helpers import row_counts

pytestmark = pytest.mark.usefixtures("demo")

QUOTE = """query($input: QuoteInput!) { quote(input: $input) { __typename } }"""
QUOTE_INPUT = {"input": {"plan": "premium", "seats": 10, "currency": "USD"}}
CREATE = """mutation($id: ID!) { licenseActivationCodeCreate(input: {subscriptionId: $id}) {
  ... on LicenseActivationCode { activationCode } } }"""
ACTIVATE = """mutation($code: String!, $instance: String!) { licenseActivate(input: {
  activationCode: $code, instanceId: $instance, hostname: "gitlab.initech.example",
  version: "18.6.0"}) { __typename ... on UserError { code field } } }"""
SYNC = """mutation($input: LicenseSyncInput!) { licenseSync(input: $input) {
  __typename ... on UserError { code field } } }"""
UPLOAD = """mutation($report: String!) { usageReportUpload(input: {report: $report}) {
  __typename ... on UserError { code field } } }"""
WRONG_CODE = "AAAA-BBBB-CCCC-DDDD-EEEE"


@dataclass
class Ticks:
    """The limiter's monotonic clock, in seconds."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Caller:
    """Posts GraphQL from any client address through the real app."""

    http: httpx.AsyncClient
    transport: httpx.ASGITransport

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        client: str = "192.0.2.1",
        token: str | None = None,
    ) -> httpx.Response:
        self.transport.client = (client, 4000)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )


@pytest.fixture
def ticks(app: Any) -> Ticks:
    """The app's limiters, on a clock the test moves."""
    [view] = [r.endpoint for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    assert isinstance(view, BillingGraphQL)
    clock = Ticks()
    view.rates = RateLimits(view.settings.rate_limit_per_minute, now=clock)
    return clock


@pytest.fixture
async def call(app: Any, ticks: Ticks) -> AsyncIterator[Caller]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Caller(http, transport)


@pytest.fixture
async def code(session: AsyncSession, call: Caller, token: Callable[..., str]) -> str:
    """A fresh activation code of Initech's instance subscription."""
    initech = (
        await session.execute(select(Customer).where(Customer.name == "Initech"))
    ).scalar_one()
    subscription = (
        await session.execute(select(Subscription).where(Subscription.instance_id.is_not(None)))  # type: ignore[union-attr]
    ).scalar_one()
    answer = await call(
        CREATE, {"id": gid("Subscription", subscription.id)}, token=token("customer", initech.id)
    )
    value: str = answer.json()["data"]["licenseActivationCodeCreate"]["activationCode"]
    return value


def outcome(response: httpx.Response) -> str:
    """What a one-field answer was: its type, its UserError code, or its top-level code."""
    body = response.json()
    if "errors" in body:
        [error] = body["errors"]
        return str(error["extensions"]["code"])
    [value] = body["data"].values()
    return str(value.get("code") or value["__typename"])


async def test_the_31st_call_in_a_minute_from_one_client_gets_429(
    call: Caller, ticks: Ticks
) -> None:
    for _ in range(30):
        assert outcome(await call(QUOTE, QUOTE_INPUT)) == "Quote"
        ticks.now += 1
    refused = await call(QUOTE, QUOTE_INPUT)
    # the first of the 30 calls leaves the window 60 s after it was made: 30 s from now
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"
    [error] = refused.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 30}
    assert error["path"] == ["quote"]
    # another client is not held back
    other = await call(QUOTE, QUOTE_INPUT, client="198.51.100.7")
    assert (other.status_code, outcome(other)) == (200, "Quote")
    # once the first call is a minute old, the client gets through again
    ticks.now += 29
    assert outcome(await call(QUOTE, QUOTE_INPUT)) == "RATE_LIMITED"
    ticks.now += 1
    again = await call(QUOTE, QUOTE_INPUT)
    assert (again.status_code, outcome(again)) == (200, "Quote")


async def test_a_refused_call_does_nothing(call: Caller, code: str, session: AsyncSession) -> None:
    for n in range(30):  # distinct instance ids: only the client's limit is reached
        wrong = await call(ACTIVATE, {"code": WRONG_CODE, "instance": f"made-up-{n}"})
        assert outcome(wrong) == "ACTIVATION_CODE_INVALID"
    before = await row_counts(session)
    refused = await call(ACTIVATE, {"code": code, "instance": "initech-real"})
    assert (refused.status_code, outcome(refused)) == (429, "RATE_LIMITED")
    assert await row_counts(session) == before
    used = (await session.execute(select(ActivationCode.used_at))).scalar_one()
    assert used is None  # the code was not spent
    # the same code from the instance's own address works
    ok = await call(ACTIVATE, {"code": code, "instance": "initech-real"}, client="203.0.113.9")
    assert outcome(ok) == "LicenseActivateSuccess"


async def test_a_valid_code_works_after_1000_wrong_codes_for_its_instance_id(
    call: Caller, code: str, session: AsyncSession
) -> None:
    seen = set()
    for n in range(1000):  # each from its own address: the client limit never applies
        wrong = await call(
            ACTIVATE,
            {"code": WRONG_CODE, "instance": "victim"},
            client=f"10.1.{n // 250}.{n % 250}",
        )
        seen.add(outcome(wrong))
    # wrong codes for one instance id are limited too, but that limit binds wrong codes only
    assert seen == {"ACTIVATION_CODE_INVALID", "RATE_LIMITED"}
    ok = await call(ACTIVATE, {"code": code, "instance": "victim"}, client="203.0.113.9")
    assert (ok.status_code, outcome(ok)) == (200, "LicenseActivateSuccess")
    instance = (await session.execute(select(Instance))).scalar_one()
    await session.refresh(instance)
    assert instance.instance_uid == "victim"


async def test_a_valid_code_works_after_wrong_codes_for_random_ids(call: Caller, code: str) -> None:
    # more than the old global cap (200 an hour from everyone), from ten clients
    for n in range(300):
        wrong = await call(
            ACTIVATE, {"code": WRONG_CODE, "instance": f"random-{n}"}, client=f"10.2.0.{n // 30}"
        )
        assert outcome(wrong) == "ACTIVATION_CODE_INVALID"
    ok = await call(ACTIVATE, {"code": code, "instance": "initech-real"}, client="203.0.113.9")
    assert outcome(ok) == "LicenseActivateSuccess"


@pytest.fixture
async def sync_input(session: AsyncSession, license_key: Path) -> dict[str, Any]:
    """A genuine sync of Initech's instance (its license signed by the daily job)."""
    await run_daily(session, day=date(2026, 3, 15), sign=LicenseKeys.load(license_key, []).signer)
    instance = (await session.execute(select(Instance))).scalar_one()
    license_ = (await session.execute(select(License))).scalar_one()
    return {
        "license": license_.token,
        "instanceId": instance.instance_uid,
        "hostname": "gitlab.initech.example",
        "version": "18.6.0",
        "billableUsers": 100,
        "maxHistoricalUsers": 100,
        "reportedAt": "2026-03-15T08:00:00Z",
    }


async def test_syncs_are_limited_per_instance_id_for_its_license_only(
    call: Caller, ticks: Ticks, sync_input: dict[str, Any]
) -> None:
    # syncs naming the instance without its license (one each from many addresses) are
    # refused and spend none of its calls
    forged = {**sync_input, "license": sync_input["license"][:-4] + "AAAA"}
    for n in range(40):
        refused = await call(SYNC, {"input": forged}, client=f"10.3.0.{n}")
        assert outcome(refused) == "LICENSE_BAD_SIGNATURE"
    # the instance itself, from ever new addresses: 30 a minute
    for n in range(30):
        answer = await call(SYNC, {"input": sync_input}, client=f"10.4.0.{n}")
        assert outcome(answer) == "LicenseSyncSuccess"
    over = await call(SYNC, {"input": sync_input}, client="10.4.1.0")
    assert (over.status_code, outcome(over)) == (429, "RATE_LIMITED")
    assert over.headers["Retry-After"] == "60"
    ticks.now += 60
    assert outcome(await call(SYNC, {"input": sync_input}, client="10.4.1.0")) == (
        "LicenseSyncSuccess"
    )


async def test_usage_uploads_count_against_the_client(call: Caller) -> None:
    report = json.dumps({"license": "not.a.license"})
    for _ in range(30):
        assert outcome(await call(UPLOAD, {"report": report})) == "INVALID_VALUE"
    assert (await call(UPLOAD, {"report": report})).status_code == 429


async def test_calls_with_a_token_are_not_counted_per_client(
    call: Caller, token: Callable[..., str]
) -> None:
    for _ in range(31):
        answer = await call(QUOTE, QUOTE_INPUT, token=token("admin"))
        assert (answer.status_code, outcome(answer)) == (200, "Quote")
    assert (await call(QUOTE, QUOTE_INPUT)).status_code == 200  # anonymous budget untouched


async def test_one_ipv6_host_is_one_client_whatever_its_address(call: Caller) -> None:
    for n in range(30):
        assert outcome(await call(QUOTE, QUOTE_INPUT, client=f"2001:db8:0:1::{n:x}")) == "Quote"
    refused = await call(QUOTE, QUOTE_INPUT, client="2001:db8:0:1:ffff::1")
    assert refused.status_code == 429
    other = await call(QUOTE, QUOTE_INPUT, client="2001:db8:0:2::1")
    assert other.status_code == 200
