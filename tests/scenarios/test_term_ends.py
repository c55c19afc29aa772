"""Stories of terms ending: the daily job catching up across a term end (once, and not
backwards), a cancelled term whose overage is charged on its end date, a downgrade to Free that
ends the paid subscription, and a change asked for on an end date the job has not reached."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from billing.errors import ConflictError, ErrorCode
from db.tables import Invoice, JobRun, SeatSnapshot, Subscription
from resolvers.jobs import run_daily
from tests.commerce import ADD_SEATS, PURCHASE, RENEW, result
from tests.helpers import data
from tests.scenarios.conftest import NAMESPACE, Story

LINES = "lines { kind quantity amount { minorUnits } periodStart periodEnd }"
ENDING = f"""
  __typename
  ... on SubscriptionChangeSuccess {{
        subscription {{ status autoRenew cancelledOn pendingPlan {{ code }} }}
        invoice {{ number }}
        chargeAtEnd {{ date total {{ minorUnits }} {LINES} }} }}
  ... on SubscriptionChangePreview {{
        subscription {{ status autoRenew cancelledOn pendingPlan {{ code }} }}
        invoice {{ number }}
        chargeAtEnd {{ date total {{ minorUnits }} {LINES} }} }}
  ... on UserError {{ code field message }}
"""
CANCEL = f"""mutation($input: SubscriptionCancelInput!) {{
  subscriptionCancel(input: $input) {{ {ENDING} }} }}"""
CHANGE_PLAN = f"""mutation($input: SubscriptionChangePlanInput!) {{
  subscriptionChangePlan(input: $input) {{ {ENDING} }} }}"""
UPCOMING = """query($path: String!) { namespace(path: $path) { subscription {
  upcomingRenewal { date seats total { minorUnits } } } } }"""
CHURN = """{ analytics { renewals(from: "2027-03-01", to: "2027-03-31") { renewed churned } } }"""


async def ending(story: Story, operation: str, **fields: Any) -> dict[str, Any]:
    request = {"subscriptionId": story.subscription_id, **fields}
    return result(await story.gql(operation, {"input": request}, token=story.customer))


async def upcoming(story: Story) -> Any:
    body = await story.gql(UPCOMING, {"path": NAMESPACE}, token=story.customer)
    return data(body)["namespace"]["subscription"]["upcomingRenewal"]


async def count(story: Story, model: type[Any], *where: Any) -> int:
    query = select(func.count()).select_from(model).where(*where)
    return int((await story.session.execute(query)).scalar_one())


async def test_one_run_after_missed_days_does_everything_due_and_a_second_nothing(
    story: Story,
) -> None:
    # 2026-03-15: 10 developers; Acme buys 10 Premium seats, reconciled quarterly (10 x 348.00)
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)
    # the job runs at the ends of quarters 1, 2 and 3: nobody over, nothing charged
    for day in (date(2026, 6, 15), date(2026, 9, 15), date(2026, 12, 15)):
        await story.run_daily(day)

    # then it stops. 2027-04-01, in the first quarter of the next term: the team grows to 13;
    # 2027-05-01: back to 10
    story.on(date(2027, 4, 1))
    await story.members(13)
    story.on(date(2027, 5, 1))
    await story.members(10)

    # 2027-06-20: one run does everything due by then, in date order: the term that ended on
    # 2027-03-15 renews with the 10 seats paid for (10 x 348.00 = 3480.00), then the new
    # term's quarter 1 (2027-03-15..2027-06-15) is reconciled: it peaked at 13, 3 over,
    # charged for 3 quarters: 3 x 348.00 / 4 x 3 = 783.00
    report = await story.run_daily(date(2027, 6, 20))
    # each line: customer / namespace: subscription N: what happened
    happened = [line.split(": ", 2)[2] for line in report.done if "subscription" in line]
    assert happened == [
        "renewed automatically with 10 seats from 2027-03-15: invoice INV-2027-000001 for "
        "3480.00 USD",
        "quarter 1 reconciled, 3 seats over: invoice INV-2027-000002 for 783.00 USD",
    ]
    figures = await story.subscription()
    assert (figures["seats"], figures["startDate"], figures["quartersReconciled"]) == (
        13,
        "2027-03-15",
        1,
    )

    # a second run for the same day does nothing (before: another 783.00 invoice)
    report = await story.run_daily(date(2027, 6, 20))
    assert not [line for line in report.done if "renewed" in line or "reconciled" in line]

    assert await story.invoices() == [
        # 10 x 348.00 = 3480.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        # 10 x 348.00 = 3480.00 for 2027-03-15..2028-03-15
        ("INV-2027-000001", "2027-06-20", [("renewal", 10, 348000)]),
        # 3 x 348.00 / 4 x 3 = 783.00
        ("INV-2027-000002", "2027-06-20", [("reconciliation", 3, 78300)]),
    ]


async def test_a_run_for_a_day_before_the_latest_is_refused_and_writes_nothing(
    story: Story,
) -> None:
    # 2026-03-15: 4 developers, 5 Premium seats; the job runs for 2026-04-10
    story.on(date(2026, 3, 15))
    await story.members(4)
    await story.buy(plan="premium", seats=5)
    await story.run_daily(date(2026, 4, 10))
    snapshots = await count(story, SeatSnapshot)

    # someone runs it for 2026-04-05: refused (it would write 2026-04-10's counts as 04-05's)
    with pytest.raises(ConflictError) as refused:
        await run_daily(story.session, day=date(2026, 4, 5))
    assert (refused.value.code, refused.value.field) == (ErrorCode.DAY_BEFORE_LATEST_RUN, "date")
    assert "already ran for 2026-04-10" in refused.value.message
    assert "earlier 2026-04-05" in refused.value.message
    assert await count(story, SeatSnapshot) == snapshots
    assert await count(story, SeatSnapshot, SeatSnapshot.day == date(2026, 4, 5)) == 0
    assert await count(story, JobRun, JobRun.day == date(2026, 4, 5)) == 0
    assert await count(story, Invoice) == 1

    # the same day again, or a later one, runs
    await story.run_daily(date(2026, 4, 10))
    await story.run_daily(date(2026, 4, 11))
    runs = (await story.session.execute(select(JobRun).order_by(JobRun.day))).scalars()
    assert [(run.day, run.runs) for run in runs] == [
        (date(2026, 4, 10), 2),
        (date(2026, 4, 11), 1),
    ]


async def test_a_cancelled_term_pays_its_overage_on_its_end_date(story: Story) -> None:
    # 2026-03-15: 11 developers; Acme buys 11 Premium seats (11 x 348.00 = 3828.00)
    story.on(date(2026, 3, 15))
    await story.members(11)
    await story.buy(plan="premium", seats=11)

    # 2026-10-10: a 12th developer joins, 1 above the 11 seats paid
    story.on(date(2026, 10, 10))
    await story.members(12)

    # 2026-11-01: the cancellation's preview says what the end date will charge: the seat
    # owed, 1 x 348.00, on 2027-03-15
    story.on(date(2026, 11, 1))
    previewed = await ending(story, CANCEL, preview=True)
    assert (previewed["__typename"], previewed["invoice"]) == ("SubscriptionChangePreview", None)
    assert previewed["chargeAtEnd"] == {
        "date": "2027-03-15",
        "total": {"minorUnits": 34800},
        "lines": [
            {
                "kind": "TRUE_UP",
                "quantity": 1,
                "amount": {"minorUnits": 34800},
                "periodStart": "2026-03-15",
                "periodEnd": "2027-03-15",
            }
        ],
    }
    assert (await story.subscription())["cancelledOn"] is None  # the preview wrote nothing

    cancelled = await ending(story, CANCEL)
    assert cancelled["chargeAtEnd"] == previewed["chargeAtEnd"]
    assert cancelled["subscription"]["cancelledOn"] == "2026-11-01"
    assert await upcoming(story) is None  # it will not renew

    # 2027-03-15, the end date: the job expires it and charges the seat owed
    report = await story.run_daily(date(2027, 3, 15))
    assert any(
        "expired on 2027-03-15: invoice INV-2027-000001 for 348.00 USD" in line
        for line in report.done
    ), report.done
    assert (await story.subscription())["status"] == "EXPIRED"
    # and once only
    await story.run_daily(date(2027, 3, 16))

    assert await story.invoices() == [
        # 11 x 348.00 = 3828.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 11, 382800)]),
        # (12 - 11) x 348.00 = 348.00, at the term's price
        ("INV-2027-000001", "2027-03-15", [("true_up", 1, 34800)]),
    ]


async def test_a_downgrade_to_free_ends_the_paid_subscription_at_the_term_end(
    story: Story, token: Callable[..., str]
) -> None:
    # 2026-03-15: 57 developers; Acme buys 57 Premium seats (57 x 348.00 = 19836.00)
    story.on(date(2026, 3, 15))
    await story.members(57)
    await story.buy(plan="premium", seats=57)

    # 2026-09-01: a downgrade to Free is a cancellation: nothing pending, no renewal, nothing
    # owed at the end (57 used of 57 paid)
    story.on(date(2026, 9, 1))
    downgraded = await ending(story, CHANGE_PLAN, plan="free")
    assert downgraded["__typename"] == "SubscriptionChangeSuccess", downgraded
    assert downgraded["subscription"] == {
        "status": "ACTIVE",
        "autoRenew": False,
        "cancelledOn": "2026-09-01",
        "pendingPlan": None,
    }
    assert downgraded["chargeAtEnd"] == {
        "date": "2027-03-15",
        "total": {"minorUnits": 0},
        "lines": [],
    }
    assert await upcoming(story) is None
    # asking again is refused: it is cancelled already
    again = await ending(story, CHANGE_PLAN, plan="free")
    assert (again["code"], again["field"]) == ("ALREADY_CANCELLED", "plan")

    # 2027-03-15: it expires (before: renewed on Free, 57 seats for 0.00)
    report = await story.run_daily(date(2027, 3, 15))
    assert any("expired on 2027-03-15" in line for line in report.done), report.done
    assert not any("renewed" in line for line in report.done)
    assert (await story.subscription())["status"] == "EXPIRED"
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 57, 1983600)]),
    ]

    # analysts count it as churn
    summary = data(await story.gql(CHURN, token=token("analyst")))["analytics"]["renewals"]
    assert summary == {"renewed": 0, "churned": 1}


async def test_free_cannot_be_bought(story: Story) -> None:
    # 2026-03-15: 3 developers; buying Free is refused, and nothing is written
    story.on(date(2026, 3, 15))
    await story.members(3)
    request = {"customerId": story.customer_gid, "namespacePath": NAMESPACE, "plan": "free"}
    refused = result(
        await story.gql(PURCHASE, {"input": {**request, "seats": 3}}, token=story.customer)
    )
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "InvalidInputError",
        "PLAN_NOT_SOLD",
        "plan",
    )
    assert await count(story, Subscription, Subscription.status == "active") == 0
    assert await count(story, Invoice) == 0
    # nor quoted
    quote = """{ quote(input: {plan: "free", seats: 3, currency: "USD"}) {
      __typename ... on UserError { code field } } }"""
    assert data(await story.gql(quote))["quote"] == {
        "__typename": "InvalidInputError",
        "code": "PLAN_NOT_SOLD",
        "field": "plan",
    }


async def test_a_change_on_an_end_date_the_job_has_not_reached(story: Story) -> None:
    # 2026-03-15: 5 developers, 5 Premium seats (5 x 348.00); 2027-01-10: 6 developers
    story.on(date(2026, 3, 15))
    await story.members(5)
    await story.buy(plan="premium", seats=5)
    story.on(date(2027, 1, 10))
    await story.members(6)

    # 2027-03-15, the end date, before the job has run: the term is over, so adding seats to
    # it is refused (nothing written); the refusal says what to do
    story.on(date(2027, 3, 15))
    request = {"subscriptionId": story.subscription_id, "seats": 2}
    refused = result(await story.gql(ADD_SEATS, {"input": request}, token=story.customer))
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "ConflictError",
        "SUBSCRIPTION_NOT_ACTIVE",
        "subscription",
    )
    assert "ended on 2027-03-15" in refused["message"]
    assert "subscriptionRenew" in refused["message"]
    assert await count(story, Invoice) == 1

    # renewing works that day: the next term starts now, with the true-up of the ended one
    request = {"subscriptionId": story.subscription_id, "seats": 8}
    renewed = result(await story.gql(RENEW, {"input": request}, token=story.customer))
    assert renewed["__typename"] == "SubscriptionChangeSuccess", renewed
    assert (renewed["subscription"]["startDate"], renewed["subscription"]["seats"]) == (
        "2027-03-15",
        8,
    )
    # and the job, running later that day, has nothing left to do for it
    report = await story.run_daily(date(2027, 3, 15))
    assert not any("renewed" in line or "expired" in line for line in report.done)

    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 5, 174000)]),
        # (6 - 5) x 348.00 = 348.00 ; 8 x 348.00 = 2784.00 for 2027-03-15..2028-03-15
        ("INV-2027-000001", "2027-03-15", [("true_up", 1, 34800), ("renewal", 8, 278400)]),
    ]
