"""The worker's shared timeout timer: expired tries are reported once, in deadline order; ended ones never;
the heap stays bounded however many tries come and go."""

from __future__ import annotations

import asyncio

from jobs_worker.deadlines import Deadlines


async def test_expired_tries_are_reported_in_order_and_ended_ones_never() -> None:
    fired: list[str] = []
    all_fired = asyncio.Event()

    def expired(key: str) -> None:
        fired.append(key)
        if len(fired) == 2:
            all_fired.set()

    deadlines = Deadlines(expired)
    deadlines.add("late", 0.06)
    deadlines.add("ends-first", 0.01)
    deadlines.add("early", 0.02)
    deadlines.remove("ends-first")
    await asyncio.wait_for(all_fired.wait(), 2)
    assert fired == ["early", "late"]


async def test_heap_stays_bounded_when_tries_end_before_their_deadline() -> None:
    deadlines = Deadlines(lambda key: None)
    for i in range(50_000):
        deadlines.add(f"try-{i}", 3600)
        deadlines.remove(f"try-{i}")
    assert len(deadlines._heap) <= 2 * len(deadlines._live) + 1024 + 1


async def test_an_earlier_deadline_rearms_the_timer() -> None:
    fired = asyncio.Event()
    deadlines = Deadlines(lambda key: fired.set() if key == "short" else None)
    deadlines.add("long", 3600)
    deadlines.add("short", 0.01)
    await asyncio.wait_for(fired.wait(), 2)
    assert deadlines._armed_at > asyncio.get_running_loop().time() + 3000  # back on the long one
