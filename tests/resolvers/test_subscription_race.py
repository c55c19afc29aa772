"""Concurrent changes to one subscription take turns on its row: real commits on concurrent
connections, in a database of the test's own."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from api.app import create_app
from api.settings import Settings
from db.demo import load_demo_data
from db.engine import make_engine, make_sessionmaker
from db.tables import Customer, Invoice, Subscription
from resolvers import subscriptions
from resolvers.changes import How
from resolvers.context import Context
from resolvers.principal import Principal, Role
from tests.commerce import ADD_SEATS, gid, result
from tests.conftest import TODAY, FixedClock


@pytest.fixture
async def engine_of_live(make_database: Callable[..., Awaitable[str]]) -> AsyncIterator[Any]:
    engine = make_engine(await make_database(), pool_size=10)
    yield engine
    await engine.dispose()


@pytest.fixture
async def live(
    settings: Settings, engine_of_live: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    engine = engine_of_live
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await load_demo_data(session, today=TODAY)
    app = create_app(settings, engine, clock=FixedClock())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client, sessions


async def _acme(sessions: Any) -> tuple[int, int]:
    async with sessions() as session:
        customer = (
            await session.execute(select(Customer).where(Customer.name == "Acme Corp"))
        ).scalar_one()
        subscription = (
            await session.execute(select(Subscription).where(Subscription.seats == 25))
        ).scalar_one()
        return customer.id, subscription.id


async def test_fifty_concurrent_seat_additions_each_count_once(
    live: tuple[httpx.AsyncClient, Any], token: Callable[..., str]
) -> None:
    client, sessions = live
    customer_id, subscription_id = await _acme(sessions)
    acme = token("customer", customer_id)

    async def add_one(key: str | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "subscriptionId": gid("Subscription", subscription_id),
            "seats": 1,
        }
        if key:
            request["idempotencyKey"] = key
        response = await client.post(
            "/graphql",
            json={"query": ADD_SEATS, "variables": {"input": request}},
            headers={"Authorization": f"Bearer {acme}"},
        )
        return result(response.json())

    # when 50 requests add one seat each at the same moment
    outcomes = await asyncio.gather(*(add_one() for _ in range(50)))
    assert all(o["__typename"] == "SubscriptionChangeSuccess" for o in outcomes), outcomes
    # then every one counted: 50 more seats, 50 invoices numbered without gaps, and the
    # money adds up to the cent (1 seat x 348.00 x 265/365 = 252.6575 -> 252.66 each)
    async with sessions() as session:
        subscription = await session.get(Subscription, subscription_id)
        invoices = (
            (await session.execute(select(Invoice).order_by(Invoice.sequence))).scalars().all()
        )
    assert subscription is not None
    assert subscription.seats == 75
    assert [invoice.sequence for invoice in invoices] == list(range(1, 51))
    assert sum(invoice.total for invoice in invoices) == 50 * 25266
    assert sorted(o["subscription"]["seats"] for o in outcomes) == list(range(26, 76))

    # and ten concurrent retries under one idempotency key make one change
    retried = await asyncio.gather(*(add_one("one-more") for _ in range(10)))
    assert len({o["invoice"]["id"] for o in retried}) == 1
    assert sorted(o["replayed"] for o in retried) == [False] + [True] * 9
    async with sessions() as session:
        subscription = await session.get(Subscription, subscription_id)
    assert subscription is not None
    assert subscription.seats == 76


def _context(sessions: Any, customer_id: int) -> Context:
    return Context(Principal(Role.CUSTOMER, "race", customer_id), FixedClock(), "r", sessions)


async def test_a_second_change_in_one_request_sees_what_others_committed(
    live: tuple[httpx.AsyncClient, Any],
) -> None:
    # one request changing the subscription twice, another request committing in between:
    # the lock reads the row afresh, so all three seats count
    _, sessions = live
    customer_id, subscription_id = await _acme(sessions)
    request, other = _context(sessions, customer_id), _context(sessions, customer_id)
    for context in (request, other, request):
        await subscriptions.add_seats(context, How(), subscription_id, 1)
    await request.close()
    await other.close()
    async with sessions() as session:
        subscription = await session.get(Subscription, subscription_id)
    assert subscription is not None
    assert subscription.seats == 28


async def test_an_upgrade_waits_for_seat_ingestion_instead_of_deadlocking(
    live: tuple[httpx.AsyncClient, Any], engine_of_live: Any
) -> None:
    # ingestion locks the namespace, then records a day's peak of 28 on 25 seats; an upgrade
    # (which recounts seats, and settles the old plan's overage from the days' peaks)
    # arriving in between waits for the namespace instead of holding the subscription
    # against it, and sees the peak ingestion committed
    _, sessions = live
    customer_id, subscription_id = await _acme(sessions)
    async with sessions() as session:
        subscription = await session.get(Subscription, subscription_id)
        assert subscription is not None
        namespace_id = subscription.namespace_id
    async with engine_of_live.connect() as ingestion:
        transaction = await ingestion.begin()
        await ingestion.execute(
            text("SELECT id FROM namespace WHERE id = :n FOR UPDATE"), {"n": namespace_id}
        )
        context = _context(sessions, customer_id)
        upgrade = asyncio.create_task(
            subscriptions.change_plan(context, How(), subscription_id, "ultimate")
        )
        await asyncio.sleep(0.3)
        await ingestion.execute(
            text("""INSERT INTO seat_snapshot (namespace_id, day, billable, peak)
                    VALUES (:n, :day, 28, 28)
                    ON CONFLICT (namespace_id, day) DO UPDATE SET billable = 28, peak = 28"""),
            {"n": namespace_id, "day": TODAY - timedelta(days=10)},
        )
        await ingestion.execute(
            text("UPDATE subscription SET max_seats_used = 28 WHERE id = :s"),
            {"s": subscription_id},
        )
        await transaction.commit()
        outcome = await upgrade
        await context.close()
    assert outcome.invoice is not None
    assert outcome.subscription is not None
    assert outcome.subscription.seats == 25
    assert [(line.kind, line.quantity) for line in outcome.lines[:1]] == [("true_up", 3)]
