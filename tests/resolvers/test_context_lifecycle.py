"""The request's session is released once, after every user of it: close() waits for the
statement in flight, and a field that outlives the answer gets no new session."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from resolvers.context import Context, RequestFinished
from resolvers.principal import Principal
from tests.conftest import FixedClock


class FakeSession:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def close(self) -> None:
        self.events.append("closed")


def context_with(events: list[str]) -> Context:
    def sessionmaker() -> Any:
        events.append("opened")
        return FakeSession(events)

    return Context(
        principal=Principal(), clock=FixedClock(), request_id="r", sessionmaker=sessionmaker
    )


async def test_close_waits_for_the_statement_in_flight() -> None:
    events: list[str] = []
    context = context_with(events)
    reading = asyncio.Event()

    async def sibling() -> None:
        async with context.db():
            reading.set()
            await asyncio.sleep(0.05)  # a statement still running when the answer is ready
            events.append("read")

    task = asyncio.create_task(sibling())
    await reading.wait()
    await context.close()
    await task
    assert events == ["opened", "read", "closed"]


async def test_a_field_that_outlives_the_request_gets_no_session() -> None:
    events: list[str] = []
    context = context_with(events)
    async with context.db():
        pass
    await context.close()
    with pytest.raises(RequestFinished):
        async with context.db():
            pass
    assert events == ["opened", "closed"]  # no second session was opened


async def test_a_request_leaves_no_reference_cycle() -> None:
    # given a context whose loader has been used
    events: list[str] = []
    context = context_with(events)

    async def load(session: Any, keys: Any) -> list[str]:
        return [f"row {key}" for key in keys]

    loader = context.session.batch(load)
    assert await loader.load(1) == "row 1"
    _ = context.loaders.customer_by_id  # made on first use
    await context.close()
    gone = weakref.ref(context)
    # when the request lets go of it, with the cyclic collector off
    gc.disable()
    try:
        del context, loader
        # then reference counting alone frees it: nothing for the collector to walk
        assert gone() is None
    finally:
        gc.enable()


async def test_a_query_operation_reads_from_the_read_sessions_and_cannot_write() -> None:
    opened: list[str] = []

    def maker(kind: str) -> Any:
        def make() -> Any:
            opened.append(kind)
            return FakeSession([])

        return make

    context = Context(
        principal=Principal(),
        clock=FixedClock(),
        request_id="r",
        sessionmaker=maker("transactional"),
        read_sessionmaker=maker("reads"),
    )
    context.session.reads_only = True
    async with context.db():
        pass
    assert opened == ["reads"]
    with pytest.raises(RuntimeError, match="cannot write"):
        async with context.transaction():
            pass
    assert not context.wrote
    await context.close()


async def test_a_user_cancelled_mid_statement_leaves_the_next_a_new_session() -> None:
    events: list[str] = []
    context = context_with(events)
    reading = asyncio.Event()

    async def cancelled_sibling() -> None:
        async with context.db():
            reading.set()
            await asyncio.sleep(10)  # cancelled here, as graphql-core cancels siblings

    task = asyncio.create_task(cancelled_sibling())
    await reading.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with context.db():
        events.append("read")
    async with context.db():  # a healthy session is kept
        events.append("read again")
    await context.close()
    assert events == ["opened", "closed", "opened", "read", "read again", "closed"]


async def test_a_cancelled_caller_does_not_cancel_the_others_of_the_same_key() -> None:
    """Two fields load customer 7 (one shared result); graphql-core cancels one of them: the
    other still gets its row, not CancelledError."""
    context = context_with([])
    started = asyncio.Event()

    async def load(session: Any, keys: Any) -> list[str]:
        started.set()
        await asyncio.sleep(0.05)
        return [f"row {key}" for key in keys]

    loader = context.session.batch(load)

    async def field() -> Any:
        return await loader.load(7)

    cancelled = asyncio.create_task(field())
    kept = asyncio.create_task(field())
    await started.wait()
    cancelled.cancel()
    assert await kept == "row 7"
    assert cancelled.cancelled()
    assert await loader.load(7) == "row 7"  # the result stays cached
    await context.close()
