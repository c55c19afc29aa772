"""Stories of what a renewal buys: an automatic renewal keeps the seats paid for, raised to
the users who take a seat (for GitLab.com groups and self-managed instances alike), never
fewer; only the customer renewing explicitly buys fewer, and never below the billable users.
`Subscription.upcomingRenewal` shows the renewal to come, priced by the renewal's own code."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.licenses import LicenseKeys
from db.tables import Customer, Instance, Invoice, InvoiceLine, License
from resolvers.jobs import run_daily
from tests.commerce import RENEW, SET_AUTO_RENEW, gid, result
from tests.conftest import GraphQL
from tests.helpers import data
from tests.scenarios.conftest import NAMESPACE, Story

PROJECTION = """
  date endDate billingPeriod plan { code } seats unitPrice { minorUnits } bought
  trueUp { minorUnits } total { minorUnits }
  lines { kind quantity amount { minorUnits } periodStart periodEnd }
"""
UPCOMING = f"""query($path: String!) {{ namespace(path: $path) {{ subscription {{
  upcomingRenewal {{ {PROJECTION} }} }} }} }}"""


async def upcoming(story: Story) -> Any:
    body = await story.gql(UPCOMING, {"path": NAMESPACE}, token=story.customer)
    return data(body)["namespace"]["subscription"]["upcomingRenewal"]


def lines_of(projection: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(kind, quantity, amount) of a projection's lines, as `Story.invoices` tells them."""
    return [
        (line["kind"].lower(), line["quantity"], line["amount"]["minorUnits"])
        for line in projection["lines"]
    ]


async def test_a_group_of_one_keeps_the_fifty_seats_it_paid_for(story: Story) -> None:
    # 2026-03-15: 1 developer; Acme buys 50 Premium seats (50 x 348.00 = 17400.00)
    story.on(date(2026, 3, 15))
    await story.members(1)
    await story.buy(plan="premium", seats=50)

    # 2027-03-01: the portal shows the renewal to come: 50 seats (not 1) at 348.00
    story.on(date(2027, 3, 1))
    projected = await upcoming(story)
    assert projected == {
        "date": "2027-03-15",
        "endDate": "2028-03-15",
        "billingPeriod": "ANNUAL",
        "plan": {"code": "premium"},
        "seats": 50,
        "unitPrice": {"minorUnits": 34800},
        "bought": False,
        "trueUp": {"minorUnits": 0},
        "total": {"minorUnits": 1740000},
        "lines": [
            {
                "kind": "RENEWAL",
                "quantity": 50,
                "amount": {"minorUnits": 1740000},
                "periodStart": "2027-03-15",
                "periodEnd": "2028-03-15",
            }
        ],
    }

    # 2027-03-15: the job renews with the 50 seats (before: 1), the invoice as projected
    report = await story.run_daily(date(2027, 3, 15))
    assert any("renewed automatically with 50 seats" in line for line in report.done)
    assert (await story.subscription())["seats"] == 50
    invoices = await story.invoices()
    assert invoices == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 50, 1740000)]),
        # 50 x 348.00 = 17400.00 for 2027-03-15..2028-03-15
        ("INV-2027-000001", "2027-03-15", [("renewal", 50, 1740000)]),
    ]
    assert invoices[-1][2] == lines_of(projected)


async def test_only_an_explicit_renewal_buys_fewer_seats(story: Story) -> None:
    # 2026-03-15: 3 developers; Acme buys 50 Premium seats
    story.on(date(2026, 3, 15))
    await story.members(3)
    await story.buy(plan="premium", seats=50)

    # 2027-03-01: renewing with 2 seats, below the 3 users, is refused; nothing is written
    story.on(date(2027, 3, 1))
    request = {"subscriptionId": story.subscription_id, "seats": 2}
    refused = result(await story.gql(RENEW, {"input": request}, token=story.customer))
    assert (refused["code"], refused["field"]) == ("SEATS_BELOW_BILLABLE", "seats")
    assert (await upcoming(story))["seats"] == 50

    # renewing with 5 is bought now (5 x 348.00 = 1740.00); the projection shows it bought,
    # with nothing left to charge on the end date
    await story.renew(5)
    projected = await upcoming(story)
    assert (projected["seats"], projected["bought"], projected["total"], projected["lines"]) == (
        5,
        True,
        {"minorUnits": 0},
        [],
    )

    # 2027-03-15: the job starts the term bought, with 5 seats, and invoices nothing more
    report = await story.run_daily(date(2027, 3, 15))
    assert any("renewed as bought" in line for line in report.done)
    assert (await story.subscription())["seats"] == 5
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 50, 1740000)]),
        # 5 x 348.00 = 1740.00 for 2027-03-15..2028-03-15
        ("INV-2027-000001", "2027-03-01", [("renewal", 5, 174000)]),
    ]


async def test_the_projection_shows_the_true_up_and_the_seats_raised(story: Story) -> None:
    # 2026-03-15: 10 developers, 10 Premium seats; 2026-10-01: 12 (2 over);
    # 2027-02-01: 11 remain
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10)
    story.on(date(2026, 10, 1))
    await story.members(12)
    story.on(date(2027, 2, 1))
    await story.members(11)

    # 2027-03-01: the renewal will be for 11 seats (the 10 paid, raised to the 11 users), with
    # the true-up of the 2 seats owed: 2 x 348.00 = 696.00 ; 11 x 348.00 = 3828.00
    story.on(date(2027, 3, 1))
    projected = await upcoming(story)
    assert (projected["seats"], projected["trueUp"], projected["total"]) == (
        11,
        {"minorUnits": 69600},
        {"minorUnits": 452400},
    )

    # 2027-03-15: the job's invoice is the projection, line for line
    await story.run_daily(date(2027, 3, 15))
    invoices = await story.invoices()
    assert invoices[-1] == (
        "INV-2027-000001",
        "2027-03-15",
        [("true_up", 2, 69600), ("renewal", 11, 382800)],
    )
    assert invoices[-1][2] == lines_of(projected)


async def test_a_group_with_no_billable_users_renews_with_its_seats(story: Story) -> None:
    # 2026-03-15: 3 developers, 5 Premium seats; 2026-12-01: everyone leaves (0 billable)
    story.on(date(2026, 3, 15))
    await story.members(3)
    await story.buy(plan="premium", seats=5)
    story.on(date(2026, 12, 1))
    await story.members(0)
    assert (await story.subscription())["seatsInUse"] == 0

    # 2027-03-15: renewed with the 5 seats paid for (before: 1): 5 x 348.00 = 1740.00
    report = await story.run_daily(date(2027, 3, 15))
    assert any("renewed automatically with 5 seats" in line for line in report.done)
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 5, 174000)]),
        ("INV-2027-000001", "2027-03-15", [("renewal", 5, 174000)]),
    ]


async def test_overage_in_the_fourth_quarter_is_not_charged_but_renewed(story: Story) -> None:
    # 2026-03-15: 10 developers, 10 Premium seats reconciled quarterly; quarters 1 to 3 end
    # (2026-06-15, 2026-09-15, 2026-12-15) with nobody over
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)
    for day in (date(2026, 6, 15), date(2026, 9, 15), date(2026, 12, 15)):
        await story.run_daily(day)

    # quarter 4: 2027-01-10 the team grows to 13; 2027-02-20 back to 11
    story.on(date(2027, 1, 10))
    await story.members(13)
    story.on(date(2027, 2, 20))
    await story.members(11)

    # 2027-03-01: no true-up on a quarterly term (quarter 4 is never charged); the renewal
    # covers the 11 users
    story.on(date(2027, 3, 1))
    projected = await upcoming(story)
    assert (projected["seats"], projected["trueUp"]) == (11, {"minorUnits": 0})

    # 2027-03-15: renewed with 11 seats, 11 x 348.00 = 3828.00, and nothing for quarter 4
    await story.run_daily(date(2027, 3, 15))
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        ("INV-2027-000001", "2027-03-15", [("renewal", 11, 382800)]),
    ]
    assert lines_of(projected) == [("renewal", 11, 382800)]


async def test_no_projection_when_it_will_not_renew(story: Story) -> None:
    # 2026-03-15: 2 developers, 2 Premium seats; 2026-06-01: auto-renewal off, then on again
    story.on(date(2026, 3, 15))
    await story.members(2)
    await story.buy(plan="premium", seats=2)
    story.on(date(2026, 6, 1))
    await story.change(SET_AUTO_RENEW, autoRenew=False)
    assert await upcoming(story) is None
    await story.change(SET_AUTO_RENEW, autoRenew=True)
    assert (await upcoming(story))["seats"] == 2


SYNC = """mutation($input: LicenseSyncInput!) { licenseSync(input: $input) {
  __typename ... on LicenseSyncSuccess { seats seatsInUse } ... on UserError { code } } }"""


async def test_an_instance_renews_with_its_seats_raised_to_its_users(
    demo: None,
    gql: GraphQL,
    session: AsyncSession,
    token: Callable[..., str],
    license_key: Path,
) -> None:
    # the demo's Initech instance: Ultimate, 120 seats, 2026-02-13..2027-02-13; its first
    # license is signed by the job on 2026-03-15
    keys = LicenseKeys.load(license_key, [])
    await run_daily(session, day=date(2026, 3, 15), sign=keys.signer)
    initech = (
        await session.execute(select(Customer).where(Customer.name == "Initech"))
    ).scalar_one()
    instance = (await session.execute(select(Instance))).scalar_one()
    first = (await session.execute(select(License))).scalar_one()

    # 2026-03-15: the instance reports 124 billable users on its 120 seats
    sync = {
        "license": first.token,
        "instanceId": instance.instance_uid,
        "hostname": "gitlab.initech.example",
        "version": "18.6.0",
        "billableUsers": 124,
        "maxHistoricalUsers": 124,
        "reportedAt": "2026-03-15T08:00:00Z",
    }
    assert result(await gql(SYNC, {"input": sync}))["seatsInUse"] == 124

    # the projection: 124 seats (the 120 paid, raised to the 124 users) and the true-up of
    # the 4 owed, at Ultimate's 1188.00: 4 x 1188.00 = 4752.00 ; 124 x 1188.00 = 147312.00
    query = """query($id: ID!) { instance(id: $id) { subscription {
      upcomingRenewal { seats trueUp { minorUnits } total { minorUnits } } } } }"""
    variables = {"id": gid("Instance", instance.id)}
    body = await gql(query, variables, token=token("customer", initech.id))
    assert data(body)["instance"]["subscription"]["upcomingRenewal"] == {
        "seats": 124,
        "trueUp": {"minorUnits": 475200},
        "total": {"minorUnits": 15206400},
    }

    # 2027-02-13: the job renews it with 124 seats (before: 120, leaving 4 owed at once); it
    # runs in a session of its own, as `billing jobs run-daily` does
    session.expire_all()
    report = await run_daily(session, day=date(2027, 2, 13), sign=keys.signer)
    assert any("renewed automatically with 124 seats" in line for line in report.done), report.done
    invoice = (
        await session.execute(
            select(Invoice).where(
                Invoice.subscription_id == first.subscription_id,
                Invoice.issued_on == date(2027, 2, 13),
            )
        )
    ).scalar_one()
    lines = (
        await session.execute(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        )
    ).scalars()
    assert [(line.kind, line.quantity, line.amount) for line in lines] == [
        ("true_up", 4, 475200),
        ("renewal", 124, 14731200),
    ]
    assert invoice.total == 15206400
