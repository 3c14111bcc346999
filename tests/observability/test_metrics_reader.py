"""The cluster reader and collector against a real Redis, with stored values written directly: type labels
stay bounded and add up to the totals, histograms come out cumulative in seconds, only fresh heartbeats
count as live workers, and a Redis that does not answer renders ``jobs_redis_up 0``."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from jobs_core.errors import RedisUnavailable
from jobs_core.keys import Keys
from jobs_core.metrics import OTHER_TYPE, TYPE_LABEL_CAP, ClusterReader, render
from observability.obs_helpers import Scrape


async def test_snapshot_renders_bounded_types_and_cumulative_histograms(redis: Any, prefix: str) -> None:
    keys = Keys(prefix)
    stats: dict[str, int] = {"created": 300, "completed": 260, "failed": 9, "retried": 4, "cancelled": 2}
    stats |= {f"completed:t{i:03}": 4 for i in range(TYPE_LABEL_CAP + 10)}  # 60 types, 240 jobs
    stats |= {"failed:boom": 5}  # 4 more failures were recorded without a type (dependencies)
    stats |= {"run_ms:5": 3, "run_ms:100": 4, "run_ms:inf": 1, "run_ms_sum": 70_500}
    stats |= {"wait_ms:10": 2, "wait_ms_sum": 15}
    await redis.hset(keys.stats("default"), mapping=stats)
    await redis.zadd(keys.state("default", "waiting"), {"a": 1, "b": 2})
    await redis.zadd(keys.state("other", "waiting"), {"c": 1})
    await redis.set(keys.paused("other"), 1)
    await redis.set(keys.leader(), "host:1:abc")
    now = int(time.time() * 1000)
    beats = {"fresh": (now, ["default"]), "stale": (now - 40_000, ["default", "other"]), "gone": None}
    for worker_id, beat in beats.items():
        await redis.zadd(keys.workers(), {worker_id: now})
        if beat:
            info = {"beat": beat[0], "queues": json.dumps(beat[1]), "interval_ms": 10_000}
            await redis.hset(keys.worker(worker_id), mapping=info)

    snap = await ClusterReader(redis, keys, ["default", "other"]).read()
    assert snap.workers == 1 and snap.leader == "host:1:abc"
    m = Scrape(render(snap).decode())
    completed = {
        s.labels["type"]: s.value for s in m.samples["jobs_completed_total"] if s.labels["queue"] == "default"
    }
    assert len(completed) == TYPE_LABEL_CAP + 1
    assert completed[OTHER_TYPE] == 260 - 4 * TYPE_LABEL_CAP
    assert m.value("jobs_failed_total", queue="default", type="boom") == 5
    assert m.value("jobs_failed_total", queue="default", type=OTHER_TYPE) == 4
    assert m.value("jobs_failed_total", queue="other", type=OTHER_TYPE) == 0  # present before any job
    assert m.value("jobs_total", queue="default") == 300
    assert m.value("jobs_retries_total", queue="default") == 4
    assert m.value("jobs_cancelled_total", queue="default") == 2
    run = {
        s.labels["le"]: s.value
        for s in m.samples["jobs_duration_seconds_bucket"]
        if s.labels["queue"] == "default"
    }
    assert (run["0.005"], run["0.05"], run["0.1"], run["60.0"], run["+Inf"]) == (3, 3, 7, 7, 8)
    assert m.value("jobs_duration_seconds_count", queue="default") == 8
    assert m.value("jobs_duration_seconds_sum", queue="default") == pytest.approx(70.5)
    assert m.value("jobs_wait_seconds_sum", queue="default") == pytest.approx(0.015)
    assert m.value("jobs_duration_seconds_count", queue="other") == 0
    assert m.value("jobs_waiting", queue="default") == 2 and m.value("jobs_paused", queue="default") == 0
    assert m.value("jobs_waiting", queue="other") == 1 and m.value("jobs_paused", queue="other") == 1
    assert m.value("jobs_workers_live", queue="default") == 1
    assert m.value("jobs_workers_live", queue="other") == 0
    assert m.value("jobs_scheduler_leader") == 1 and m.value("jobs_redis_up") == 1


async def test_unreachable_redis_renders_up_zero() -> None:
    from redis.asyncio import Redis

    from support.redis_server import free_port

    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", decode_responses=True)
    with pytest.raises(RedisUnavailable):
        await ClusterReader(dead, Keys("x"), ["default"]).read()
    await dead.aclose()
    m = Scrape(render(None).decode())
    assert m.value("jobs_redis_up") == 0 and list(m.samples) == ["jobs_redis_up"]
