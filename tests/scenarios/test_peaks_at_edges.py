"""Where a term's peak begins: a subscription bought to start next month counts no seats used
before its start date, and one changed before it starts is charged for its whole term. An
upgrade restarts the peak under the new plan: the days before it count under the old plan's
rule and price, settled on the upgrade's invoice."""

from datetime import date

from tests.commerce import CHANGE_PLAN
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


async def test_guests_owe_nothing_after_an_upgrade_on_day_0(story: Story) -> None:
    # 2026-03-15: 8 developers and 3 guests; Acme buys 11 Premium seats for
    # 2026-03-15..2027-03-15: 11 x 348.00 = 3828.00. 2 more guests join the same day:
    # 13 take a seat on Premium, 2 above the 11 paid
    story.on(date(2026, 3, 15))
    await story.members(8)
    await story.members(11, role="guest")
    await story.buy(plan="premium", seats=11)
    await story.members(13, role="guest")
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (11, 13, 13)

    # the same day, day 0 of the term: upgrade to Ultimate. No day passed on Premium, so no
    # Premium overage is owed; credit -(11 x 348.00) = -3828.00, charge 11 x 1188.00 =
    # 13068.00. Guests take no seat on Ultimate: the peak restarts at the 8 developers
    upgraded = await story.change_plan("ultimate")
    assert [line["kind"] for line in upgraded["invoice"]["lines"]] == [
        "PLAN_CHANGE_CREDIT",
        "PLAN_CHANGE_CHARGE",
    ]
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (11, 8, 8)

    # 2027-03-15, the end date: renewing 11 Ultimate seats charges no true-up for the guests
    # (it was 2 x 1188.00 = 2376.00): 11 x 1188.00 = 13068.00
    await story.run_daily(date(2027, 3, 14))
    story.on(date(2027, 3, 15))
    await story.renew(seats=11)
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 11, 382800)]),
        (
            "INV-2026-000002",
            "2026-03-15",
            [("plan_change_credit", 11, -382800), ("plan_change_charge", 11, 1306800)],
        ),
        ("INV-2027-000001", "2027-03-15", [("renewal", 11, 1306800)]),
    ]


async def test_guests_owe_nothing_at_quarter_1_after_an_upgrade_on_day_0(story: Story) -> None:
    # the same team and upgrade with quarterly reconciliation: 8 developers, 5 guests on 11
    # Premium seats bought 2026-03-15, upgraded to Ultimate the same day
    story.on(date(2026, 3, 15))
    await story.members(8)
    await story.members(11, role="guest")
    await story.buy(plan="premium", seats=11, quarterlyReconciliation=True)
    await story.members(13, role="guest")
    await story.change_plan("ultimate")
    # 2026-06-15, end of quarter 1: 8 take a seat on Ultimate, none over; nothing charged
    # (it was 2 x 1188.00 / 4 x 3 = 1782.00)
    report = await story.run_daily(date(2026, 6, 15))
    assert any("quarter 1 reconciled, 0 seats over" in line for line in report.done)
    figures = await story.subscription()
    assert (figures["seats"], figures["quartersReconciled"]) == (11, 1)
    assert [number for number, _, _ in await story.invoices()] == [
        "INV-2026-000001",
        "INV-2026-000002",
    ]


async def test_premium_overage_before_an_upgrade_is_settled_on_its_invoice(story: Story) -> None:
    # 2026-03-15: 10 developers; 10 Premium seats for 2026-03-15..2027-03-15 (365 days)
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10)
    # 2026-05-01: 2 guests join: 12 take a seat on Premium, 2 above the 10 paid
    story.on(date(2026, 5, 1))
    await story.members(12, role="guest")

    # 2026-09-15: the upgrade to Ultimate, previewed first. 184 days were used on Premium,
    # 181 are left. Premium overage: 2 x 348.00 x 184/365 = 350.8603 -> 350.86;
    # credit -(10 x 348.00 x 181/365) = -1725.70; charge 10 x 1188.00 x 181/365 = 5891.18
    story.on(date(2026, 9, 15))
    preview = await story.change(CHANGE_PLAN, plan="ultimate", preview=True)
    assert preview["__typename"] == "SubscriptionChangePreview"
    lines = [
        (
            line["kind"],
            line["quantity"],
            line["unitPrice"]["minorUnits"],
            line["amount"]["minorUnits"],
            line["periodStart"],
            line["periodEnd"],
            f"{line['fractionNumerator']}/{line['fractionDenominator']}",
        )
        for line in preview["invoice"]["lines"]
    ]
    assert lines == [
        ("TRUE_UP", 2, 34800, 35086, "2026-03-15", "2026-09-15", "184/365"),
        ("PLAN_CHANGE_CREDIT", 10, 34800, -172570, "2026-09-15", "2027-03-15", "181/365"),
        ("PLAN_CHANGE_CHARGE", 10, 118800, 589118, "2026-09-15", "2027-03-15", "181/365"),
    ]
    assert preview["invoice"]["total"]["minorUnits"] == 35086 - 172570 + 589118
    # the preview wrote nothing: still Premium, peak 12
    figures = await story.subscription()
    assert (figures["plan"], figures["maxSeatsUsed"]) == ({"code": "premium"}, 12)

    upgraded = await story.change_plan("ultimate")
    assert upgraded["invoice"]["lines"] == preview["invoice"]["lines"]
    # from the change day the guests take no seat: the peak restarts at 10
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (10, 10, 10)

    # 2027-03-15: renewing 10 Ultimate seats owes no true-up: 10 x 1188.00 = 11880.00
    story.on(date(2027, 3, 15))
    await story.renew(seats=10)
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
        ("INV-2027-000001", "2027-03-15", [("renewal", 10, 1188000)]),
    ]


async def test_the_quarter_of_an_upgrade_reconciles_from_the_change_day(story: Story) -> None:
    # 2026-03-15: 10 developers; 10 Premium seats with quarterly reconciliation
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)
    # 2026-04-01: 2 guests join (12 on Premium); 2026-05-01: a third joins (13), and the same
    # day Acme upgrades to Ultimate for the 318 days left. Quarterly reconciliation charges a
    # quarter's overage for the quarters after it, which are Ultimate's now: no Premium line.
    # credit -(10 x 348.00 x 318/365) = -3031.89; charge 10 x 1188.00 x 318/365 = 10350.25
    story.on(date(2026, 4, 1))
    await story.members(12, role="guest")
    story.on(date(2026, 5, 1))
    await story.members(13, role="guest")
    await story.change_plan("ultimate")
    figures = await story.subscription()
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (10, 10)
    # 2026-05-20: one more developer: 11 on Ultimate
    story.on(date(2026, 5, 20))
    await story.members(14)

    # 2026-06-15, end of quarter 1: counted from 2026-05-01 under Ultimate, the peak is 11,
    # 1 over: 1 x 1188.00 / 4 x 3 = 891.00 (not the 13 counted on Premium: 2673.00)
    report = await story.run_daily(date(2026, 6, 15))
    assert any("quarter 1 reconciled, 1 seats over" in line for line in report.done)
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        (
            "INV-2026-000002",
            "2026-05-01",
            [("plan_change_credit", 10, -303189), ("plan_change_charge", 10, 1035025)],
        ),
        ("INV-2026-000003", "2026-06-15", [("reconciliation", 1, 89100)]),
    ]


async def test_renewing_into_a_plan_that_counts_guests_recounts_the_peak(story: Story) -> None:
    # 2026-03-15: 8 developers and 3 guests; 8 take a seat on Ultimate: 8 x 1188.00
    story.on(date(2026, 3, 15))
    await story.members(8)
    await story.members(11, role="guest")
    await story.buy(plan="ultimate", seats=8)
    # 2026-10-01: a downgrade to Premium, for the renewal
    story.on(date(2026, 10, 1))
    await story.change_plan("premium")
    # 2027-03-15, the end date: Acme renews 11 Premium seats (the guests count on Premium):
    # 11 x 348.00 = 3828.00; the ending Ultimate term owes nothing (8 used, 8 paid)
    story.on(date(2027, 3, 15))
    renewed = await story.renew(seats=11)
    assert renewed["invoice"]["total"]["minorUnits"] == 11 * 34800
    # the new term's figures are counted under Premium's rule at once
    figures = await story.subscription()
    assert figures["plan"] == {"code": "premium"}
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (11, 11, 11)


async def test_a_peak_on_a_quarter_end_day_belongs_to_the_next_quarter(story: Story) -> None:
    # 2026-03-15: 10 developers; 10 Premium seats with quarterly reconciliation. Quarter 1
    # is 2026-03-15..2026-06-15, quarter 2 2026-06-15..2026-09-15 (half-open)
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)
    # 2026-06-14, quarter 1's last day: 2 developers join and leave again (peak 12)
    story.on(date(2026, 6, 14))
    await story.members(12)
    await story.members(10)
    await story.run_daily(date(2026, 6, 14))
    # 2026-06-15, quarter 1's end date: 3 join before the job runs (13 in use). That day is
    # quarter 2's first: quarter 1 charges its own peak, 2 over: 2 x 348.00 / 4 x 3 = 522.00
    story.on(date(2026, 6, 15))
    await story.members(13)
    report = await story.run_daily(date(2026, 6, 15))
    assert any("quarter 1 reconciled, 2 seats over" in line for line in report.done)
    assert (await story.subscription())["seats"] == 12
    # 2026-06-16: they leave again; quarter 2 still saw 13 on its first day
    story.on(date(2026, 6, 16))
    await story.members(10)
    # 2026-09-15, end of quarter 2: 13 - 12 = 1 over: 1 x 348.00 / 4 x 2 = 174.00
    report = await story.run_daily(date(2026, 9, 15))
    assert any("quarter 2 reconciled, 1 seats over" in line for line in report.done)
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        ("INV-2026-000002", "2026-06-15", [("reconciliation", 2, 52200)]),
        ("INV-2026-000003", "2026-09-15", [("reconciliation", 1, 17400)]),
    ]
