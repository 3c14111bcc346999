"""Script-level fencing against a real Redis: once a try lost its lease to another claim, its progress,
log lines and outcome are refused, and the new try's are kept."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from jobs_core.model import JobRequest, build_spec
from jobs_core.settings import CoreSettings
from jobs_core.store import JobStore
from support.redis_server import RedisServer


async def claim(store: JobStore, worker: str) -> list[str]:
    raw = await store.run("claim", worker, 60_000, 1, 3, "default")
    assert int(raw[2]) == 1, raw
    return list(raw[3:15])


async def test_lost_try_is_fenced(redis: Redis, redis_server: RedisServer, prefix: str) -> None:
    settings = CoreSettings(redis_url=redis_server.url, key_prefix=prefix)
    store = JobStore(redis, settings)
    [made] = await store.enqueue([build_spec(JobRequest(type="x"), settings)])
    first = await claim(store, "w1")
    # The lease ran out (w1 was frozen or cut off): its deadline, the score in the active set, is past.
    await redis.zadd(store.keys.state(made.queue, "active"), {made.job_id: 0}, xx=True)
    second = await claim(store, "w2")
    old, new = first[8], second[8]
    assert old != new and second[4] == first[4] == 1  # same attempt: a stall does not use a try

    assert await store.run("progress", made.job_id, old, 40) == 0
    assert await store.run("append_log", made.job_id, old, json.dumps({"message": "late"}), 10) == 0
    assert await store.run("complete", 100, 0, made.job_id, old, '"stale"', 5) == 0
    assert await store.run("extend_leases", 30_000, made.job_id, old) == [made.job_id, "active"]

    assert await store.run("progress", made.job_id, new, 60) == 1
    assert await store.run("complete", 100, 0, made.job_id, new, '"fresh"', 5) == 1
    record, _ = await store.get(made.job_id) or ({}, [])
    assert record["status"] == "completed" and record["result"] == '"fresh"' and record["stalls"] == "1"
    assert await store.logs(made.job_id) == []
