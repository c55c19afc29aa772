"""Stories that combine the edges of a term, as the billing team and customers meet them: an
upgrade followed by a renewal or a cancellation (the job missing the end date), an upgrade
before a future start or after a quarter end the job missed, a quarterly term upgraded and
cancelled, a pending downgrade's projected renewal, a monthly term anchored on the 31st
upgraded in February, and growth (a namespace's, an instance's reports) on days the job
missed after an end date. Premium costs 348.00 a seat a year (29.00 a month), Ultimate
1188.00 (99.00)."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from strawberry import relay

from api.licenses import LicenseKeys
from db.tables import Invoice, Subscription
from resolvers.jobs import run_daily
from tests.helpers import data, row_counts
from tests.scenarios import test_instance_reports
from tests.scenarios.conftest import NAMESPACE, Story
from tests.scenarios.test_instance_reports import Initech
from tests.scenarios.test_previews import members_preview, quote
from tests.scenarios.test_term_ends import CANCEL, ending

initech = test_instance_reports.initech  # Initech's instance and its billing team

LINES = """lines { kind quantity amount { minorUnits } periodStart periodEnd
                  fractionNumerator fractionDenominator }"""
UPCOMING = f"""query($path: String!) {{ namespace(path: $path) {{ subscription {{
  upcomingRenewal {{ date seats trueUp {{ minorUnits }} total {{ minorUnits }} {LINES} }}
}} }} }}"""


async def upcoming(story: Story) -> Any:
    body = await story.gql(UPCOMING, {"path": NAMESPACE}, token=story.customer)
    return data(body)["namespace"]["subscription"]["upcomingRenewal"]


def line(kind: str, quantity: int, amount: int, period: tuple[str, str], fraction: str) -> Any:
    numerator, denominator = (int(n) for n in fraction.split("/"))
    return {
        "kind": kind,
        "quantity": quantity,
        "amount": {"minorUnits": amount},
        "periodStart": period[0],
        "periodEnd": period[1],
        "fractionNumerator": numerator,
        "fractionDenominator": denominator,
    }


async def premium_over_then_ultimate(story: Story) -> None:
    """2026-03-15: 10 developers, 10 Premium seats for 2026-03-15..2027-03-15 (365 days,
    3480.00); 2 more developers join that day (12 used, 2 over). 2026-09-15: upgrade to
    Ultimate, 184 days used on Premium and 181 left."""
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10)
    await story.members(12)
    story.on(date(2026, 9, 15))
    upgraded = await story.change_plan("ultimate")
    # TRUE_UP  2 x 348.00 x 184/365   =   350.8603 ->   350.86 (Premium's part of the term)
    # CREDIT -(10 x 348.00 x 181/365)  = -1725.6986 -> -1725.70
    # CHARGE  10 x 1188.00 x 181/365   =  5891.1781 ->  5891.18
    assert [(x["kind"], x["amount"]["minorUnits"]) for x in upgraded["invoice"]["lines"]] == [
        ("TRUE_UP", 35086),
        ("PLAN_CHANGE_CREDIT", -172570),
        ("PLAN_CHANGE_CHARGE", 589118),
    ]
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (10, 12, 12)


# Ultimate's part of the term, 2026-09-15..2027-03-15: the 2 seats still over are owed for it,
# 2 x 1188.00 x 181/365 = 1178.2356 -> 1178.24 (not 2 x 1188.00 = 2376.00 for the whole term,
# whose first 184 days the upgrade's invoice settled at the Premium price)
ULTIMATE_PART = ("2026-09-15", "2027-03-15")
TRUE_UP_AFTER_UPGRADE = line("TRUE_UP", 2, 117824, ULTIMATE_PART, "181/365")


async def test_the_true_up_after_an_upgrade_covers_the_new_plans_days_only(story: Story) -> None:
    await premium_over_then_ultimate(story)

    # 2026-10-01: one more developer would be one more seat over, owed for Ultimate's part of
    # the term at the true-up: 1 x 1188.00 x 181/365 = 589.1178 -> 589.12 on 2027-03-15;
    # buying it now: 1 x 1188.00 x 165/365 = 537.0411 -> 537.04
    story.on(date(2026, 10, 1))
    preview = await members_preview(story, 1)
    assert preview["charge"] == quote("2027-03-15", "TRUE_UP", 1, 58912, ULTIMATE_PART, "181/365")
    assert preview["buyNow"] == quote(
        "2026-10-01", "SEATS", 1, 53704, ("2026-10-01", "2027-03-15"), "165/365"
    )

    # the projected renewal: the true-up of Ultimate's part, and 12 Ultimate seats
    # (12 x 1188.00 = 14256.00) for 2027-03-15..2028-03-15
    projected = await upcoming(story)
    assert (projected["date"], projected["seats"]) == ("2027-03-15", 12)
    assert projected["trueUp"] == {"minorUnits": 117824}
    assert projected["lines"][0] == TRUE_UP_AFTER_UPGRADE
    assert projected["total"] == {"minorUnits": 117824 + 1425600}

    # 2027-03-15: the job renews exactly as projected; run again that day, it does nothing
    await story.run_daily(date(2027, 3, 15))
    await story.run_daily(date(2027, 3, 15))
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        (
            "INV-2026-000002",
            "2026-09-15",
            [
                ("true_up", 2, 35086),
                ("plan_change_credit", 10, -172570),
                ("plan_change_charge", 10, 589118),
            ],
        ),
        ("INV-2027-000001", "2027-03-15", [("true_up", 2, 117824), ("renewal", 12, 1425600)]),
    ]


async def test_an_upgraded_then_cancelled_term_pays_once_when_the_job_catches_up(
    story: Story,
) -> None:
    await premium_over_then_ultimate(story)

    # 2026-10-01: Acme cancels; the end date will charge Ultimate's part of the overage
    story.on(date(2026, 10, 1))
    cancelled = await ending(story, CANCEL)
    assert cancelled["chargeAtEnd"]["date"] == "2027-03-15"
    assert cancelled["chargeAtEnd"]["total"] == {"minorUnits": 117824}
    assert await upcoming(story) is None

    # the job misses the end date and runs on 2027-03-20: the term expired on 2027-03-15
    # with its one TRUE_UP; a second run that day does nothing more
    report = await story.run_daily(date(2027, 3, 20))
    assert [x for x in report.done if "subscription" in x] == [
        f"Acme Corp / hobby-project: subscription {_id(story)}: expired on 2027-03-15: "
        "invoice INV-2027-000001 for 1178.24 USD"
    ]
    report = await story.run_daily(date(2027, 3, 20))
    assert [x for x in report.done if "subscription" in x] == []
    invoices = await story.invoices()
    assert invoices[-1] == ("INV-2027-000001", "2027-03-20", [("true_up", 2, 117824)])
    assert len(invoices) == 3
    assert (await story.subscription())["status"] == "EXPIRED"


def _id(story: Story) -> int:
    assert story.subscription_id is not None
    return int(relay.from_base64(story.subscription_id)[1])


async def test_an_upgrade_before_a_future_start_counts_the_first_day_at_quarter_1(
    story: Story,
) -> None:
    # 2026-11-16: 10 developers; Acme buys 10 Premium seats reconciled quarterly for
    # 2026-12-01..2027-12-01: 10 x 348.00 = 3480.00
    story.on(date(2026, 11, 16))
    await story.members(10)
    await story.buy(plan="premium", seats=10, startDate="2026-12-01", quarterlyReconciliation=True)
    # 2026-11-25: upgrade to Ultimate before the start: the whole term is Ultimate's, no day
    # was used on Premium (no TRUE_UP line). -(10 x 348.00) and 10 x 1188.00
    story.on(date(2026, 11, 25))
    upgraded = await story.change_plan("ultimate")
    assert [(x["kind"], x["amount"]["minorUnits"]) for x in upgraded["invoice"]["lines"]] == [
        ("PLAN_CHANGE_CREDIT", -348000),
        ("PLAN_CHANGE_CHARGE", 1188000),
    ]
    # 2026-11-28: 2 more developers; the term starts on 2026-12-01 with 12 and stays there
    story.on(date(2026, 11, 28))
    await story.members(12)

    # the job runs next at the end of quarter 1, 2027-03-01 (twice): quarter 1 peaked at 12,
    # 2 over, charged for 3 quarters: 2 x 1188.00 / 4 x 3 = 1782.00
    await story.run_daily(date(2027, 3, 1))
    await story.run_daily(date(2027, 3, 1))
    figures = await story.subscription()
    assert (figures["seats"], figures["quartersReconciled"]) == (12, 1)
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-11-16", [("purchase", 10, 348000)]),
        (
            "INV-2026-000002",
            "2026-11-25",
            [("plan_change_credit", 10, -348000), ("plan_change_charge", 10, 1188000)],
        ),
        ("INV-2027-000001", "2027-03-01", [("reconciliation", 2, 178200)]),
    ]


async def test_a_quarterly_term_upgraded_then_cancelled_is_not_trued_up_at_its_end(
    story: Story,
) -> None:
    # 2026-03-15: 10 developers, 10 Premium seats reconciled quarterly for
    # 2026-03-15..2027-03-15: 10 x 348.00 = 3480.00; quarter 1 ends 2026-06-15, nobody over
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)
    await story.run_daily(date(2026, 6, 15))
    # 2026-08-01, in quarter 2: upgrade to Ultimate, 226 of 365 days left (no TRUE_UP line with
    # quarterly reconciliation): -(10 x 348.00 x 226/365) and 10 x 1188.00 x 226/365
    story.on(date(2026, 8, 1))
    upgraded = await story.change_plan("ultimate")
    assert [(x["kind"], x["amount"]["minorUnits"]) for x in upgraded["invoice"]["lines"]] == [
        ("PLAN_CHANGE_CREDIT", -215474),
        ("PLAN_CHANGE_CHARGE", 735584),
    ]
    # 2026-08-10: Acme cancels; quarterly reconciliation leaves nothing for the end date
    story.on(date(2026, 8, 10))
    cancelled = await ending(story, CANCEL)
    assert cancelled["chargeAtEnd"]["total"] == {"minorUnits": 0}
    await story.run_daily(date(2026, 9, 15))
    # 2026-10-01, quarter 3: 2 more developers; 2027-01-10, quarter 4: one more
    story.on(date(2026, 10, 1))
    await story.members(12)
    # 2026-12-15: quarter 3 reconciled at the Ultimate price: 2 x 1188.00 / 4 x 1 = 594.00
    await story.run_daily(date(2026, 12, 15))
    story.on(date(2027, 1, 10))
    await story.members(13)

    # the job misses the end date and runs on 2027-03-20, twice: the term expires with no
    # TRUE_UP (quarter 4's extra seat is not charged; the quarters charged as they went)
    report = await story.run_daily(date(2027, 3, 20))
    assert [x for x in report.done if "subscription" in x] == [
        f"Acme Corp / hobby-project: subscription {_id(story)}: expired on 2027-03-15"
    ]
    await story.run_daily(date(2027, 3, 20))
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        (
            "INV-2026-000002",
            "2026-08-01",
            [("plan_change_credit", 10, -215474), ("plan_change_charge", 10, 735584)],
        ),
        ("INV-2026-000003", "2026-12-15", [("reconciliation", 2, 59400)]),
    ]


UPCOMING_PLAN = """query($path: String!) { namespace(path: $path) { subscription {
  upcomingRenewal { date seats plan { code } unitPrice { minorUnits } trueUp { minorUnits }
                    total { minorUnits } } } } }"""


async def test_the_projection_with_a_pending_downgrade_is_what_the_job_invoices(
    story: Story,
) -> None:
    # 2026-03-15: 8 developers and 4 guests (8 take a seat on Ultimate); 10 Ultimate seats for
    # 2026-03-15..2027-03-15: 10 x 1188.00 = 11880.00
    story.on(date(2026, 3, 15))
    await story.members(8)
    await story.members(12, role="guest")
    await story.buy(plan="ultimate", seats=10)
    # 2026-05-01: 3 more developers, 11 on Ultimate, 1 over the 10 paid
    story.on(date(2026, 5, 1))
    await story.members(15)
    # 2026-06-01: a downgrade to Premium waits for the renewal, where the 4 guests take a seat
    story.on(date(2026, 6, 1))
    await story.change_plan("premium")
    preview = await members_preview(story, 1)  # still Ultimate's term: its true-up, in full
    assert preview["charge"] == quote(
        "2027-03-15", "TRUE_UP", 1, 118800, ("2026-03-15", "2027-03-15"), "1/1"
    )
    # projected: the Ultimate true-up of the 1 over, 1 x 1188.00, and 15 Premium seats (the 11
    # developers and 4 guests) at 348.00 = 5220.00
    body = await story.gql(UPCOMING_PLAN, {"path": NAMESPACE}, token=story.customer)
    projected = data(body)["namespace"]["subscription"]["upcomingRenewal"]
    assert projected == {
        "date": "2027-03-15",
        "seats": 15,
        "plan": {"code": "premium"},
        "unitPrice": {"minorUnits": 34800},
        "trueUp": {"minorUnits": 118800},
        "total": {"minorUnits": 118800 + 522000},
    }
    # 2027-03-15: the job invoices exactly that, and the new term's peak counts the guests
    await story.run_daily(date(2027, 3, 15))
    figures = await story.subscription()
    assert (figures["plan"], figures["seats"], figures["maxSeatsUsed"]) == (
        {"code": "premium"},
        15,
        15,
    )
    assert (await story.invoices())[-1] == (
        "INV-2027-000001",
        "2027-03-15",
        [("true_up", 1, 118800), ("renewal", 15, 522000)],
    )


async def test_growth_on_days_the_job_missed_after_an_end_date_counts_in_the_new_term(
    story: Story,
) -> None:
    # 2026-03-15: 10 developers, 10 Premium seats for 2026-03-15..2027-03-15 (annual true-up)
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10)
    await story.run_daily(date(2027, 3, 14))
    # the job misses the end date. 2027-03-16, the new term's second day: 13 developers;
    # 2027-03-18: 10 again
    story.on(date(2027, 3, 16))
    await story.members(13)
    story.on(date(2027, 3, 18))
    await story.members(10)

    # 2027-03-20: the job renews with the 10 seats paid for (10 x 348.00 = 3480.00) and the new
    # term's peak so far is 13, not the 10 of today: the 3 over on 2027-03-16 are owed at its
    # true-up, 3 x 348.00 = 1044.00
    await story.run_daily(date(2027, 3, 20))
    figures = await story.subscription()
    assert (figures["startDate"], figures["seats"], figures["seatsInUse"]) == (
        "2027-03-15",
        10,
        10,
    )
    assert (figures["maxSeatsUsed"], figures["seatsOwed"]) == (13, 3)
    projected = await upcoming(story)
    assert (projected["date"], projected["trueUp"]) == ("2028-03-15", {"minorUnits": 104400})
    assert (await story.invoices())[-1] == (
        "INV-2027-000001",
        "2027-03-20",
        [("renewal", 10, 348000)],
    )


async def test_a_monthly_term_anchored_on_the_31st_upgraded_in_february(story: Story) -> None:
    # 2026-01-31: 3 developers, 3 Premium seats monthly: 2026-01-31..2026-02-28 (28 days),
    # 3 x 29.00 = 87.00; 2026-02-10: a 4th developer, 1 over
    story.on(date(2026, 1, 31))
    await story.members(3)
    await story.buy(plan="premium", seats=3, billingPeriod="MONTHLY")
    story.on(date(2026, 2, 10))
    await story.members(4)
    # 2026-02-20: upgrade to Ultimate (99.00 a month), 20 days used and 8 left:
    # TRUE_UP 1 x 29.00 x 20/28 = 20.7143 -> 20.71; -(3 x 29.00 x 8/28) = -24.8571 -> -24.86;
    # 3 x 99.00 x 8/28 = 84.8571 -> 84.86
    story.on(date(2026, 2, 20))
    await story.change_plan("ultimate")
    # 2026-02-28: the job renews for 2026-02-28..2026-03-31 with the 4 users (4 x 99.00) and
    # trues up Ultimate's part of February: 1 x 99.00 x 8/28 = 28.2857 -> 28.29
    await story.run_daily(date(2026, 2, 28))
    # the same day, a plan change would find the new term on its first day: Premium again
    # (a downgrade) waits for 2026-03-31
    await story.change_plan("premium")
    # 2026-03-31: renewed on Premium, 4 x 29.00 = 116.00, to 2026-04-30 (the anchor day, 31)
    await story.run_daily(date(2026, 3, 31))
    figures = await story.subscription()
    assert (figures["plan"], figures["startDate"], figures["endDate"]) == (
        {"code": "premium"},
        "2026-03-31",
        "2026-04-30",
    )
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-01-31", [("purchase", 3, 8700)]),
        (
            "INV-2026-000002",
            "2026-02-20",
            [
                ("true_up", 1, 2071),
                ("plan_change_credit", 3, -2486),
                ("plan_change_charge", 3, 8486),
            ],
        ),
        ("INV-2026-000003", "2026-02-28", [("true_up", 1, 2829), ("renewal", 4, 39600)]),
        ("INV-2026-000004", "2026-03-31", [("renewal", 4, 11600)]),
    ]


async def test_an_upgrade_after_a_quarter_end_the_job_missed_reconciles_it_at_the_old_price(
    story: Story,
) -> None:
    # 2026-03-15: 10 developers, 10 Premium seats reconciled quarterly for
    # 2026-03-15..2027-03-15: 10 x 348.00 = 3480.00; 2026-05-01: 2 guests join (12 take a
    # seat on Premium, 2 over in quarter 1, which ends on 2026-06-15)
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)
    story.on(date(2026, 5, 1))
    await story.members(12, role="guest")

    # the job misses 2026-06-15. 2026-07-01: upgrade to Ultimate, 257 of 365 days left. Quarter
    # 1 was Premium's: reconciled first, at the Premium price, as the job would have on
    # 2026-06-15: 2 x 348.00 / 4 x 3 = 522.00, seats raised to 12; then the upgrade of the 12:
    # -(12 x 348.00 x 257/365) = -2940.3616 -> -2940.36; 12 x 1188.00 x 257/365 = 10037.7863
    # -> 10037.79 (not quarter 1's 2 guests at the Ultimate price, 1782.00, after it)
    story.on(date(2026, 7, 1))
    upgraded = await story.change_plan("ultimate")
    assert [
        (x["kind"], x["quantity"], x["amount"]["minorUnits"]) for x in upgraded["invoice"]["lines"]
    ] == [
        ("RECONCILIATION", 2, 52200),
        ("PLAN_CHANGE_CREDIT", 12, -294036),
        ("PLAN_CHANGE_CHARGE", 12, 1003779),
    ]
    figures = await story.subscription()
    assert (figures["seats"], figures["quartersReconciled"], figures["maxSeatsUsed"]) == (
        12,
        1,
        10,
    )
    # 2026-07-02: the job finds quarter 1 done; 2026-09-15, quarter 2 (from the change day
    # under Ultimate, the guests taking no seat) owes nothing
    await story.run_daily(date(2026, 7, 2))
    await story.run_daily(date(2026, 9, 15))
    assert len(await story.invoices()) == 2


@pytest.mark.usefixtures("demo")
async def test_an_instance_report_across_a_term_end_the_job_missed(
    initech: Initech, license_key: Path
) -> None:
    story = initech
    keys = LicenseKeys.load(license_key, [])
    # 2027-01-01: 20 Premium seats for Initech's offline instance, 2027-01-01..2028-01-01,
    # annual true-up: 20 x 348.00 = 6960.00; 2027-12-30: it counts 20 users
    story.clock.current = date(2027, 1, 1)
    await story.buy(20)
    story.clock.current = date(2027, 12, 30)
    await story.report(20, "2027-12-30T09:00:00Z")

    # the job misses the end date. 2028-01-02: counts taken on the new term's days arrive: 25
    # on 2028-01-01, 21 on 2028-01-02 (the current count). The ending term's peak stays 20.
    story.clock.current = date(2028, 1, 2)
    first = await story.report(25, "2028-01-01T10:00:00Z")
    assert (first["reportChanged"], first["maxSeatsUsed"]) == (True, 20)
    await story.report(21, "2028-01-02T10:00:00Z")

    # 2028-01-03: the job renews with the 21 users (21 x 348.00 = 7308.00), no true-up for the
    # ended term (20 of 20), and the new term's peak so far is the 25 of 2028-01-01
    story.clock.current = date(2028, 1, 3)
    renewed = await run_daily(story.session, day=date(2028, 1, 3), sign=keys.signer)
    assert renewed.failed == []
    subscription = await story.session.get(
        Subscription, int(relay.from_base64(story.subscription_id)[1])
    )
    assert subscription is not None
    await story.session.refresh(subscription)
    assert (subscription.start_date, subscription.seats, subscription.max_seats_used) == (
        date(2028, 1, 1),
        21,
        25,
    )

    # 2028-01-04: a count taken on 2027-12-31, the ended term's last day, arrives: that term
    # is closed, so it is refused with its reason, and nothing is written
    story.clock.current = date(2028, 1, 4)
    before = await row_counts(story.session)
    late = await story.report(30, "2027-12-31T18:00:00Z")
    assert (late["code"], late["field"]) == ("REPORT_BEFORE_TERM", "reportedAt")
    assert await row_counts(story.session) == before

    invoices = (await story.session.execute(select(Invoice).order_by(Invoice.id))).scalars()
    assert [(i.issued_on, i.total) for i in invoices] == [
        (date(2027, 1, 1), 696000),
        (date(2028, 1, 3), 730800),
    ]
