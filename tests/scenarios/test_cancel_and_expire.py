"""A year that ends in a cancellation: Duo Pro bought mid-term, the subscription cancelled in
the autumn, expiring on its end date with no renewal invoice; and the same year where Acme
changes its mind and turns automatic renewal back on, so the job renews it instead."""

from datetime import date

from tests.commerce import ADD_SEATS, SET_AUTO_RENEW, result
from tests.scenarios.conftest import Story


async def a_year_with_duo_pro_cancelled_in_october(story: Story) -> None:
    """2026-03-15: 4 developers, 5 Premium seats bought (5 x 348.00); 2026-06-01: 3 Duo Pro
    for the 287 days left of 365 (3 x 228.00 x 287/365 = 537.8301 -> 537.83); 2026-10-10:
    cancelled."""
    story.on(date(2026, 3, 15))
    await story.members(4)
    await story.buy(plan="premium", seats=5)

    story.on(date(2026, 6, 1))
    bought = await story.add_on("duo_pro", 3)
    assert bought["subscription"]["addOns"] == [{"quantity": 3, "addOn": {"code": "duo_pro"}}]

    # cancelling stops automatic renewal; the term runs to its end date
    story.on(date(2026, 10, 10))
    cancelled = await story.cancel()
    assert cancelled["invoice"] is None
    figures = cancelled["subscription"]
    assert (figures["status"], figures["autoRenew"], figures["cancelledOn"]) == (
        "ACTIVE",
        False,
        "2026-10-10",
    )


async def test_cancelled_subscription_expires_on_its_end_date(story: Story) -> None:
    # 2026-03-15 .. 2026-10-10: bought, Duo Pro added, cancelled
    await a_year_with_duo_pro_cancelled_in_october(story)

    # 2027-03-14: the last day of the term, the job has nothing to do
    report = await story.run_daily(date(2027, 3, 14))
    assert not any("expired" in line for line in report.done)
    assert (await story.subscription())["status"] == "ACTIVE"

    # 2027-03-15, the end date: the job expires the subscription; no renewal invoice
    report = await story.run_daily(date(2027, 3, 15))
    assert any("expired on 2027-03-15" in line for line in report.done)
    figures = await story.subscription()
    assert (figures["status"], figures["startDate"], figures["endDate"], figures["seats"]) == (
        "EXPIRED",
        "2026-03-15",
        "2027-03-15",
        5,
    )

    # 2027-04-15: running the job for a later date (and again the same day) does nothing more
    for _ in range(2):
        report = await story.run_daily(date(2027, 4, 15))
        assert not any("expired" in line or "renewed" in line for line in report.done)
    assert (await story.subscription())["status"] == "EXPIRED"

    # an expired subscription takes no more changes
    request = {"subscriptionId": story.subscription_id, "seats": 1}
    refused = result(await story.gql(ADD_SEATS, {"input": request}, token=story.customer))
    assert (refused["__typename"], refused["code"]) == ("ConflictError", "SUBSCRIPTION_NOT_ACTIVE")

    assert await story.invoices() == [
        # 5 x 348.00 = 1740.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 5, 174000)]),
        # 3 x 228.00 x 287/365 = 537.8301 -> 537.83
        ("INV-2026-000002", "2026-06-01", [("add_on", 3, 53783)]),
    ]


async def test_turning_auto_renew_back_on_withdraws_the_cancellation(story: Story) -> None:
    # 2026-03-15 .. 2026-10-10: bought, Duo Pro added, cancelled
    await a_year_with_duo_pro_cancelled_in_october(story)

    # 2026-11-20: Acme changes its mind: auto-renew on again withdraws the cancellation
    story.on(date(2026, 11, 20))
    resumed = await story.change(SET_AUTO_RENEW, autoRenew=True)
    assert resumed["invoice"] is None
    figures = resumed["subscription"]
    assert (figures["status"], figures["autoRenew"], figures["cancelledOn"]) == (
        "ACTIVE",
        True,
        None,
    )

    # 2027-01-10: the team grows to 6, 1 above the 5 seats paid
    story.on(date(2027, 1, 10))
    await story.members(6)

    # 2027-03-15, the end date: the job renews automatically at the billable count (6), with
    # the true-up of the ending term and the Duo Pro units for the new term on one invoice
    report = await story.run_daily(date(2027, 3, 15))
    assert any("renewed automatically with 6 seats" in line for line in report.done)
    figures = await story.subscription()
    assert (figures["status"], figures["seats"], figures["startDate"], figures["endDate"]) == (
        "ACTIVE",
        6,
        "2027-03-15",
        "2028-03-15",
    )
    assert figures["addOns"] == [{"quantity": 3, "addOn": {"code": "duo_pro"}}]
    assert (figures["autoRenew"], figures["cancelledOn"]) == (True, None)

    assert await story.invoices() == [
        # 5 x 348.00 = 1740.00
        ("INV-2026-000001", "2026-03-15", [("purchase", 5, 174000)]),
        # 3 x 228.00 x 287/365 = 537.8301 -> 537.83
        ("INV-2026-000002", "2026-06-01", [("add_on", 3, 53783)]),
        # (6 - 5) x 348.00 = 348.00 ; 6 x 348.00 = 2088.00 ; 3 x 228.00 = 684.00
        (
            "INV-2027-000001",
            "2027-03-15",
            [("true_up", 1, 34800), ("renewal", 6, 208800), ("add_on", 3, 68400)],
        ),
    ]
