"""A year that starts on Premium and ends on Ultimate: seats added in spring, an upgrade in
September (the two guests stop taking a seat), the team outgrowing its seats in winter, and a
renewal on the end date that charges the true-up of the ending term's Ultimate part with the
next term."""

from datetime import date

from tests.scenarios.conftest import Story


async def test_upgrade_to_ultimate_mid_term_then_renew_with_true_up(story: Story) -> None:
    # 2026-03-15: 6 developers and 2 guests (guests take a seat on Premium: 8 in use);
    # Acme buys 10 Premium seats for 2026-03-15..2027-03-15 (365 days): 10 x 348.00
    story.on(date(2026, 3, 15))
    await story.members(6)
    await story.members(8, role="guest")
    await story.buy(plan="premium", seats=10)
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (10, 8, 8)

    # 2026-05-20: 2 more seats for the 299 days left, then 4 more developers join (12 in use)
    # 2 x 348.00 x 299/365 = 570.1479 -> 570.15
    story.on(date(2026, 5, 20))
    await story.add_seats(2)
    await story.members(12)
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (12, 12, 12)

    # 2026-09-15: upgrade to Ultimate for the 181 days left, effective now
    # credit  -(12 x 348.00 x 181/365) = -2070.8384 -> -2070.84
    # charge    12 x 1188.00 x 181/365 =  7069.4137 ->  7069.41
    story.on(date(2026, 9, 15))
    upgraded = await story.change_plan("ultimate")
    assert upgraded["invoice"]["total"]["minorUnits"] == 706941 - 207084
    # no Premium overage before the change (12 used at most, 12 paid); the 2 guests stop
    # taking a seat and the peak restarts under Ultimate at the 10 who take one now
    figures = await story.subscription()
    assert figures["plan"] == {"code": "ultimate"}
    assert figures["pendingPlan"] is None
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (12, 10, 10)

    # 2026-11-02: 4 more developers: 14 take a seat on Ultimate, 2 above the 12 paid
    story.on(date(2026, 11, 2))
    await story.members(16)
    # 2027-01-10: one of them leaves (13 in use); the peak stays at 14
    story.on(date(2027, 1, 10))
    await story.members(15)
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (12, 13, 14)

    # 2027-03-14: the day before the end date the job has nothing to do
    await story.run_daily(date(2027, 3, 14))

    # 2027-03-15, the end date, before the job ran: Acme renews 14 Ultimate seats. One invoice:
    # true-up of Ultimate's part of the ending term, 2026-09-15..2027-03-15 (the days before
    # were Premium's): (14 - 12) x 1188.00 x 181/365 = 1178.2356 -> 1178.24
    # renewal for 2027-03-15..2028-03-15: 14 x 1188.00
    story.on(date(2027, 3, 15))
    renewed = await story.renew(seats=14)
    assert renewed["invoice"]["total"]["minorUnits"] == 117824 + 14 * 118800
    # the job that day finds the term already renewed: no second renewal, no invoice
    report = await story.run_daily(date(2027, 3, 15))
    assert not any("renewed" in line for line in report.done)

    figures = await story.subscription()
    assert figures["plan"] == {"code": "ultimate"}
    assert (figures["seats"], figures["startDate"], figures["endDate"]) == (
        14,
        "2027-03-15",
        "2028-03-15",
    )
    # the new term's peak restarts at the 13 who take a seat now; nothing is owed
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (13, 13)
    assert figures["renewal"] is None
    assert (figures["status"], figures["autoRenew"]) == ("ACTIVE", True)

    assert await story.invoices() == [
        # 10 x 348.00 = 3480.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        # 2 x 348.00 x 299/365 = 570.1479 -> 570.15
        ("INV-2026-000002", "2026-05-20", [("seats", 2, 57015)]),
        # -(12 x 348.00 x 181/365) = -2070.84 ; 12 x 1188.00 x 181/365 = 7069.41
        (
            "INV-2026-000003",
            "2026-09-15",
            [("plan_change_credit", 12, -207084), ("plan_change_charge", 12, 706941)],
        ),
        # (14 - 12) x 1188.00 x 181/365 = 1178.24 ; 14 x 1188.00 = 16632.00
        (
            "INV-2027-000001",
            "2027-03-15",
            [("true_up", 2, 117824), ("renewal", 14, 1663200)],
        ),
    ]
