"""A leap year without quarterly reconciliation: the team outgrows its seats mid-year, Acme
renews early (on the leap day) with more seats, and the daily job on the end date starts the
new term and charges the annual true-up of the ending term as an invoice of its own."""

from datetime import date

from tests.scenarios.conftest import Story


async def test_early_renewal_then_true_up_invoice_on_the_end_date(story: Story) -> None:
    # 2027-03-01: 5 developers; Acme buys 5 Premium seats. The term 2027-03-01..2028-03-01
    # holds 2028-02-29: 366 days. 5 x 348.00
    story.on(date(2027, 3, 1))
    await story.members(5)
    await story.buy(plan="premium", seats=5)
    figures = await story.subscription()
    assert (figures["startDate"], figures["endDate"], figures["quarterlyReconciliation"]) == (
        "2027-03-01",
        "2028-03-01",
        False,
    )

    # 2027-06-10: the team grows to 8, 3 above the seats paid; nothing is charged yet
    story.on(date(2027, 6, 10))
    await story.members(8)
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (5, 8, 8)

    # 2027-08-01: 1 more seat for the 213 days left of 366
    # 1 x 348.00 x 213/366 = 202.5246 -> 202.52
    story.on(date(2027, 8, 1))
    await story.add_seats(1)

    # 2027-10-01: the team reaches 9; 2027-12-01: it is back to 7. The peak stays 9.
    story.on(date(2027, 10, 1))
    await story.members(9)
    story.on(date(2027, 12, 1))
    await story.members(7)
    figures = await story.subscription()
    assert (figures["seats"], figures["seatsInUse"], figures["maxSeatsUsed"]) == (6, 7, 9)

    # 2028-02-29, the leap day: Acme renews early with 10 seats for 2028-03-01..2029-03-01,
    # invoiced now at the price in force on 2028-03-01: 10 x 348.00
    story.on(date(2028, 2, 29))
    renewed = await story.renew(seats=10)
    assert renewed["invoice"]["total"]["minorUnits"] == 10 * 34800
    # the running term is unchanged; the next one waits for its start date
    figures = await story.subscription()
    assert (figures["seats"], figures["startDate"], figures["endDate"]) == (
        6,
        "2027-03-01",
        "2028-03-01",
    )
    assert figures["renewal"] == {
        "seats": 10,
        "price": {"unitAmount": {"minorUnits": 34800}, "billingPeriod": "ANNUAL"},
    }
    # the job on the leap day has nothing to do
    report = await story.run_daily(date(2028, 2, 29))
    assert not any("renewed" in line for line in report.done)

    # 2028-03-01, the end date: the job starts the term bought in advance and charges the
    # true-up of the ending term on its own invoice: (9 - 6) x 348.00 at the full price
    report = await story.run_daily(date(2028, 3, 1))
    assert any("renewed as bought" in line for line in report.done)
    figures = await story.subscription()
    assert (figures["seats"], figures["startDate"], figures["endDate"]) == (
        10,
        "2028-03-01",
        "2029-03-01",
    )
    # the new term's peak restarts at the 7 who take a seat now
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (7, 7)
    assert figures["renewal"] is None

    # 2028-09-01: 2 more seats in the new term, which has no leap day: 181 days of 365
    # 2 x 348.00 x 181/365 = 345.1397 -> 345.14
    story.on(date(2028, 9, 1))
    await story.add_seats(2)

    assert await story.invoices() == [
        # 5 x 348.00 = 1740.00
        ("INV-2027-000001", "2027-03-01", [("purchase", 5, 174000)]),
        # 1 x 348.00 x 213/366 = 202.5246 -> 202.52
        ("INV-2027-000002", "2027-08-01", [("seats", 1, 20252)]),
        # 10 x 348.00 = 3480.00, issued on the leap day
        ("INV-2028-000001", "2028-02-29", [("renewal", 10, 348000)]),
        # (9 - 6) x 348.00 = 1044.00
        ("INV-2028-000002", "2028-03-01", [("true_up", 3, 104400)]),
        # 2 x 348.00 x 181/365 = 345.1397 -> 345.14
        ("INV-2028-000003", "2028-09-01", [("seats", 2, 34514)]),
    ]


async def test_a_member_who_joins_on_the_end_date_is_not_trued_up_for_the_ended_term(
    story: Story,
) -> None:
    # 2026-03-15: 10 developers, 10 Premium seats (10 x 348.00); the team stays at 10 all year
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10)

    # 2027-03-15, the end date, the first day of the next term: an 11th developer joins in
    # the morning; the job runs later that day
    story.on(date(2027, 3, 15))
    await story.members(11)
    report = await story.run_daily(date(2027, 3, 15))
    assert any("renewed automatically with 11 seats" in line for line in report.done)

    assert await story.invoices() == [
        # 10 x 348.00 = 3480.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        # 11 x 348.00 = 3828.00; the ended term never had more than 10 in use, so no true-up
        # (today also ("true_up", 1, 34800): the 11th pays for 2027-03-15.. twice)
        ("INV-2027-000001", "2027-03-15", [("renewal", 11, 382800)]),
    ]
