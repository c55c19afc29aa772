"""A year with quarterly reconciliation: overage charged at the end of quarter 1, seats added
mid-term, quiet quarters 2 and 3, and an automatic renewal with the seats paid for."""

from datetime import date

from tests.scenarios.conftest import Story


async def test_a_year_with_quarterly_reconciliation(story: Story) -> None:
    # 2026-03-15: 8 developers; Acme buys 10 Premium seats with quarterly reconciliation
    story.on(date(2026, 3, 15))
    await story.members(8)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)

    # 2026-05-01: the team grows to 14 (4 above the seats paid)
    story.on(date(2026, 5, 1))
    await story.members(14)
    figures = await story.subscription()
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (14, 14)

    # 2026-06-15, end of quarter 1: 4 seats over, charged for 3 quarters: 4 x 348.00 / 4 x 3
    await story.run_daily(date(2026, 6, 15))
    assert (await story.subscription())["seats"] == 14
    # running the job again that day does nothing more
    await story.run_daily(date(2026, 6, 15))

    # 2026-07-01: 2 more seats for 257 of 365 days: 2 x 348.00 x 257/365 = 490.0603 -> 490.06
    story.on(date(2026, 7, 1))
    await story.add_seats(2)

    # quarters 2 and 3 end with 14 in use and 16 paid: nothing to charge
    await story.run_daily(date(2026, 9, 15))
    await story.run_daily(date(2026, 12, 15))
    assert (await story.subscription())["quartersReconciled"] == 3

    # 2027-03-15: auto-renewal with the 16 seats paid for (14 in use: an automatic renewal
    # never shrinks), no true-up (reconciled quarterly)
    report = await story.run_daily(date(2027, 3, 15))
    assert any("renewed automatically with 16 seats" in line for line in report.done)
    renewed = await story.subscription()
    assert (renewed["seats"], renewed["startDate"], renewed["endDate"]) == (
        16,
        "2027-03-15",
        "2028-03-15",
    )
    assert (renewed["maxSeatsUsed"], renewed["quartersReconciled"]) == (14, 0)

    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        ("INV-2026-000002", "2026-06-15", [("reconciliation", 4, 104400)]),
        ("INV-2026-000003", "2026-07-01", [("seats", 2, 49006)]),
        # 16 x 348.00 = 5568.00
        ("INV-2027-000001", "2027-03-15", [("renewal", 16, 556800)]),
    ]


async def test_quarters_reconciled_late_each_charge_their_own_peak(story: Story) -> None:
    # 2026-03-15: 10 developers; Acme buys 10 Premium seats with quarterly reconciliation
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)

    # 2026-07-01, in quarter 2: the team grows to 15; the daily job has not run since
    story.on(date(2026, 7, 1))
    await story.members(15)

    # 2026-10-01: the job runs at last. Quarter 1 peaked at 10 (nothing over); quarter 2 at
    # 15: 5 x 348.00 / 4 x 2 quarters left = 870.00 (not 5 x 3/4 charged to quarter 1)
    report = await story.run_daily(date(2026, 10, 1))
    assert [line for line in report.done if "quarter" in line] == [
        line for line in report.done if "reconciled" in line
    ]
    assert (await story.subscription())["seats"] == 15
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        ("INV-2026-000002", "2026-10-01", [("reconciliation", 5, 87000)]),
    ]
    assert any(
        "quarter 2 reconciled, 5 seats over: invoice INV-2026-000002 for 870.00 USD" in line
        for line in report.done
    ), report.done
