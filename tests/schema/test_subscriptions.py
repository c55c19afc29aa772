"""Buying and changing subscriptions through GraphQL: invoices, errors, permissions,
previews and idempotency keys. Demo data: today is 2026-03-15; Acme (USD) has Premium for
`acme`, 25 seats, 2025-12-05 to 2026-12-05 at 348.00 a seat; `hobby-project` is unowned."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.tables import Customer, Invoice, Namespace, Subscription
from tests.commerce import (
    ADD_ON_PURCHASE,
    ADD_SEATS,
    CANCEL,
    CHANGE_PLAN,
    PAY,
    PURCHASE,
    RENEW,
    SET_AUTO_RENEW,
    VOID,
    amounts,
    gid,
    result,
)
from tests.conftest import GraphQL
from tests.helpers import data, error_codes, row_counts

pytestmark = pytest.mark.usefixtures("demo")

Tokens = dict[str, str]


@pytest.fixture
async def ids(demo: None, session: AsyncSession) -> dict[str, Any]:
    customers = {c.name: c.id for c in (await session.execute(select(Customer))).scalars()}
    subscriptions = {
        s.namespace_id or -1: s for s in (await session.execute(select(Subscription))).scalars()
    }
    acme = next(s for s in subscriptions.values() if s.seats == 25)
    return {
        "acme_customer": customers["Acme Corp"],
        "globex_customer": customers["Globex GmbH"],
        "acme": gid("Subscription", acme.id),
        "acme_id": acme.id,
        "acme_customer_gid": gid("Customer", customers["Acme Corp"]),
    }


@pytest.fixture
def acme_token(token: Callable[..., str], ids: dict[str, Any]) -> str:
    return token("customer", ids["acme_customer"])


@pytest.fixture
async def acme_owns_hobby(session: AsyncSession, ids: dict[str, Any]) -> None:
    """GitLab.com has linked `hobby-project` to Acme's account; it has no subscription."""
    await session.execute(
        update(Namespace)
        .where(Namespace.path == "hobby-project")
        .values(customer_id=ids["acme_customer"])
    )
    await session.commit()


@pytest.mark.usefixtures("acme_owns_hobby")
async def test_purchase_creates_the_subscription_and_its_invoice(
    gql: GraphQL, acme_token: str, ids: dict[str, Any], session: AsyncSession
) -> None:
    # given Acme's namespace without a subscription, when Acme buys 10 Premium seats with
    # 2 Duo Pro for it
    body = await gql(
        PURCHASE,
        {
            "input": {
                "customerId": ids["acme_customer_gid"],
                "namespacePath": "hobby-project",
                "plan": "premium",
                "seats": 10,
                "addOns": [{"code": "duo_pro", "quantity": 2}],
            }
        },
        token=acme_token,
    )
    # then a year of Premium from today and one invoice for the whole term
    outcome = result(body)
    assert outcome["__typename"] == "SubscriptionChangeSuccess", outcome
    subscription, invoice = outcome["subscription"], outcome["invoice"]
    assert (subscription["seats"], subscription["startDate"], subscription["endDate"]) == (
        10,
        "2026-03-15",
        "2027-03-15",
    )
    assert subscription["addOns"] == [{"quantity": 2, "addOn": {"code": "duo_pro"}}]
    assert invoice["number"] == "INV-2026-000001"
    assert invoice["status"] == "OPEN"
    assert amounts(invoice) == [("PURCHASE", 10, 348000), ("ADD_ON", 2, 45600)]
    assert invoice["total"]["minorUnits"] == 393600
    line = invoice["lines"][0]
    assert (line["periodStart"], line["periodEnd"]) == ("2026-03-15", "2027-03-15")
    assert (line["fractionNumerator"], line["fractionDenominator"]) == (1, 1)


async def test_only_the_billing_team_sells_a_namespace_nobody_owns(
    gql: GraphQL,
    acme_token: str,
    token: Callable[..., str],
    ids: dict[str, Any],
    session: AsyncSession,
) -> None:
    request = {
        "customerId": ids["acme_customer_gid"],
        "namespacePath": "hobby-project",
        "plan": "premium",
        "seats": 10,
    }
    # a customer cannot claim a group it was not linked to, not even in a preview
    before = await row_counts(session)
    for preview in (True, False):
        refused = result(
            await gql(PURCHASE, {"input": {**request, "preview": preview}}, token=acme_token)
        )
        assert (refused["code"], refused["field"]) == ("NAMESPACE_NOT_FOUND", "namespace")
    assert await row_counts(session) == before
    # the billing team can sell it to the customer, who owns it from then on
    sold = result(await gql(PURCHASE, {"input": request}, token=token("admin")))
    assert sold["__typename"] == "SubscriptionChangeSuccess", sold
    owner = await gql(
        '{ namespace(path: "hobby-project") { customer { name } } }', token=acme_token
    )
    assert data(owner)["namespace"]["customer"] == {"name": "Acme Corp"}


@pytest.mark.usefixtures("acme_owns_hobby")
@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"namespacePath": "acme"}, "SUBSCRIPTION_EXISTS", "namespace"),
        ({"namespacePath": "globex"}, "NAMESPACE_NOT_FOUND", "namespace"),
        ({"namespacePath": "nowhere"}, "NAMESPACE_NOT_FOUND", "namespace"),
        ({"plan": "platinum"}, "PLAN_NOT_FOUND", "plan"),
        ({"seats": 0}, "SEATS_BELOW_MINIMUM", "seats"),
        ({"startDate": "2026-03-14"}, "START_DATE_IN_PAST", "startDate"),
        (
            {"billingPeriod": "MONTHLY", "quarterlyReconciliation": True},
            "INVALID_VALUE",
            "quarterlyReconciliation",
        ),
        ({"addOns": [{"code": "nope", "quantity": 1}]}, "ADD_ON_NOT_FOUND", "addOns.0.code"),
        ({"namespacePath": None}, "INVALID_VALUE", "namespace"),
    ],
)
async def test_a_bad_purchase_is_refused_and_writes_nothing(
    gql: GraphQL,
    acme_token: str,
    ids: dict[str, Any],
    session: AsyncSession,
    change: dict[str, Any],
    code: str,
    field: str,
) -> None:
    before = await row_counts(session)
    request = {
        "customerId": ids["acme_customer_gid"],
        "namespacePath": "hobby-project",
        "plan": "premium",
        "seats": 10,
        **change,
    }
    outcome = result(await gql(PURCHASE, {"input": request}, token=acme_token))
    assert (outcome["code"], outcome["field"]) == (code, field), outcome
    assert await row_counts(session) == before


async def test_a_purchase_must_cover_the_billable_users_under_the_new_plan(
    gql: GraphQL, token: Callable[..., str], ids: dict[str, Any], session: AsyncSession
) -> None:
    # given globex without a subscription: ada (maintainer) and ben (a guest) count on
    # Premium, only ada on Ultimate
    await session.execute(update(Subscription).values(status="expired"))
    globex = token("customer", ids["globex_customer"])
    request = {
        "customerId": gid("Customer", ids["globex_customer"]),
        "namespacePath": "globex",
        "plan": "premium",
        "seats": 1,
    }
    before = await row_counts(session)
    outcome = result(await gql(PURCHASE, {"input": request}, token=globex))
    assert (outcome["code"], outcome["field"]) == ("SEATS_BELOW_BILLABLE", "seats")
    assert "2 users" in outcome["message"]
    assert await row_counts(session) == before
    outcome = result(await gql(PURCHASE, {"input": {**request, "plan": "ultimate"}}, token=globex))
    assert outcome["__typename"] == "SubscriptionChangeSuccess", outcome
    assert outcome["subscription"]["seatsInUse"] == 1
    assert amounts(outcome["invoice"]) == [("PURCHASE", 1, 114000)]


async def test_adding_seats_is_prorated_by_day(
    gql: GraphQL, acme_token: str, ids: dict[str, Any]
) -> None:
    # 265 of 365 days left: 3 x 348.00 x 265 / 365 = 757.9726... -> 757.97
    outcome = result(
        await gql(
            ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 3}}, token=acme_token
        )
    )
    assert outcome["subscription"]["seats"] == 28
    assert amounts(outcome["invoice"]) == [("SEATS", 3, 75797)]
    line = outcome["invoice"]["lines"][0]
    assert (line["fractionNumerator"], line["fractionDenominator"]) == (265, 365)
    assert (line["periodStart"], line["periodEnd"]) == ("2026-03-15", "2026-12-05")


@pytest.mark.parametrize(
    ("seats", "code"), [(0, "SEATS_BELOW_MINIMUM"), (100_000, "SEATS_ABOVE_MAXIMUM")]
)
async def test_bad_seat_counts_are_refused(
    gql: GraphQL,
    acme_token: str,
    ids: dict[str, Any],
    session: AsyncSession,
    seats: int,
    code: str,
) -> None:
    before = await row_counts(session)
    outcome = result(
        await gql(
            ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": seats}}, token=acme_token
        )
    )
    assert (outcome["code"], outcome["field"]) == (code, "seats")
    assert await row_counts(session) == before


async def test_a_customer_cannot_change_another_customers_subscription(
    gql: GraphQL, token: Callable[..., str], ids: dict[str, Any], session: AsyncSession
) -> None:
    before = await row_counts(session)
    globex = token("customer", ids["globex_customer"])
    outcome = result(
        await gql(ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 1}}, token=globex)
    )
    assert (outcome["code"], outcome["field"]) == ("SUBSCRIPTION_NOT_FOUND", "subscription")
    for role in ("gitlab", "analyst"):
        body = await gql(
            ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 1}}, token=token(role)
        )
        assert error_codes(body) == ["FORBIDDEN"]
    body = await gql(ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 1}})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert await row_counts(session) == before


async def test_preview_returns_exactly_what_the_real_call_does_and_writes_nothing(
    gql: GraphQL, acme_token: str, ids: dict[str, Any], session: AsyncSession
) -> None:
    cases = [
        (ADD_SEATS, {"seats": 4}),
        (CHANGE_PLAN, {"plan": "ultimate"}),
        (ADD_ON_PURCHASE, {"addOn": "duo_pro", "quantity": 5}),
        (RENEW, {"seats": 30}),
    ]
    for operation, fields in cases:
        request = {"subscriptionId": ids["acme"], **fields}
        before = await row_counts(session)
        preview = result(
            await gql(operation, {"input": {**request, "preview": True}}, token=acme_token)
        )
        assert await row_counts(session) == before, operation
        real = result(await gql(operation, {"input": request}, token=acme_token))
        assert preview["__typename"] == "SubscriptionChangePreview"
        assert real["__typename"] == "SubscriptionChangeSuccess"
        for part in ("subscription", "invoice"):
            expected = {k: v for k, v in real[part].items() if k != "id"}
            assert "id" not in preview[part]
            assert preview[part] == expected, (operation, part)


async def test_an_idempotency_key_makes_a_retry_return_the_first_result(
    gql: GraphQL,
    acme_token: str,
    token: Callable[..., str],
    ids: dict[str, Any],
    session: AsyncSession,
) -> None:
    request = {"subscriptionId": ids["acme"], "seats": 2, "idempotencyKey": "add-2-seats"}
    first = result(await gql(ADD_SEATS, {"input": request}, token=acme_token))
    again = result(await gql(ADD_SEATS, {"input": request}, token=acme_token))
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["invoice"]["id"] == first["invoice"]["id"]
    assert again["subscription"]["seats"] == 27
    invoices = (await session.execute(select(Invoice))).scalars().all()
    assert len(invoices) == 1
    # the same key with another input is refused, and changes nothing
    changed = result(await gql(ADD_SEATS, {"input": {**request, "seats": 3}}, token=acme_token))
    assert (changed["code"], changed["field"]) == ("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
    # keys are the caller's own: an admin's same key is a new request
    admin = result(await gql(ADD_SEATS, {"input": request}, token=token("admin")))
    assert admin["replayed"] is False
    assert admin["subscription"]["seats"] == 29
    too_long = result(
        await gql(ADD_SEATS, {"input": {**request, "idempotencyKey": "k" * 256}}, token=acme_token)
    )
    assert (too_long["code"], too_long["field"]) == ("INVALID_VALUE", "idempotencyKey")


async def test_an_upgrade_credits_the_old_plan_and_charges_the_new(
    gql: GraphQL, acme_token: str, ids: dict[str, Any]
) -> None:
    # 25 seats, 265/365 left: credit 25 x 348.00 x 265/365 = 6316.438 -> 6316.44,
    # charge 25 x 1188.00 x 265/365 = 21563.013 -> 21563.01
    outcome = result(
        await gql(
            CHANGE_PLAN,
            {"input": {"subscriptionId": ids["acme"], "plan": "ultimate"}},
            token=acme_token,
        )
    )
    assert outcome["subscription"]["plan"] == {"code": "ultimate"}
    assert amounts(outcome["invoice"]) == [
        ("PLAN_CHANGE_CREDIT", 25, -631644),
        ("PLAN_CHANGE_CHARGE", 25, 2156301),
    ]
    assert outcome["invoice"]["total"]["minorUnits"] == 1524657


async def test_a_downgrade_waits_for_the_renewal(
    gql: GraphQL, acme_token: str, ids: dict[str, Any]
) -> None:
    upgraded = result(
        await gql(
            CHANGE_PLAN,
            {"input": {"subscriptionId": ids["acme"], "plan": "ultimate"}},
            token=acme_token,
        )
    )
    outcome = result(
        await gql(
            CHANGE_PLAN,
            {"input": {"subscriptionId": ids["acme"], "plan": "premium"}},
            token=acme_token,
        )
    )
    assert outcome["invoice"] is None
    assert outcome["subscription"]["plan"] == {"code": "ultimate"}
    assert outcome["subscription"]["pendingPlan"] == {"code": "premium"}
    assert upgraded["subscription"]["pendingPlan"] is None


async def test_renewing_early_buys_the_next_term_and_waits_for_it(
    gql: GraphQL, acme_token: str, ids: dict[str, Any]
) -> None:
    outcome = result(
        await gql(RENEW, {"input": {"subscriptionId": ids["acme"], "seats": 30}}, token=acme_token)
    )
    subscription = outcome["subscription"]
    assert (subscription["seats"], subscription["endDate"]) == (25, "2026-12-05")
    assert subscription["renewal"] == {
        "seats": 30,
        "price": {"unitAmount": {"minorUnits": 34800}, "billingPeriod": "ANNUAL"},
    }
    assert amounts(outcome["invoice"]) == [("RENEWAL", 30, 1044000)]
    line = outcome["invoice"]["lines"][0]
    assert (line["periodStart"], line["periodEnd"]) == ("2026-12-05", "2027-12-05")
    again = result(
        await gql(RENEW, {"input": {"subscriptionId": ids["acme"], "seats": 30}}, token=acme_token)
    )
    assert (again["code"], again["field"]) == ("RENEWAL_SCHEDULED", "subscription")
    cancel = result(await gql(CANCEL, {"input": {"subscriptionId": ids["acme"]}}, token=acme_token))
    assert cancel["code"] == "RENEWAL_SCHEDULED"


async def test_cancel_keeps_the_term_and_auto_renew_withdraws_it(
    gql: GraphQL, acme_token: str, ids: dict[str, Any]
) -> None:
    cancelled = result(
        await gql(CANCEL, {"input": {"subscriptionId": ids["acme"]}}, token=acme_token)
    )
    assert cancelled["subscription"]["status"] == "ACTIVE"
    assert (cancelled["subscription"]["cancelledOn"], cancelled["subscription"]["autoRenew"]) == (
        "2026-03-15",
        False,
    )
    twice = result(await gql(CANCEL, {"input": {"subscriptionId": ids["acme"]}}, token=acme_token))
    assert twice["code"] == "ALREADY_CANCELLED"
    back = result(
        await gql(
            SET_AUTO_RENEW,
            {"input": {"subscriptionId": ids["acme"], "autoRenew": True}},
            token=acme_token,
        )
    )
    assert (back["subscription"]["cancelledOn"], back["subscription"]["autoRenew"]) == (None, True)


async def test_add_ons_bought_mid_term_are_prorated(
    gql: GraphQL, acme_token: str, ids: dict[str, Any]
) -> None:
    # 5 x 228.00 x 265/365 = 827.67
    outcome = result(
        await gql(
            ADD_ON_PURCHASE,
            {"input": {"subscriptionId": ids["acme"], "addOn": "duo_pro", "quantity": 5}},
            token=acme_token,
        )
    )
    assert amounts(outcome["invoice"]) == [("ADD_ON", 5, 82767)]
    more = result(
        await gql(
            ADD_ON_PURCHASE,
            {"input": {"subscriptionId": ids["acme"], "addOn": "duo_pro", "quantity": 1}},
            token=acme_token,
        )
    )
    assert more["subscription"]["addOns"] == [{"quantity": 6, "addOn": {"code": "duo_pro"}}]
    unknown = result(
        await gql(
            ADD_ON_PURCHASE,
            {"input": {"subscriptionId": ids["acme"], "addOn": "nope", "quantity": 1}},
            token=acme_token,
        )
    )
    assert (unknown["code"], unknown["field"]) == ("ADD_ON_NOT_FOUND", "addOn")


async def test_the_billing_team_records_payments_and_voids(
    gql: GraphQL,
    acme_token: str,
    token: Callable[..., str],
    ids: dict[str, Any],
    session: AsyncSession,
) -> None:
    added = result(
        await gql(
            ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 3}}, token=acme_token
        )
    )
    invoice = added["invoice"]["id"]
    admin = token("admin")

    def pay(minor_units: int, currency: str = "USD") -> dict[str, Any]:
        return {
            "input": {
                "invoiceId": invoice,
                "amount": {"minorUnits": minor_units, "currency": currency},
                "reference": "wire 42",
            }
        }

    assert error_codes(await gql(PAY, pay(100), token=acme_token)) == ["FORBIDDEN"]
    before = await row_counts(session)
    for amount, currency, code, field in [
        (75798, "USD", "AMOUNT_ABOVE_BALANCE", "amount.minorUnits"),
        (0, "USD", "INVALID_VALUE", "amount.minorUnits"),
        (100, "EUR", "CURRENCY_MISMATCH", "amount.currency"),
        (100, "XXX", "UNSUPPORTED_CURRENCY", "amount.currency"),
    ]:
        refused = result(await gql(PAY, pay(amount, currency), token=admin))
        assert (refused["code"], refused["field"]) == (code, field)
    assert await row_counts(session) == before
    part = result(await gql(PAY, pay(50000), token=admin))
    assert part["invoice"]["status"] == "OPEN"
    assert part["invoice"]["amountDue"]["minorUnits"] == 25797
    cannot_void = result(await gql(VOID, {"input": {"invoiceId": invoice}}, token=admin))
    assert cannot_void["code"] == "INVOICE_HAS_PAYMENTS"
    rest = result(await gql(PAY, pay(25797), token=admin))
    assert rest["invoice"]["status"] == "PAID"
    assert rest["payment"] == {"amount": {"minorUnits": 25797}, "reference": "wire 42"}
    paid = result(await gql(PAY, pay(1), token=admin))
    assert paid["code"] == "INVOICE_NOT_OPEN"
    other = result(
        await gql(
            ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 1}}, token=acme_token
        )
    )
    voided = result(await gql(VOID, {"input": {"invoiceId": other["invoice"]["id"]}}, token=admin))
    assert voided["invoice"]["status"] == "VOID"
    assert voided["invoice"]["amountDue"]["minorUnits"] == 0


AUDIT = """query($subject: ID) { auditEvents(subject: $subject) { edges { node {
  id actor action subject before after occurredOn } } } }"""


async def test_every_change_is_in_the_audit_trail(
    gql: GraphQL, acme_token: str, token: Callable[..., str], ids: dict[str, Any]
) -> None:
    await gql(ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 3}}, token=acme_token)
    assert error_codes(await gql(AUDIT, {"subject": ids["acme"]}, token=acme_token)) == [
        "FORBIDDEN"
    ]
    events = data(await gql(AUDIT, {"subject": ids["acme"]}, token=token("admin")))
    [event] = [edge["node"] for edge in events["auditEvents"]["edges"]]
    assert event["action"] == "subscription.seats_added"
    assert event["actor"] == f"customer:{ids['acme_customer']}:test-customer"
    assert (event["before"]["seats"], event["after"]["seats"]) == (25, 28)
    assert event["subject"] == ids["acme"]
    everything = data(await gql(AUDIT, {}, token=token("admin")))["auditEvents"]["edges"]
    assert [e["node"]["action"] for e in everything] == [
        "subscription.seats_added",
        "invoice.issued",
    ]


INVOICES = """query($id: ID!) { customer(id: $id) { invoices(first: 100) { edges { node {
  number total { minorUnits } lines { kind } payments { reference }
  subscription { seats } } } } } }"""


async def test_invoice_lists_take_the_same_statements_for_5_and_50_invoices(
    gql: GraphQL,
    acme_token: str,
    ids: dict[str, Any],
    count_statements: Callable[[], Any],
) -> None:
    counts = []
    for total in (5, 50):
        while True:
            listed = data(await gql(INVOICES, {"id": ids["acme_customer_gid"]}, token=acme_token))
            if len(listed["customer"]["invoices"]["edges"]) >= total:
                break
            await gql(
                ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 1}}, token=acme_token
            )
        with count_statements() as counted:
            listed = data(await gql(INVOICES, {"id": ids["acme_customer_gid"]}, token=acme_token))
        assert len(listed["customer"]["invoices"]["edges"]) == total
        counts.append(counted.n)
    assert counts[0] == counts[1]
    numbers = [e["node"]["number"] for e in listed["customer"]["invoices"]["edges"]]
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 51)]


async def test_a_trial_is_not_billed_and_buying_ends_it(
    gql: GraphQL, acme_token: str, ids: dict[str, Any], session: AsyncSession
) -> None:
    # acme-labs is on a 30-day Ultimate trial (demo data)
    trial = (await session.execute(select(Subscription).where(Subscription.trial))).scalar_one()
    trial_id = gid("Subscription", trial.id)
    for operation, fields in [
        (ADD_SEATS, {"seats": 1}),
        (ADD_ON_PURCHASE, {"addOn": "duo_pro", "quantity": 1}),
        (CHANGE_PLAN, {"plan": "premium"}),
        (RENEW, {"seats": 5}),
    ]:
        refused = result(
            await gql(
                operation, {"input": {"subscriptionId": trial_id, **fields}}, token=acme_token
            )
        )
        assert (refused["code"], refused["field"]) == ("TRIAL_SUBSCRIPTION", "subscription")
    bought = result(
        await gql(
            PURCHASE,
            {
                "input": {
                    "customerId": ids["acme_customer_gid"],
                    "namespacePath": "acme-labs",
                    "plan": "ultimate",
                    "seats": 5,
                }
            },
            token=acme_token,
        )
    )
    assert bought["__typename"] == "SubscriptionChangeSuccess", bought
    await session.refresh(trial)
    assert trial.status == "expired"


async def test_add_ons_wait_for_a_renewal_bought_in_advance(
    gql: GraphQL, acme_token: str, ids: dict[str, Any]
) -> None:
    await gql(RENEW, {"input": {"subscriptionId": ids["acme"], "seats": 30}}, token=acme_token)
    refused = result(
        await gql(
            ADD_ON_PURCHASE,
            {"input": {"subscriptionId": ids["acme"], "addOn": "duo_pro", "quantity": 2}},
            token=acme_token,
        )
    )
    assert (refused["code"], refused["field"]) == ("RENEWAL_SCHEDULED", "subscription")


async def test_a_scheduled_downgrade_can_be_withdrawn(
    gql: GraphQL, acme_token: str, ids: dict[str, Any]
) -> None:
    await gql(
        CHANGE_PLAN,
        {"input": {"subscriptionId": ids["acme"], "plan": "ultimate"}},
        token=acme_token,
    )
    await gql(
        CHANGE_PLAN, {"input": {"subscriptionId": ids["acme"], "plan": "premium"}}, token=acme_token
    )
    kept = result(
        await gql(
            CHANGE_PLAN,
            {"input": {"subscriptionId": ids["acme"], "plan": "ultimate"}},
            token=acme_token,
        )
    )
    assert kept["subscription"]["pendingPlan"] is None
    assert kept["invoice"] is None
    same = result(
        await gql(
            CHANGE_PLAN,
            {"input": {"subscriptionId": ids["acme"], "plan": "ultimate"}},
            token=acme_token,
        )
    )
    assert (same["code"], same["field"]) == ("SAME_PLAN", "plan")


async def test_audit_events_are_nodes_for_admins_only(
    gql: GraphQL, acme_token: str, token: Callable[..., str], ids: dict[str, Any]
) -> None:
    await gql(ADD_SEATS, {"input": {"subscriptionId": ids["acme"], "seats": 1}}, token=acme_token)
    events = data(await gql(AUDIT, {"subject": ids["acme"]}, token=token("admin")))
    [event] = events["auditEvents"]["edges"]
    query = "query($id: ID!) { node(id: $id) { ... on AuditEvent { action } } }"
    node_id = event["node"]["id"]
    assert data(await gql(query, {"id": node_id}, token=acme_token))["node"] is None
    admin = data(await gql(query, {"id": node_id}, token=token("admin")))
    assert admin["node"] == {"action": "subscription.seats_added"}
