"""Job timeouts with one timer for the whole worker instead of one per try.

Each try's deadline goes into a heap; a single loop timer fires at the earliest one, calls
``on_expired`` for every try past its deadline and re-arms. ``asyncio.timeout`` per try cost a timer
handle and two reschedules per job, a measurable share of a short job's cost. Tries that end before
their deadline are forgotten lazily; the heap is rebuilt when stale entries outnumber live ones, so
its size stays bounded by the running tries. How it fails: it does not; a late timer only makes a
timeout late by the event loop's lag.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

COMPACT_SLACK = 1024


class Deadlines:
    def __init__(self, on_expired: Callable[[str], None]) -> None:
        self.on_expired = on_expired
        self._heap: list[tuple[float, int, str]] = []
        self._live: dict[str, int] = {}  # try key -> sequence number of its entry
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._armed_at = float("inf")

    def add(self, key: str, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        when = loop.time() + seconds
        seq = next(self._seq)
        self._live[key] = seq
        heapq.heappush(self._heap, (when, seq, key))
        if len(self._heap) > 2 * len(self._live) + COMPACT_SLACK:
            self._heap = [entry for entry in self._heap if self._live.get(entry[2]) == entry[1]]
            heapq.heapify(self._heap)
        if when < self._armed_at:
            self._arm(loop, when)

    def remove(self, key: str) -> None:
        self._live.pop(key, None)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._armed_at = loop.call_at(when, self._fire), when

    def _fire(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer, self._armed_at = None, float("inf")
        now = loop.time()
        while self._heap and self._heap[0][0] <= now:
            _, seq, key = heapq.heappop(self._heap)
            if self._live.get(key) == seq:
                del self._live[key]
                self.on_expired(key)
        while self._heap and self._live.get(self._heap[0][2]) != self._heap[0][1]:
            heapq.heappop(self._heap)  # stale head: its try ended
        if self._heap:
            self._arm(loop, self._heap[0][0])
