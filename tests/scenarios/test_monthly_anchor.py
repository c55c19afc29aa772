"""Monthly terms keep their anchor day: bought on the 31st of January, they run to the 28th of
February, then to the 31st of March and the 30th of April (not the 28th of each month after
February); bought on the 30th of January of a leap year, they end on the 29th of February,
then the 30th of March, also when the job catches up on several months at once."""

from datetime import date

from tests.scenarios.conftest import Story


async def terms(story: Story) -> tuple[str, str, int]:
    figures = await story.subscription()
    return figures["startDate"], figures["endDate"], figures["seats"]


async def test_a_term_bought_on_january_31_ends_on_each_months_last_day(story: Story) -> None:
    # 2026-01-31: 3 developers; Acme buys 3 Premium seats monthly: 2026-01-31..2026-02-28
    story.on(date(2026, 1, 31))
    await story.members(3)
    await story.buy(plan="premium", seats=3, billingPeriod="MONTHLY")
    assert await terms(story) == ("2026-01-31", "2026-02-28", 3)

    # each end date, the job renews for the next month, back on the 31st when there is one
    await story.run_daily(date(2026, 2, 28))
    assert await terms(story) == ("2026-02-28", "2026-03-31", 3)
    await story.run_daily(date(2026, 3, 31))
    assert await terms(story) == ("2026-03-31", "2026-04-30", 3)
    await story.run_daily(date(2026, 4, 30))
    assert await terms(story) == ("2026-04-30", "2026-05-31", 3)

    assert await story.invoices() == [
        # 3 x 29.00 = 87.00 for each month
        ("INV-2026-000001", "2026-01-31", [("purchase", 3, 8700)]),
        ("INV-2026-000002", "2026-02-28", [("renewal", 3, 8700)]),
        ("INV-2026-000003", "2026-03-31", [("renewal", 3, 8700)]),
        ("INV-2026-000004", "2026-04-30", [("renewal", 3, 8700)]),
    ]


async def test_a_leap_february_and_a_catch_up_keep_the_30th(story: Story) -> None:
    # 2028-01-30: 2 developers; 2 Premium seats monthly: 2028-01-30..2028-02-29 (leap year)
    story.on(date(2028, 1, 30))
    await story.members(2)
    await story.buy(plan="premium", seats=2, billingPeriod="MONTHLY")
    assert await terms(story) == ("2028-01-30", "2028-02-29", 2)

    # the job misses February 29 and March 30; on 2028-04-02 one run renews twice:
    # 2028-02-29..2028-03-30 and 2028-03-30..2028-04-30
    report = await story.run_daily(date(2028, 4, 2))
    renewed = [line for line in report.done if "renewed" in line]
    assert [line.split(" from ")[1][:10] for line in renewed] == ["2028-02-29", "2028-03-30"]
    assert await terms(story) == ("2028-03-30", "2028-04-30", 2)

    assert await story.invoices() == [
        # 2 x 29.00 = 58.00 each month
        ("INV-2028-000001", "2028-01-30", [("purchase", 2, 5800)]),
        ("INV-2028-000002", "2028-04-02", [("renewal", 2, 5800)]),
        ("INV-2028-000003", "2028-04-02", [("renewal", 2, 5800)]),
    ]
