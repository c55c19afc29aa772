"""Two stories of terms ending while nobody looks: a monthly Premium subscription whose daily
job stops running for three months and catches up in one run, renewing month after month
with one invoice per renewal; and an Ultimate year with a downgrade to Premium scheduled
mid-term that takes effect, at Premium prices, when the job renews it."""

from datetime import date

from tests.commerce import RENEW, result
from tests.scenarios.conftest import Story


async def test_monthly_subscription_catches_up_after_missed_days(story: Story) -> None:
    # 2026-03-15: 3 developers; Acme buys 3 Premium seats monthly: 2026-03-15..2026-04-15
    # (31 days) for 3 x 29.00
    story.on(date(2026, 3, 15))
    await story.members(3)
    await story.buy(plan="premium", seats=3, billingPeriod="MONTHLY")
    figures = await story.subscription()
    assert (figures["startDate"], figures["endDate"]) == ("2026-03-15", "2026-04-15")

    # 2026-03-25: 1 more seat for the 21 days left of 31: 1 x 29.00 x 21/31 = 19.6452 -> 19.65
    story.on(date(2026, 3, 25))
    await story.add_seats(1)

    # 2026-04-01: the team grows to 5, 1 above the 4 seats paid
    story.on(date(2026, 4, 1))
    await story.members(5)

    # 2026-04-15, the end date: the job renews for a month at the billable count (5), with
    # the true-up of the ending month at the monthly price
    report = await story.run_daily(date(2026, 4, 15))
    assert any("renewed automatically with 5 seats" in line for line in report.done)
    figures = await story.subscription()
    assert (figures["seats"], figures["startDate"], figures["endDate"]) == (
        5,
        "2026-04-15",
        "2026-05-15",
    )

    # the job stops running. 2026-05-02: the team grows to 6, 1 above the 5 seats paid
    story.on(date(2026, 5, 2))
    await story.members(6)
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (5, 6, 6)

    # 2026-07-20: the job runs again, once, and catches up on the three months that ended
    # (2026-05-15, 2026-06-15, 2026-07-15): one renewal and one invoice for each, all issued
    # today; only the first closes a month with seats owed
    report = await story.run_daily(date(2026, 7, 20))
    renewals = [line for line in report.done if "renewed automatically" in line]
    assert len(renewals) == 3
    for line, ended in zip(renewals, ["2026-05-15", "2026-06-15", "2026-07-15"], strict=True):
        assert "with 6 seats" in line
        assert f"from {ended}: invoice INV-2026-" in line
    figures = await story.subscription()
    assert (figures["seats"], figures["startDate"], figures["endDate"]) == (
        6,
        "2026-07-15",
        "2026-08-15",
    )
    assert (figures["seatsInUse"], figures["maxSeatsUsed"], figures["status"]) == (
        6,
        6,
        "ACTIVE",
    )
    # running it again that day does nothing more
    report = await story.run_daily(date(2026, 7, 20))
    assert not any("renewed" in line for line in report.done)

    assert await story.invoices() == [
        # 3 x 29.00 = 87.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 3, 8700)]),
        # 1 x 29.00 x 21/31 = 19.6452 -> 19.65
        ("INV-2026-000002", "2026-03-25", [("seats", 1, 1965)]),
        # (5 - 4) x 29.00 = 29.00 ; 5 x 29.00 = 145.00 for 2026-04-15..2026-05-15
        ("INV-2026-000003", "2026-04-15", [("true_up", 1, 2900), ("renewal", 5, 14500)]),
        # (6 - 5) x 29.00 = 29.00 ; 6 x 29.00 = 174.00 for 2026-05-15..2026-06-15
        ("INV-2026-000004", "2026-07-20", [("true_up", 1, 2900), ("renewal", 6, 17400)]),
        # 6 x 29.00 = 174.00 for 2026-06-15..2026-07-15
        ("INV-2026-000005", "2026-07-20", [("renewal", 6, 17400)]),
        # 6 x 29.00 = 174.00 for 2026-07-15..2026-08-15
        ("INV-2026-000006", "2026-07-20", [("renewal", 6, 17400)]),
    ]


async def test_downgrade_scheduled_mid_term_takes_effect_at_renewal(story: Story) -> None:
    # 2026-03-15: 4 developers; Acme buys 5 Ultimate seats: 5 x 1188.00
    story.on(date(2026, 3, 15))
    await story.members(4)
    await story.buy(plan="ultimate", seats=5)

    # 2026-08-01: a downgrade to Premium is scheduled: no invoice, Ultimate until the end date
    story.on(date(2026, 8, 1))
    scheduled = await story.change_plan("premium")
    assert scheduled["invoice"] is None
    figures = scheduled["subscription"]
    assert (figures["plan"], figures["pendingPlan"]) == ({"code": "ultimate"}, {"code": "premium"})

    # 2026-10-01: 1 more seat, still at the Ultimate price, for the 165 days left of 365
    # 1 x 1188.00 x 165/365 = 537.0411 -> 537.04
    story.on(date(2026, 10, 1))
    await story.add_seats(1)

    # 2027-03-15, the end date: the job renews automatically on Premium with the 6 seats paid
    # for (4 are in use: an automatic renewal never shrinks), priced at Premium: 6 x 348.00;
    # no true-up (the peak, 4, is below the 6 seats paid)
    report = await story.run_daily(date(2027, 3, 15))
    assert any("renewed automatically with 6 seats" in line for line in report.done)
    figures = await story.subscription()
    assert (figures["plan"], figures["pendingPlan"]) == ({"code": "premium"}, None)
    assert (figures["seats"], figures["startDate"], figures["endDate"]) == (
        6,
        "2027-03-15",
        "2028-03-15",
    )
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (4, 4)

    assert await story.invoices() == [
        # 5 x 1188.00 = 5940.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 5, 594000)]),
        # 1 x 1188.00 x 165/365 = 537.0411 -> 537.04
        ("INV-2026-000002", "2026-10-01", [("seats", 1, 53704)]),
        # 6 x 348.00 = 2088.00 for 2027-03-15..2028-03-15
        ("INV-2027-000001", "2027-03-15", [("renewal", 6, 208800)]),
    ]


async def test_downgrade_with_guests_renews_at_the_premium_seat_count(story: Story) -> None:
    # 2026-03-15: 4 developers and 2 guests; on Ultimate the guests take no seat (4 in use);
    # Acme buys 4 Ultimate seats: 4 x 1188.00
    story.on(date(2026, 3, 15))
    await story.members(4)
    await story.members(6, role="guest")
    await story.buy(plan="ultimate", seats=4)

    # 2026-08-01: a downgrade to Premium is scheduled for the renewal
    story.on(date(2026, 8, 1))
    await story.change_plan("premium")

    # 2027-03-15: the job renews on Premium, where the guests take a seat: 6 in use, so the
    # renewal should be for 6 seats (4 x 348.00 + the guests), 6 x 348.00
    await story.run_daily(date(2027, 3, 15))
    figures = await story.subscription()
    assert figures["plan"] == {"code": "premium"}
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (6, 6, 6)

    assert await story.invoices() == [
        # 4 x 1188.00 = 4752.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 4, 475200)]),
        # 6 x 348.00 = 2088.00 (today: 4 x 348.00 = 1392.00, leaving 2 seats owed at once)
        ("INV-2027-000001", "2027-03-15", [("renewal", 6, 208800)]),
    ]


async def test_renewing_with_a_pending_downgrade_needs_seats_for_the_guests(
    story: Story,
) -> None:
    # 2026-03-15: 4 developers and 2 guests, 4 Ultimate seats; 2026-08-01: downgrade scheduled
    story.on(date(2026, 3, 15))
    await story.members(4)
    await story.members(6, role="guest")
    await story.buy(plan="ultimate", seats=4)
    story.on(date(2026, 8, 1))
    await story.change_plan("premium")

    # 2027-03-01: renewing early with 4 seats for a Premium term in which 6 take a seat is
    # below the billable count and should be refused (today it is accepted)
    story.on(date(2027, 3, 1))
    request = {"subscriptionId": story.subscription_id, "seats": 4}
    refused = result(await story.gql(RENEW, {"input": request}, token=story.customer))
    assert (refused["__typename"], refused.get("code"), refused.get("field")) == (
        "InvalidInputError",
        "SEATS_BELOW_BILLABLE",
        "seats",
    )
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 4, 475200)]),
    ]


async def test_a_member_who_joins_during_missed_days_is_not_trued_up_for_an_ended_month(
    story: Story,
) -> None:
    # 2026-03-15: 5 developers, 5 Premium seats monthly (5 x 29.00)
    story.on(date(2026, 3, 15))
    await story.members(5)
    await story.buy(plan="premium", seats=5, billingPeriod="MONTHLY")
    # 2026-04-15: the job renews for 2026-04-15..2026-05-15 with 5 seats (5 x 29.00)
    await story.run_daily(date(2026, 4, 15))

    # the job stops running; 2026-06-20 (after that month ended on 2026-05-15): a 6th joins
    story.on(date(2026, 6, 20))
    await story.members(6)

    # 2026-07-20: the catch-up closes 2026-04-15..2026-05-15, whose peak was 5 of 5 seats:
    # no true-up is owed for it (today: 1 x 29.00 for a member who was not there)
    await story.run_daily(date(2026, 7, 20))
    invoices = await story.invoices()
    assert invoices[:2] == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 5, 14500)]),
        ("INV-2026-000002", "2026-04-15", [("renewal", 5, 14500)]),
    ]
    closing = invoices[2]
    assert closing[0:2] == ("INV-2026-000003", "2026-07-20")
    assert [kind for kind, _, _ in closing[2]] == ["renewal"]
