"""Where a term's peak begins: a subscription bought to start next month counts no seats used
before its start date, and one changed before it starts is charged for its whole term."""

from datetime import date

from tests.scenarios.conftest import Story


async def test_seats_used_before_a_future_start_are_not_billed(story: Story) -> None:
    # 2026-11-16: 10 developers; Acme buys 10 Premium seats for a term that starts next month,
    # 2026-12-01..2027-12-01 (365 days): 10 x 348.00 = 3480.00, invoiced today
    story.on(date(2026, 11, 16))
    await story.members(10)
    bought = await story.buy(plan="premium", seats=10, startDate="2026-12-01")
    assert bought["invoice"]["total"]["minorUnits"] == 348000
    figures = await story.subscription()
    assert (figures["startDate"], figures["endDate"]) == ("2026-12-01", "2027-12-01")
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (10, 10, 10)

    # 2026-11-20, before the start: 2 developers join for a day's work and leave again
    story.on(date(2026, 11, 20))
    await story.members(12)
    await story.members(10)
    figures = await story.subscription()
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (10, 10)
    await story.run_daily(date(2026, 11, 20))

    # 2026-12-01, the start date: the term's peak starts at the 10 in use that day
    await story.run_daily(date(2026, 12, 1))
    figures = await story.subscription()
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (10, 10)

    # 2027-11-30: Acme renews 10 seats for 2027-12-01..2028-12-01: 10 x 348.00
    story.on(date(2027, 11, 30))
    await story.renew(seats=10)
    # 2027-12-01: the job starts the new term; the ending term owes nothing (10 used, 10 paid)
    report = await story.run_daily(date(2027, 12, 1))
    assert any("renewed as bought" in line for line in report.done)

    assert await story.invoices() == [
        ("INV-2026-000001", "2026-11-16", [("purchase", 10, 348000)]),
        ("INV-2027-000001", "2027-11-30", [("renewal", 10, 348000)]),
    ]


async def test_growth_on_the_start_date_counts_from_the_count_the_term_starts_with(
    story: Story,
) -> None:
    # 2026-11-16: 10 developers; 10 Premium seats for 2026-12-01..2027-12-01
    story.on(date(2026, 11, 16))
    await story.members(10)
    await story.buy(plan="premium", seats=10, startDate="2026-12-01")
    # 2026-11-30: 2 developers join and stay: the term will start with 12 in use
    story.on(date(2026, 11, 30))
    await story.members(12)
    # 2026-12-01, the start date, before the job ran: one of them leaves. The term started
    # with 12 in use, so its peak is 12, 2 above the 10 paid
    story.on(date(2026, 12, 1))
    await story.members(11)
    await story.run_daily(date(2026, 12, 1))
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (10, 11, 12)

    # 2027-12-01: renewed on the end date with 11 seats; the true-up bills the 2 seats over:
    # (12 - 10) x 348.00 = 696.00 beside the renewal 11 x 348.00 = 3828.00
    story.on(date(2027, 12, 1))
    renewed = await story.renew(seats=11)
    assert renewed["invoice"]["total"]["minorUnits"] == 2 * 34800 + 11 * 34800
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-11-16", [("purchase", 10, 348000)]),
        ("INV-2027-000001", "2027-12-01", [("true_up", 2, 69600), ("renewal", 11, 382800)]),
    ]


async def test_seats_and_plan_changed_before_a_future_start(story: Story) -> None:
    # 2026-11-16: 8 developers and 2 guests (10 take a seat on Premium); Acme buys 10 Premium
    # seats for 2026-12-01..2027-12-01: 10 x 348.00 = 3480.00
    story.on(date(2026, 11, 16))
    await story.members(8)
    await story.members(10, role="guest")
    await story.buy(plan="premium", seats=10, startDate="2026-12-01")

    # 2026-11-20: 3 more seats. The term has not started: they cost the whole term,
    # 3 x 348.00 x 365/365 = 1044.00
    story.on(date(2026, 11, 20))
    added = await story.add_seats(3)
    [line] = added["invoice"]["lines"]
    assert (line["periodStart"], line["periodEnd"]) == ("2026-12-01", "2027-12-01")
    assert (line["fractionNumerator"], line["fractionDenominator"]) == (365, 365)

    # 2026-11-25: upgrade to Ultimate for the whole term; no day was used on Premium, so no
    # Premium overage is owed. Credit -(13 x 348.00) = -4524.00, charge 13 x 1188.00 = 15444.00
    story.on(date(2026, 11, 25))
    upgraded = await story.change_plan("ultimate")
    assert [line["kind"] for line in upgraded["invoice"]["lines"]] == [
        "PLAN_CHANGE_CREDIT",
        "PLAN_CHANGE_CHARGE",
    ]
    # the guests take no seat on Ultimate; the term, not started, has no peak of its own
    figures = await story.subscription()
    assert figures["plan"] == {"code": "ultimate"}
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (13, 8, 8)

    # 2026-12-01: the term starts with 8 in use
    await story.run_daily(date(2026, 12, 1))
    figures = await story.subscription()
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (8, 8)

    # 2027-11-30: Acme renews 8 Ultimate seats: 8 x 1188.00 = 9504.00; 2027-12-01: the job
    # starts it, nothing owed
    story.on(date(2027, 11, 30))
    await story.renew(seats=8)
    await story.run_daily(date(2027, 12, 1))

    assert await story.invoices() == [
        ("INV-2026-000001", "2026-11-16", [("purchase", 10, 348000)]),
        ("INV-2026-000002", "2026-11-20", [("seats", 3, 104400)]),
        (
            "INV-2026-000003",
            "2026-11-25",
            [("plan_change_credit", 13, -452400), ("plan_change_charge", 13, 1544400)],
        ),
        ("INV-2027-000001", "2027-11-30", [("renewal", 8, 950400)]),
    ]
