"""The property "a preview is the real call": for every mutation that takes `preview`, on the
same data and date, the preview's figures (the subscription snapshot's fields, the invoice's
number, lines and total, the payment) are those of the real call made right after; the preview
writes nothing (every table's row count, the audit trail's included, is unchanged); and every
invoice's total is the sum of its lines. Fixed examples per mutation, on the demo data (today
2026-03-15; Acme has Premium for `acme`, 25 seats, 2025-12-05 to 2026-12-05 at 348.00)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLUnionType, get_named_type
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.tables import Customer, Namespace, Subscription
from schema.build import schema
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
    gid,
    result,
)
from tests.conftest import FixedClock, GraphQL
from tests.helpers import row_counts

pytestmark = pytest.mark.usefixtures("demo")


@dataclass
class World:
    gql: GraphQL
    session: AsyncSession
    clock: FixedClock
    customer: str  # Acme's token
    admin: str
    customer_gid: str
    subscription: str  # Acme's subscription's global id
    invoice: str | None = None  # set by `with_invoice`
    keys: dict[str, str] = field(default_factory=dict)


Request = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    name: str
    operation: str
    request: Request
    admin: bool = False
    setup: Callable[[World], Awaitable[None]] | None = None


async def with_invoice(world: World) -> None:
    """An open invoice of 2 seats added on 2026-03-15: 2 x 348.00 x 265/365 = 505.32."""
    outcome = result(
        await world.gql(
            ADD_SEATS,
            {"input": {"subscriptionId": world.subscription, "seats": 2}},
            token=world.customer,
        )
    )
    world.invoice = outcome["invoice"]["id"]


async def with_used_key(world: World) -> None:
    """4 seats already added under the key "add-4": preview and retry both replay it."""
    request = {"subscriptionId": world.subscription, "seats": 4, "idempotencyKey": "add-4"}
    result(await world.gql(ADD_SEATS, {"input": request}, token=world.customer))


async def at_the_end_date(world: World) -> None:
    """2026-12-05: the term has ended and the job has not run; 3 more seats are in use."""
    world.clock.current = date(2026, 12, 5)
    await world.session.execute(update(Subscription).values(max_seats_used=28))
    await world.session.commit()


async def with_peak(world: World) -> None:
    """27 users took a seat earlier in the term, 2 above the 25 paid."""
    await world.session.execute(update(Subscription).values(max_seats_used=27))
    await world.session.commit()


async def hobby_is_acme_s(world: World) -> None:
    """GitLab.com has linked `hobby-project` to Acme's account; it has no subscription."""
    acme = (
        await world.session.execute(select(Customer).where(Customer.name == "Acme Corp"))
    ).scalar_one()
    await world.session.execute(
        update(Namespace).where(Namespace.path == "hobby-project").values(customer_id=acme.id)
    )
    await world.session.commit()


def on_subscription(**fields: Any) -> Request:
    return lambda world: {"subscriptionId": world.subscription, **fields}


def on_invoice(**fields: Any) -> Request:
    return lambda world: {"invoiceId": world.invoice, **fields}


def purchase(**fields: Any) -> Request:
    return lambda world: {
        "customerId": world.customer_gid,
        "namespacePath": "hobby-project",
        "plan": "premium",
        "seats": 10,
        **fields,
    }


CASES = [
    Case(
        "purchase",
        PURCHASE,
        purchase(addOns=[{"code": "duo_pro", "quantity": 2}]),
        setup=hobby_is_acme_s,
    ),
    Case(
        "purchase starting later, quarterly",
        PURCHASE,
        purchase(plan="ultimate", startDate="2026-04-01", quarterlyReconciliation=True),
        setup=hobby_is_acme_s,
    ),
    Case("add seats", ADD_SEATS, on_subscription(seats=4)),
    Case(
        "add seats under a used key (replay)",
        ADD_SEATS,
        on_subscription(seats=4, idempotencyKey="add-4"),
        setup=with_used_key,
    ),
    Case("upgrade", CHANGE_PLAN, on_subscription(plan="ultimate")),
    Case("renew before the end date", RENEW, on_subscription(seats=30)),
    Case("renew on the end date", RENEW, on_subscription(seats=28), setup=at_the_end_date),
    Case("auto-renew off", SET_AUTO_RENEW, on_subscription(autoRenew=False)),
    Case("cancel with seats owed", CANCEL, on_subscription(), setup=with_peak),
    Case("add-on", ADD_ON_PURCHASE, on_subscription(addOn="duo_pro", quantity=5)),
    Case(
        "pay part",
        PAY,
        on_invoice(amount={"minorUnits": 10000, "currency": "USD"}, reference="wire 1"),
        admin=True,
        setup=with_invoice,
    ),
    Case(
        "pay all",
        PAY,
        on_invoice(amount={"minorUnits": 50532, "currency": "USD"}, reference="wire 2"),
        admin=True,
        setup=with_invoice,
    ),
    Case("void", VOID, on_invoice(), admin=True, setup=with_invoice),
]


def check_invoice(invoice: dict[str, Any] | None) -> None:
    if invoice is not None:
        lines = sum(line["amount"]["minorUnits"] for line in invoice["lines"])
        assert invoice["total"]["minorUnits"] == lines


def without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


@pytest.fixture
async def world(
    gql: GraphQL, session: AsyncSession, clock: FixedClock, token: Callable[..., str]
) -> World:
    acme = (
        await session.execute(select(Customer).where(Customer.name == "Acme Corp"))
    ).scalar_one()
    subscription = (
        await session.execute(select(Subscription).where(Subscription.seats == 25))
    ).scalar_one()
    assert acme.id is not None
    assert subscription.id is not None
    return World(
        gql=gql,
        session=session,
        clock=clock,
        customer=token("customer", acme.id),
        admin=token("admin"),
        customer_gid=gid("Customer", acme.id),
        subscription=gid("Subscription", subscription.id),
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_the_preview_is_the_real_call_and_writes_nothing(world: World, case: Case) -> None:
    if case.setup is not None:
        await case.setup(world)
    request = case.request(world)
    caller = world.admin if case.admin else world.customer
    before = await row_counts(world.session)
    preview = result(
        await world.gql(case.operation, {"input": {**request, "preview": True}}, token=caller)
    )
    assert await row_counts(world.session) == before, "the preview wrote"
    real = result(await world.gql(case.operation, {"input": request}, token=caller))

    success = "InvoiceChangeSuccess" if case.admin else "SubscriptionChangeSuccess"
    assert real["__typename"] == success, real
    assert preview["__typename"] == success.replace("Success", "Preview"), preview
    assert preview["replayed"] == real["replayed"] == ("idempotencyKey" in request)
    for part in ("subscription", "invoice", "payment"):
        if part not in real:
            continue
        assert preview[part] == without_ids(real[part]), part
    check_invoice(real.get("invoice"))
    check_invoice(preview.get("invoice"))
    if case.operation in {ADD_SEATS, CHANGE_PLAN, ADD_ON_PURCHASE, PURCHASE, RENEW, PAY}:
        assert real["invoice"] is not None, "a case that charges shows its invoice"


PREVIEW_TYPES = [
    "SubscriptionChangePreview",
    "SubscriptionSnapshot",
    "InvoiceChangePreview",
    "InvoicePreview",
    "MembersChangePreview",
    "ChargeQuote",
]


@pytest.mark.parametrize("name", PREVIEW_TYPES)
def test_preview_types_are_not_nodes_and_have_no_id(name: str) -> None:
    found = schema._schema.get_type(name)
    assert isinstance(found, GraphQLObjectType)
    assert not found.interfaces
    assert "id" not in found.fields


def test_every_mutation_taking_preview_answers_it_with_a_preview_type() -> None:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    previewed = {}
    for name, mutation_field in mutation.fields.items():
        argument = mutation_field.args.get("input")
        input_type = get_named_type(argument.type) if argument else None
        if isinstance(input_type, GraphQLInputObjectType) and "preview" in input_type.fields:
            union = get_named_type(mutation_field.type)
            assert isinstance(union, GraphQLUnionType), name
            previewed[name] = {member.name for member in union.types} & set(PREVIEW_TYPES)
    subscription_changes = [
        "subscriptionPurchase",
        "subscriptionAddSeats",
        "subscriptionChangePlan",
        "subscriptionRenew",
        "subscriptionSetAutoRenew",
        "subscriptionCancel",
        "addOnPurchase",
    ]
    assert previewed == {
        **{name: {"SubscriptionChangePreview"} for name in subscription_changes},
        "invoicePay": {"InvoiceChangePreview"},
        "invoiceVoid": {"InvoiceChangePreview"},
    }
    # and the property test above has a case for each of them
    covered = {case.operation for case in CASES}
    assert len(covered) == len(previewed)
