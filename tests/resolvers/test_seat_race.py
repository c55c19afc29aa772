"""Racing batches on one namespace: each recount sees the others' commits, so the peak is
never missed. Real commits on concurrent connections, in a database of the test's own."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from db.demo import load_demo_data
from db.engine import make_engine, make_sessionmaker
from tests.conftest import TODAY, FixedClock
from tests.schema.test_seat_data import FIGURES, MEMBERSHIPS, USERS, load_world, member


@pytest.fixture
async def live(
    settings: Settings, make_database: Callable[..., Awaitable[str]]
) -> AsyncIterator[httpx.AsyncClient]:
    engine = make_engine(await make_database(), pool_size=12)
    async with make_sessionmaker(engine)() as session, session.begin():
        await load_demo_data(session, today=TODAY)
    app = create_app(settings, engine, clock=FixedClock())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client
    await engine.dispose()


async def test_racing_batches_never_miss_the_peak(
    live: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    gitlab = token("gitlab")

    async def gql(
        query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        response = await live.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        return body

    await load_world(gql, gitlab)
    users = [
        {"id": 900 + i, "username": f"racer{i}", "name": f"Racer {i}", "state": "active"}
        for i in range(20)
    ]
    assert (await gql(USERS, {"records": users}, token=gitlab))["data"]

    async def join(i: int) -> dict[str, Any]:
        return await gql(
            MEMBERSHIPS, {"records": [member(900 + i, "GROUP", 101, "developer")]}, token=gitlab
        )

    results = await asyncio.gather(*(join(i) for i in range(20)))
    assert all(r["data"]["membershipsUpsert"]["changed"] == 1 for r in results), results
    figures = (await gql(FIGURES, token=gitlab))["data"]["namespace"]["subscription"]
    assert (figures["seatsInUse"], figures["maxSeatsUsed"]) == (22, 22)
