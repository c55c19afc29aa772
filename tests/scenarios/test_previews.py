"""Previews tell the money that will follow. `previewMembersChange` states what adding people
will be charged and on which day (the next quarterly reconciliation, or the true-up on the
end date) and what buying the seats now would cost, which is exactly what
`subscriptionAddSeats` then charges; a mutation's preview is the real call rolled back,
answered with types that have no ids, and under a used idempotency key it shows the replay."""

from datetime import date
from typing import Any

from sqlalchemy import func, select

from db.tables import AuditEvent
from tests.commerce import ADD_SEATS, amounts, result
from tests.helpers import data, row_counts
from tests.scenarios.conftest import NAMESPACE, Story

QUOTE = """chargedOn kind quantity amount { minorUnits } periodStart periodEnd
           fractionNumerator fractionDenominator"""
MEMBERS_PREVIEW = f"""query($path: String!, $emails: [String!]) {{
  namespace(path: $path) {{ previewMembersChange(addEmails: $emails, role: DEVELOPER) {{
    ... on MembersChangePreview {{ seatsInUse newBillableCount seats maxSeatsUsed seatsCovered
      newSeatsOwed willIncurCharge charge {{ {QUOTE} }} buyNow {{ {QUOTE} }} }} }} }} }}"""


async def members_preview(story: Story, count: int) -> dict[str, Any]:
    """What adding `count` new people to the group would cost, as the customer asks it."""
    emails = [f"new{i}@example.com" for i in range(count)]
    body = await story.gql(
        MEMBERS_PREVIEW, {"path": NAMESPACE, "emails": emails}, token=story.customer
    )
    found: dict[str, Any] = data(body)["namespace"]["previewMembersChange"]
    return found


async def add_seats_preview(story: Story, seats: int, **fields: Any) -> dict[str, Any]:
    request = {"subscriptionId": story.subscription_id, "seats": seats, "preview": True, **fields}
    return result(await story.gql(ADD_SEATS, {"input": request}, token=story.customer))


def quote(
    day: str, kind: str, quantity: int, amount: int, period: tuple[str, str], fraction: str
) -> dict[str, Any]:
    numerator, denominator = (int(n) for n in fraction.split("/"))
    return {
        "chargedOn": day,
        "kind": kind,
        "quantity": quantity,
        "amount": {"minorUnits": amount},
        "periodStart": period[0],
        "periodEnd": period[1],
        "fractionNumerator": numerator,
        "fractionDenominator": denominator,
    }


def as_quote(day: str, line: dict[str, Any]) -> dict[str, Any]:
    """An invoice line as the members preview quotes it."""
    fields = ("kind", "quantity", "periodStart", "periodEnd")
    return {
        "chargedOn": day,
        **{k: line[k] for k in fields},
        "amount": line["amount"],
        "fractionNumerator": line["fractionNumerator"],
        "fractionDenominator": line["fractionDenominator"],
    }


async def test_quarterly_preview_shows_the_quarter_charge_that_follows(story: Story) -> None:
    # 2026-03-15: 10 developers; Acme buys 10 Premium seats with quarterly reconciliation
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, quarterlyReconciliation=True)

    # 2026-03-25: what would one more developer cost? Not 348.00 at a true-up: the seat is
    # charged at the end of quarter 1 (2026-06-15) for the 3 quarters left,
    # 1 x 348.00 / 4 x 3 = 261.00; bought now instead, 1 x 348.00 x 355/365 = 338.4657 -> 338.47
    story.on(date(2026, 3, 25))
    preview = await members_preview(story, 1)
    assert (preview["seatsInUse"], preview["newBillableCount"]) == (10, 11)
    assert (preview["seats"], preview["maxSeatsUsed"], preview["seatsCovered"]) == (10, 10, 10)
    assert (preview["newSeatsOwed"], preview["willIncurCharge"]) == (1, True)
    assert preview["charge"] == quote(
        "2026-06-15", "RECONCILIATION", 1, 26100, ("2026-06-15", "2027-03-15"), "3/4"
    )
    assert preview["buyNow"] == quote(
        "2026-03-25", "SEATS", 1, 33847, ("2026-03-25", "2027-03-15"), "355/365"
    )
    # buying now is exactly what subscriptionAddSeats would charge today
    added = await add_seats_preview(story, 1)
    [line] = added["invoice"]["lines"]
    assert as_quote(added["invoice"]["issuedOn"], line) == preview["buyNow"]

    # the developer joins; at the end of quarter 1 the job charges what the preview said
    await story.members(11)
    await story.run_daily(date(2026, 6, 15))
    assert await story.invoices() == [
        ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)]),
        ("INV-2026-000002", "2026-06-15", [("reconciliation", 1, 26100)]),
    ]


async def test_annual_preview_shows_the_true_up_at_renewal(story: Story) -> None:
    # 2026-03-15: 10 developers; Acme buys 10 Premium seats (true-up at renewal)
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10)

    # 2026-09-15: two more would be charged 2 x 348.00 = 696.00 at the true-up on 2027-03-15;
    # bought now, 2 x 348.00 x 181/365 = 345.1397 -> 345.14
    story.on(date(2026, 9, 15))
    preview = await members_preview(story, 2)
    assert preview["charge"] == quote(
        "2027-03-15", "TRUE_UP", 2, 69600, ("2026-03-15", "2027-03-15"), "1/1"
    )
    assert preview["buyNow"] == quote(
        "2026-09-15", "SEATS", 2, 34514, ("2026-09-15", "2027-03-15"), "181/365"
    )
    added = await add_seats_preview(story, 2)
    [line] = added["invoice"]["lines"]
    assert as_quote(added["invoice"]["issuedOn"], line) == preview["buyNow"]

    # they join; the renewal on 2027-03-15 carries the true-up the preview announced
    await story.members(12)
    await story.run_daily(date(2027, 3, 15))
    [purchase, renewal] = await story.invoices()
    assert purchase == ("INV-2026-000001", "2026-03-15", [("purchase", 10, 348000)])
    number, issued, lines = renewal
    assert (number, issued, lines[0]) == ("INV-2027-000001", "2027-03-15", ("true_up", 2, 69600))


async def test_before_the_term_starts_the_preview_does_not_say_no_charge(story: Story) -> None:
    # 2026-03-15: 10 developers; Acme buys 10 Premium seats for a term starting 2026-04-15
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10, startDate="2026-04-15")

    # 2026-03-20: two more people would still be there on 2026-04-15 and be owed: 696.00 at
    # the true-up on 2027-04-15, or the whole term (365/365) bought today
    story.on(date(2026, 3, 20))
    preview = await members_preview(story, 2)
    assert (preview["newSeatsOwed"], preview["willIncurCharge"]) == (2, True)
    assert preview["charge"] == quote(
        "2027-04-15", "TRUE_UP", 2, 69600, ("2026-04-15", "2027-04-15"), "1/1"
    )
    assert preview["buyNow"] == quote(
        "2026-03-20", "SEATS", 2, 69600, ("2026-04-15", "2027-04-15"), "365/365"
    )
    added = await add_seats_preview(story, 2)
    [line] = added["invoice"]["lines"]
    assert as_quote(added["invoice"]["issuedOn"], line) == preview["buyNow"]

    # they join before the start; the term starts on 2026-04-15 with 12 developers, and the
    # renewal on 2027-04-15 charges their true-up
    await story.members(12)
    await story.run_daily(date(2026, 4, 15))
    await story.run_daily(date(2027, 4, 15))
    [_, renewal] = await story.invoices()
    assert (renewal[0], renewal[1], renewal[2][0]) == (
        "INV-2027-000001",
        "2027-04-15",
        ("true_up", 2, 69600),
    )


async def test_a_preview_under_a_used_key_shows_the_replay(story: Story) -> None:
    # 2026-03-15: Acme buys 10 Premium seats; 2026-04-01: adds 5 with the key "add-5"
    # (5 x 348.00 x 348/365 = 1658.9589 -> 1658.96)
    story.on(date(2026, 3, 15))
    await story.members(10)
    await story.buy(plan="premium", seats=10)
    story.on(date(2026, 4, 1))
    first = await story.change(ADD_SEATS, seats=5, idempotencyKey="add-5")
    assert amounts(first["invoice"]) == [("SEATS", 5, 165896)]

    # previewing the same request under the same key shows that outcome, not a second charge
    before = await row_counts(story.session)
    again = await add_seats_preview(story, 5, idempotencyKey="add-5")
    assert again["__typename"] == "SubscriptionChangePreview"
    assert again["replayed"] is True
    assert again["subscription"]["seats"] == 15
    assert again["invoice"]["number"] == first["invoice"]["number"] == "INV-2026-000002"
    assert again["invoice"]["lines"] == first["invoice"]["lines"]
    # the key used for another request: refused, as the real call would be
    other = await add_seats_preview(story, 6, idempotencyKey="add-5")
    assert (other["code"], other["field"]) == ("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
    assert await row_counts(story.session) == before

    # without the key the preview is a new charge: 20 seats, the next number
    fresh = await add_seats_preview(story, 5)
    assert (fresh["replayed"], fresh["subscription"]["seats"]) == (False, 20)
    assert fresh["invoice"]["number"] == "INV-2026-000003"
    assert await row_counts(story.session) == before
    # a preview never stores its key: the real call under a key only previewed is a new one
    await add_seats_preview(story, 1, idempotencyKey="add-1")
    assert await row_counts(story.session) == before
    added = await story.change(ADD_SEATS, seats=1, idempotencyKey="add-1")
    assert (added["replayed"], added["subscription"]["seats"]) == (False, 16)


async def test_a_preview_never_reaches_a_client_cache_as_the_real_subscription(
    story: Story,
) -> None:
    # 2026-03-15: Acme buys 25 Premium seats; 2026-05-01 it previews 5 more
    story.on(date(2026, 3, 15))
    await story.members(3)
    await story.buy(plan="premium", seats=25)
    story.on(date(2026, 5, 1))
    events = select(func.count()).select_from(AuditEvent)
    audited = (await story.session.execute(events)).scalar_one()
    query = """mutation($input: SubscriptionAddSeatsInput!) {
      subscriptionAddSeats(input: $input) { __typename
        ... on SubscriptionChangePreview { subscription { seats } invoice { number } } } }"""
    request = {"subscriptionId": story.subscription_id, "seats": 5, "preview": True}
    body = await story.gql(query, {"input": request}, token=story.customer)
    preview = result(body)
    assert preview == {
        "__typename": "SubscriptionChangePreview",
        "subscription": {"seats": 30},
        "invoice": {"number": "INV-2026-000002"},
    }
    # nothing in a preview has an id for a cache to file it under
    for field in ("subscription { id }", "invoice { id }"):
        bad = f"""mutation($input: SubscriptionAddSeatsInput!) {{ subscriptionAddSeats(
          input: $input) {{ ... on SubscriptionChangePreview {{ {field} }} }} }}"""
        body = await story.gql(bad, {"input": request}, token=story.customer)
        assert "Cannot query field 'id'" in body["errors"][0]["message"]
    # the subscription, read after, still has 25 seats, and nothing was audited
    assert (await story.subscription())["seats"] == 25
    assert (await story.session.execute(events)).scalar_one() == audited
