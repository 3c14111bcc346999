"""Cluster-wide Prometheus metrics, read from Redis at scrape time, so that one scrape of any api replica
tells the truth however many workers run. Also the read behind ``/health`` (same snapshot).

:meth:`ClusterReader.read` costs three round trips whatever the number of jobs: a timed PING, one pipeline
(per queue: ZCARD of each state set, EXISTS of the pause flag, HGETALL of the stats hash; plus the worker
set, the leader key and the number of schedules), and one pipeline of worker heartbeats. It never SCANs.
:class:`ClusterCollector` turns a snapshot into metric families:

- gauges from the registry: ``jobs_waiting``, ``jobs_active``, ``jobs_delayed``, ``jobs_blocked``,
  ``jobs_paused`` (waiting jobs held by a pause), ``jobs_workers_live`` (per queue, from heartbeats),
  ``jobs_scheduler_leader`` (1/0), ``jobs_schedules``, ``jobs_redis_latency_seconds``, ``jobs_redis_up``;
- counters from the monotonic stats hash the transition scripts write (``scripts/lib/events.lua``):
  ``jobs_total`` (created), ``jobs_completed_total``/``jobs_failed_total`` by type,
  ``jobs_retries_total``, ``jobs_cancelled_total``;
- histograms ``jobs_wait_seconds`` (enqueue or due time → start of each try) and
  ``jobs_duration_seconds`` (run time of the tries that ended a job), from the scripts' bucket counts;
- SPEC.md's own names beside the conventional ones, so alerts written against SPEC.md work as written:
  ``jobs_latency_ms`` (the run-time histogram again, in milliseconds) and ``jobs_retry_count`` (the
  value of ``jobs_retries_total``; untyped, because a counter's samples must end in ``_total``).

Type labels are bounded: at most ``TYPE_LABEL_CAP`` types per queue, the rest (and failures recorded
without a type, such as dependency failures) count under ``type="_other"``, which no real type can be
named. How it fails: ``read`` raises ``RedisUnavailable``; the caller then renders ``jobs_redis_up 0``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    UnknownMetricFamily,
)
from redis.asyncio import Redis

from jobs_core.insights import BOUNDS
from jobs_core.keys import JOB_STATES, Keys
from jobs_core.redis_conn import unavailable_as_error

TYPE_LABEL_CAP = 50
OTHER_TYPE = "_other"
# A worker counts as live while its last heartbeat is at most this many beat periods old. It beats every
# lease/3 and writes that period into its hash; 10 s (the default period) for a hash without it.
LIVE_BEATS = 3
DEFAULT_BEAT_MS = 10_000
GAUGE_STATES = {"waiting": "jobs_waiting", "active": "jobs_active", "delayed": "jobs_delayed"}
GAUGE_STATES |= {"blocked": "jobs_blocked"}


@dataclass(frozen=True)
class QueueSnapshot:
    name: str
    counts: dict[str, int]  # jobs per state (every state of JOB_STATES)
    paused: bool
    workers: int  # live workers serving this queue
    stats: dict[str, str] = field(default_factory=dict)  # the monotonic stats hash

    @property
    def held_by_pause(self) -> int:
        return self.counts["waiting"] if self.paused else 0


@dataclass(frozen=True)
class ClusterSnapshot:
    queues: list[QueueSnapshot]
    workers: int  # live workers in total
    leader: str | None  # token of the scheduler replica holding the lease (host:pid:random)
    schedules: int
    latency_s: float


class ClusterReader:
    """Reads a :class:`ClusterSnapshot` of the known queues (JOBS_QUEUES)."""

    def __init__(self, redis: Redis, keys: Keys, queues: Sequence[str]) -> None:
        self.redis = redis
        self.keys = keys
        self.queues = list(queues)

    async def read(self) -> ClusterSnapshot:
        async with unavailable_as_error():
            started = time.perf_counter()
            await self.redis.ping()
            latency = time.perf_counter() - started
            pipe = self.redis.pipeline(transaction=False)
            for q in self.queues:
                for state in JOB_STATES:
                    pipe.zcard(self.keys.state(q, state))
                pipe.exists(self.keys.paused(q))
                pipe.hgetall(self.keys.stats(q))
            pipe.zrange(self.keys.workers(), 0, -1)
            pipe.get(self.keys.leader())
            pipe.hlen(self.keys.schedules())
            replies = await pipe.execute()
            worker_ids, leader, schedules = replies[-3:]
            beats = await self._beats(list(worker_ids))
        total, per_queue = live_workers(beats, time.time() * 1000)
        width = len(JOB_STATES) + 2
        queues = []
        for i, q in enumerate(self.queues):
            row = replies[i * width : (i + 1) * width]
            counts = {s: int(n) for s, n in zip(JOB_STATES, row, strict=False)}
            queues.append(QueueSnapshot(q, counts, bool(row[-2]), per_queue[q], dict(row[-1])))
        return ClusterSnapshot(queues, total, leader, int(schedules), latency)

    async def _beats(self, worker_ids: list[str]) -> list[list[Any]]:
        if not worker_ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for worker_id in worker_ids:
            pipe.hmget(self.keys.worker(worker_id), ["queues", "beat", "interval_ms"])
        return list(await pipe.execute())


def live_workers(beats: Iterable[list[Any]], now_ms: float) -> tuple[int, Counter[str]]:
    """Live workers in total and per served queue; an expired hash (all None) is a gone worker."""
    total, per_queue = 0, Counter[str]()
    for queues_json, beat, interval in beats:
        if beat is None:
            continue
        if now_ms - int(beat) > LIVE_BEATS * int(interval or DEFAULT_BEAT_MS):
            continue  # the hash outlives a killed worker by its TTL; a stale beat means it is gone
        total += 1
        try:
            served = json.loads(queues_json or "[]")
        except ValueError:
            served = []
        per_queue.update(str(q) for q in served if isinstance(q, str))
    return total, per_queue


class ClusterCollector:
    """A prometheus_client collector of one snapshot (None = Redis did not answer)."""

    def __init__(self, snapshot: ClusterSnapshot | None) -> None:
        self.snapshot = snapshot

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        yield GaugeMetricFamily("jobs_redis_up", "1 when Redis answered this scrape", value=int(bool(snap)))
        if snap is None:
            return
        yield GaugeMetricFamily("jobs_redis_latency_seconds", "Redis PING round trip", value=snap.latency_s)
        leader = GaugeMetricFamily("jobs_scheduler_leader", "1 while a scheduler replica holds the lease")
        leader.add_metric([], 1 if snap.leader else 0)
        yield leader
        yield GaugeMetricFamily("jobs_schedules", "recurring schedules defined", value=snap.schedules)
        yield from self._gauges(snap.queues)
        yield from self._counters(snap.queues)
        for name, field_name, doc in (
            ("jobs_wait_seconds", "wait_ms", "time from enqueue (or due time) to the start of each try"),
            ("jobs_duration_seconds", "run_ms", "run time of the tries that completed or failed a job"),
        ):
            family = HistogramMetricFamily(name, doc, labels=["queue"])
            for q in snap.queues:
                buckets, total_ms = histogram(q.stats, field_name)
                family.add_metric([q.name], buckets, total_ms / 1000)
            yield family
        yield from self._spec_names(snap.queues)

    @staticmethod
    def _spec_names(queues: list[QueueSnapshot]) -> Iterator[Metric]:
        """SPEC.md's ``jobs_latency_ms`` and ``jobs_retry_count``, from the same counts."""
        latency = HistogramMetricFamily(
            "jobs_latency_ms", "run time in ms (SPEC.md name of jobs_duration_seconds)", labels=["queue"]
        )
        retries = UnknownMetricFamily(
            "jobs_retry_count", "tries retried later (SPEC.md name of jobs_retries_total)", labels=["queue"]
        )
        for q in queues:
            buckets, total_ms = histogram(q.stats, "run_ms", unit_ms=1)
            latency.add_metric([q.name], buckets, total_ms)
            retries.add_metric([q.name], int(q.stats.get("retried", 0)))
        yield latency
        yield retries

    @staticmethod
    def _gauges(queues: list[QueueSnapshot]) -> Iterator[Metric]:
        docs = {"waiting": "jobs ready to run", "active": "jobs running now", "delayed": "jobs due later"}
        docs["blocked"] = "jobs waiting on dependencies"
        for state, name in GAUGE_STATES.items():
            family = GaugeMetricFamily(name, docs[state], labels=["queue"])
            for q in queues:
                family.add_metric([q.name], q.counts[state])
            yield family
        paused = GaugeMetricFamily("jobs_paused", "waiting jobs held by a paused queue", labels=["queue"])
        live = GaugeMetricFamily("jobs_workers_live", "workers with a fresh heartbeat", labels=["queue"])
        for q in queues:
            paused.add_metric([q.name], q.held_by_pause)
            live.add_metric([q.name], q.workers)
        yield paused
        yield live

    @staticmethod
    def _counters(queues: list[QueueSnapshot]) -> Iterator[Metric]:
        for name, key, doc in (
            ("jobs", "created", "jobs created"),
            ("jobs_retries", "retried", "tries that failed and were retried later"),
            ("jobs_cancelled", "cancelled", "jobs cancelled"),
        ):
            family = CounterMetricFamily(name, doc, labels=["queue"])
            for q in queues:
                family.add_metric([q.name], int(q.stats.get(key, 0)))
            yield family
        for outcome in ("completed", "failed"):
            family = CounterMetricFamily(f"jobs_{outcome}", f"jobs {outcome}", labels=["queue", "type"])
            for q in queues:
                for job_type, n in by_type(q.stats, outcome).items():
                    family.add_metric([q.name, job_type], n)
            yield family


def by_type(stats: dict[str, str], outcome: str) -> dict[str, int]:
    """``<outcome>:<type>`` counts, capped at TYPE_LABEL_CAP types (by name); the rest and whatever the
    total holds beyond the typed counts go to ``_other``, so the types always add up to the total."""
    prefix = outcome + ":"
    typed = sorted((k[len(prefix) :], int(v)) for k, v in stats.items() if k.startswith(prefix))
    out = dict(typed[:TYPE_LABEL_CAP])
    # Always present, so that a queue has a series (0) before its first job of any type.
    out[OTHER_TYPE] = max(int(stats.get(outcome, 0)) - sum(out.values()), 0)
    return out


def histogram(
    stats: dict[str, str], field_name: str, unit_ms: float = 1000
) -> tuple[list[tuple[str, float]], float]:
    """Cumulative buckets from the scripts' per-bucket counts, and the sum in ms; ``le`` is in
    seconds by default, in milliseconds with ``unit_ms=1``."""
    buckets, seen = [], 0
    for bound in BOUNDS:
        label = "inf" if bound == float("inf") else str(int(bound))
        seen += int(stats.get(f"{field_name}:{label}", 0))
        le = "+Inf" if bound == float("inf") else _le(bound / unit_ms)
        buckets.append((le, float(seen)))
    return buckets, float(stats.get(f"{field_name}_sum", 0))


def _le(value: float) -> str:
    """A bucket bound as Prometheus writes it: ``0.005``, ``2.5``, ``100.0``."""
    return str(float(value))


def render(snapshot: ClusterSnapshot | None) -> bytes:
    """Prometheus text of one snapshot."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClusterCollector(snapshot))
    return generate_latest(registry)
