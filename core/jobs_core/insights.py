"""Throughput charts and latency percentiles, read from the per-minute buckets the transitions write.

Each ``P:q:{queue}:minute:{m}`` hash holds counters (created, completed, failed, retried, cancelled,
``completed:<type>``, ``failed:<type>``, ``duration_ms``) and histogram fields ``wait_ms:<le>`` and
``run_ms:<le>`` (non-cumulative counts per bucket). Buckets expire after 25 h, so a missing bucket
means zero. Nothing here writes; connection failures raise ``RedisUnavailable``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jobs_core.keys import Keys
from jobs_core.redis_conn import unavailable_as_error
from jobs_core.store import JobStore

# Upper bounds (ms) of the histogram buckets the Lua side fills (scripts/lib/events.lua).
_FINITE = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
BOUNDS: tuple[float, ...] = (*map(float, _FINITE), float("inf"))
PERCENTILES = (0.5, 0.95, 0.99)
HOUR = 60
# A bucket is cached once its minute is this many minutes old: the scripts stamp buckets with Redis's
# clock, and this host's clock may differ from it a little.
CLOCK_SLACK = 2
DAY = 1440


def now_minute() -> int:
    return int(time.time() // 60)


def percentile(histogram: dict[float, int], q: float) -> float | None:
    """The q-quantile of a bucketed histogram, interpolated linearly inside its bucket.

    Past the last finite bound the answer is that bound (the true value is only known to be larger).
    """
    total = sum(histogram.values())
    if total == 0:
        return None
    rank, seen, lower = q * total, 0, 0.0
    for bound in BOUNDS:
        n = histogram.get(bound, 0)
        if n and seen + n >= rank:
            if bound == float("inf"):
                return lower
            return round(lower + (bound - lower) * (rank - seen) / n, 1)
        seen += n
        if bound != float("inf"):
            lower = bound
    return lower


def _bound(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class HourStats:
    """One queue's last hour: per-minute series and what the buckets add up to."""

    start: int
    completed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    wait: dict[float, int] = field(default_factory=dict)
    run: dict[float, int] = field(default_factory=dict)
    duration_ms: int = 0
    types: set[str] = field(default_factory=set)

    def add_minute(self, bucket: dict[str, str]) -> None:
        self.completed.append(int(bucket.get("completed", 0)))
        self.failed.append(int(bucket.get("failed", 0)))
        self.duration_ms += int(bucket.get("duration_ms", 0))
        for name, value in bucket.items():
            kind, _, rest = name.partition(":")
            if kind in ("completed", "failed") and rest:
                self.types.add(rest)
            elif kind in ("wait_ms", "run_ms") and (bound := _bound(rest)) is not None:
                histogram = self.wait if kind == "wait_ms" else self.run
                histogram[bound] = histogram.get(bound, 0) + int(value)

    def summary(self) -> dict[str, Any]:
        done = sum(self.completed)
        return {
            "start": self.start,
            "step": 1,
            "completed": self.completed,
            "failed": self.failed,
            "totals": {"completed": done, "failed": sum(self.failed)},
            "avgRunMs": round(self.duration_ms / done, 1) if done else None,
            "wait": {f"p{round(q * 100)}": percentile(self.wait, q) for q in PERCENTILES},
            "run": {f"p{round(q * 100)}": percentile(self.run, q) for q in PERCENTILES},
            "types": sorted(self.types),
        }


class Insights:
    """Chart reads of one process. A minute bucket no longer changes once its minute has passed (the
    scripts stamp with Redis's clock), so closed minutes are kept here and only new ones are read.
    Memory: at most a day of minutes per queue."""

    def __init__(self, store: JobStore) -> None:
        self.redis = store.redis
        self.keys: Keys = store.keys
        self._hour_cache: dict[tuple[str, int], dict[str, str]] = {}
        self._day_cache: dict[tuple[str, int], tuple[int, int]] = {}

    async def _buckets(
        self, queues: list[str], start: int, end: int
    ) -> dict[tuple[str, int], dict[str, str]]:
        current = now_minute()
        cache = self._hour_cache
        missing = [(q, m) for q in queues for m in range(start, end + 1) if (q, m) not in cache]
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for q, m in missing:
                pipe.hgetall(self.keys.minute(q, m))
            fresh = dict(zip(missing, await pipe.execute(), strict=True)) if missing else {}
        for key in [k for k in cache if k[1] < current - HOUR]:
            del cache[key]
        cache.update({k: v for k, v in fresh.items() if k[1] < current - CLOCK_SLACK})
        return {**cache, **fresh}

    async def hour(self, queues: list[str], end: int | None = None) -> dict[str, dict[str, Any]]:
        """Per queue: completed/failed per minute over the last hour, percentiles, types seen."""
        end = end if end is not None else now_minute()
        start = end - HOUR + 1
        buckets = await self._buckets(queues, start, end)
        out = {}
        for q in queues:
            stats = HourStats(start)
            for m in range(start, end + 1):
                stats.add_minute(buckets[(q, m)])
            out[q] = stats.summary()
        return out

    async def day(self, queues: list[str], step: int = 10, end: int | None = None) -> dict[str, Any]:
        """Completed/failed over the last 24 h, all queues together, in bins of ``step`` minutes."""
        end = end if end is not None else now_minute()
        bins = DAY // step
        start = end - bins * step + 1
        current, cache = now_minute(), self._day_cache
        missing = [(q, m) for q in queues for m in range(start, end + 1) if (q, m) not in cache]
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for q, m in missing:
                pipe.hmget(self.keys.minute(q, m), ["completed", "failed"])
            rows = await pipe.execute() if missing else []
        fresh = {k: (int(done or 0), int(bad or 0)) for k, (done, bad) in zip(missing, rows, strict=True)}
        for key in [k for k in cache if k[1] < current - DAY]:
            del cache[key]
        cache.update({k: v for k, v in fresh.items() if k[1] < current - CLOCK_SLACK})
        completed, failed = [0] * bins, [0] * bins
        for q in queues:
            for m in range(start, end + 1):
                done, bad = fresh.get((q, m)) or cache[(q, m)]
                completed[(m - start) // step] += done
                failed[(m - start) // step] += bad
        return {"start": start, "step": step, "completed": completed, "failed": failed}

    async def this_minute(self, queues: list[str]) -> dict[str, dict[str, int]]:
        """Completed/failed so far in the current minute, per queue (live chart updates)."""
        minute = now_minute()
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for q in queues:
                pipe.hmget(self.keys.minute(q, minute), ["completed", "failed"])
            rows = await pipe.execute()
        return {
            q: {"minute": minute, "completed": int(row[0] or 0), "failed": int(row[1] or 0)}
            for q, row in zip(queues, rows, strict=True)
        }
