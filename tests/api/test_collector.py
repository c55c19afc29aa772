"""The garbage collector runs on a timer while the app serves (api.collector): off between
passes, a full pass every interval, CPython's own schedule back afterwards."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

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
