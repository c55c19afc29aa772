"""The garbage collector runs on a timer while the app serves (api.collector): off between
passes, a full pass every interval, CPython's own schedule back afterwards."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from api.app import create_app
from api.collector import scheduled_collection
from api.settings import Settings
from tests.conftest import FixedClock


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """A reference cycle nobody holds: only the collector can free it."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


async def test_a_cycle_is_collected_by_the_timer_not_by_allocations() -> None:
    async with scheduled_collection(0.05):
        assert not gc.isenabled()
        garbage = cycle()
        for _ in range(50_000):  # far past CPython's threshold: no pass is started by this
            Node()
        assert garbage() is not None
        for _ in range(40):
            await asyncio.sleep(0.05)
            if garbage() is None:
                break
        assert garbage() is None
    assert gc.isenabled()


async def test_without_an_interval_cpython_collects_as_usual() -> None:
    async with scheduled_collection(None):
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # start-up is out of the collector's sight
        garbage = cycle()
        gc.collect()
        assert garbage() is None
    assert gc.get_freeze_count() == 0  # unfrozen on leaving


async def test_a_cycle_that_outlived_a_pass_is_collected_by_the_full_pass() -> None:
    async with scheduled_collection(0.02, full_every=5):
        a, b = Node(), Node()
        a.other, b.other = b, a
        kept = weakref.ref(a)
        await asyncio.sleep(0.1)  # young passes: it is alive, and now older than them
        del a, b
        for _ in range(50):
            await asyncio.sleep(0.02)
            if kept() is None:
                break
        assert kept() is None


@pytest.mark.parametrize(("interval_ms", "enabled"), [(250, False), (0, True)])
async def test_the_app_schedules_the_collector_from_its_settings(
    settings: Settings, engine: AsyncEngine, interval_ms: int, enabled: bool
) -> None:
    app = create_app(
        settings.model_copy(update={"gc_interval_ms": interval_ms}),
        engine,
        clock=FixedClock(),
        dispose_engine=False,
    )
    async with app.router.lifespan_context(app):
        assert gc.isenabled() is enabled
    assert gc.isenabled()


CUSTOMER_PAGE = """{ customers(first: 20) { edges { node { name
  subscriptions { edges { node { seats status plan { code } } } }
  invoices { edges { node { number total { amount } lines { kind amount { minorUnits } } } } }
} } } }"""


async def test_a_request_leaves_its_rows_to_reference_counting(
    demo: None, gql: Any, token: Any
) -> None:
    """What a request loaded (rows, their SQLAlchemy states, loader futures) is freed when
    its answer is sent, not by the next collector pass: graphql-core's executor is a
    reference cycle, so the Context it reaches lets go of its loaders when it closes, and
    the executor of its plans. Before, every row of a page waited for the collector, and a
    pass over a second of customer pages took ~90 ms."""
    admin = token(role="admin")
    first = await gql(CUSTOMER_PAGE, token=admin)  # warm: plans, caches, statements
    assert "errors" not in first
    assert first["data"]["customers"]["edges"]
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            assert "errors" not in await gql(CUSTOMER_PAGE, token=admin)
        gc.collect()
        kinds = [type(o) for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    rows = [k for k in kinds if issubclass(k, SQLModel)]
    loader_futures = [k for k in kinds if k is asyncio.Future]
    assert rows == []
    assert loader_futures == []
    assert len(kinds) < 3 * 150  # the executor's own cycle, and the test client's
