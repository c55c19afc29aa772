"""CPython's cyclic garbage collector, run on a timer instead of by allocation counts.

A request allocates thousands of container objects (rows, GraphQL results, strawberry
objects) that live until its answer is sent and are then freed by reference counting. The
collector, left to itself, starts a pass every 700 net allocations and walks every young
object alive at that moment: on a page of 100 rows that is a fifth of the CPU (measured in
bench/), all spent walking objects that were never garbage. What start-up made is frozen
(out of its sight), so the collector is switched off and a pass over the young objects
(generations 0 and 1: what was made since the last pass) runs every `interval` seconds, a
full pass every `full_every` of them. Garbage cycles (an exception and its traceback's
frames, ORM objects) live about that long; objects that outlive a pass (caches filled by
the first requests) are walked only by the full passes, which on a served process took a
tenth of its CPU when run every second."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def scheduled_collection(interval: float | None, full_every: int = 60) -> AsyncIterator[None]:
    """While inside: start-up frozen, and with an interval, collection every `interval`
    seconds instead of by allocations (None: CPython's own schedule). Restores the
    collector (and unfreezes) on leaving."""
    gc.collect()
    gc.freeze()
    if interval is None:
        try:
            yield
        finally:
            gc.unfreeze()
        return
    was_enabled = gc.isenabled()
    gc.disable()

    async def collect() -> None:
        passes = 0
        while True:
            await asyncio.sleep(interval)
            passes += 1
            gc.collect(2 if passes % full_every == 0 else 1)

    task = asyncio.create_task(collect())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gc.unfreeze()
        if was_enabled:
            gc.enable()
