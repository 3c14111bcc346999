"""Crashes are real here: SIGKILL and SIGSTOP of worker processes, SIGTERM during work, and a Redis
restart with AOF. Nothing acknowledged may be lost; no try may run twice at once."""

from __future__ import annotations

import signal
import time
from typing import Any

from support.redis_server import RedisServer
from support.waiting import wait_all, wait_state, wait_step


def trace(entries: list[str]) -> list[tuple[str, str, float]]:
    out = []
    for entry in entries:
        job_id, what, at, _attempt = entry.split("|")
        out.append((job_id, what, float(at)))
    return out


async def test_sigkill_mid_job_reruns_within_a_lease(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    key = f"{prefix}:trace"
    first = spawn("jobs-worker", JOBS_LEASE_MS="1500")
    made = await api.schedule({"type": "sleep", "payload": {"ms": 800, "key": key}})
    await wait_step(redis, key, "start")
    first.kill()
    killed_at = time.time() * 1000
    spawn("jobs-worker", JOBS_LEASE_MS="1500")
    record = await wait_state(redis, prefix, made["jobId"], {"completed"}, timeout=10)
    starts = [at for _, what, at in trace(await redis.lrange(key, 0, -1)) if what == "start"]
    assert len(starts) == 2
    assert starts[1] - killed_at < 1500 + 1000, starts[1] - killed_at
    assert record["stalls"] == "1" and record["attempt"] == "1"


async def test_sigterm_finishes_running_requeues_rest_exits_zero(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    key = f"{prefix}:trace"
    worker = spawn("jobs-worker", JOBS_CONCURRENCY="2", JOBS_SHUTDOWN_GRACE="2")
    short = await api.schedule({"type": "sleep", "payload": {"ms": 500, "key": key}})
    long = await api.schedule({"type": "sleep", "payload": {"ms": 6000, "key": key}})
    await wait_step(redis, key, "start")
    await wait_step(redis, key, "start")
    waiting = [(await api.schedule({"type": "echo", "payload": {"key": key}}))["jobId"] for _ in range(3)]
    started = time.monotonic()
    assert worker.stop(timeout=15) == 0
    assert time.monotonic() - started < 6
    assert (await redis.hget(f"{prefix}:job:{short['jobId']}", "status")) == "completed"
    assert (await redis.hget(f"{prefix}:job:{long['jobId']}", "status")) == "waiting"
    spawn("jobs-worker", JOBS_CONCURRENCY="5")
    await wait_all(redis, prefix, [long["jobId"], *waiting], {"completed"}, timeout=20)
    starts = [job for job, what, _ in trace(await redis.lrange(key, 0, -1)) if what == "start"]
    assert starts.count(short["jobId"]) == 1
    assert sorted(set(starts)) == sorted({short["jobId"], long["jobId"], *waiting})
    assert (await redis.hget(f"{prefix}:job:{long['jobId']}", "attempt")) == "1"


async def test_two_workers_never_run_the_same_try(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    key = f"{prefix}:trace"
    jobs = [{"type": "echo", "payload": {"key": key}} for _ in range(300)]
    status, body, _ = await api.call("POST", "/schedule/bulk", json={"jobs": jobs})
    assert status == 201
    for _ in range(3):
        spawn("jobs-worker", JOBS_CONCURRENCY="20")
    ids = [j["jobId"] for j in body["jobs"]]
    await wait_all(redis, prefix, ids, {"completed"}, timeout=30)
    starts = [job for job, what, _ in trace(await redis.lrange(key, 0, -1)) if what == "start"]
    assert sorted(starts) == sorted(ids)


async def test_stopped_worker_is_fenced_after_takeover(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    key = f"{prefix}:trace"
    frozen = spawn("jobs-worker", JOBS_LEASE_MS="1000")
    made = await api.schedule({"type": "sleep", "payload": {"ms": 2500, "steps": 5, "key": key}})
    await wait_step(redis, key, "start")
    frozen.signal(signal.SIGSTOP)
    spawn("jobs-worker", JOBS_LEASE_MS="1000")
    deadline = time.monotonic() + 10
    while await redis.hget(f"{prefix}:job:{made['jobId']}", "claims") != "2":
        assert time.monotonic() < deadline, "no takeover"
        await redis.xread({f"{prefix}:q:default:events": "$"}, block=200)
    frozen.signal(signal.SIGCONT)
    frozen.wait_for("lease_lost", timeout=10, job_id=made["jobId"])
    await wait_state(redis, prefix, made["jobId"], {"completed"}, timeout=10)
    events = await redis.xrange(f"{prefix}:q:default:events")
    completions = [f for _, f in events if f["job"] == made["jobId"] and f["to"] == "completed"]
    assert len(completions) == 1
    ends = [job for job, what, _ in trace(await redis.lrange(key, 0, -1)) if what == "end"]
    assert ends.count(made["jobId"]) == 1  # the frozen try was cancelled, not finished
    record = await redis.hgetall(f"{prefix}:job:{made['jobId']}")
    assert record["token"].endswith(":2") and record["stalls"] == "1"


async def test_redis_restart_with_aof_loses_nothing(tmp_path: Any, spawn: Any, prefix: str) -> None:
    from redis.asyncio import Redis

    server = RedisServer(tmp_path / "redis")
    server.start()
    client = Redis.from_url(server.url, decode_responses=True)
    try:
        api_proc = spawn("jobs-api", JOBS_REDIS_URL=server.url)
        from support.api import ApiClient

        api = ApiClient(int(api_proc.wait_for("service_ready")["port"]))
        ids = [(await api.schedule({"type": "echo", "options": {"delay": 1500}}))["jobId"] for _ in range(20)]
        server.stop()
        server.start()
        spawn("jobs-worker", JOBS_REDIS_URL=server.url)
        ids += [(await api.schedule({"type": "echo"}))["jobId"] for _ in range(5)]
        await wait_all(client, prefix, ids, {"completed"}, timeout=20)
        await api.close()
    finally:
        await client.aclose()
        server.stop()


async def test_sigterm_under_load_hands_back_every_claimed_job(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    """SIGTERM between batches (even while a claim is in flight) leaves no job active and loses none."""
    key = f"{prefix}:trace"
    ids: list[str] = []
    for _ in range(3):
        status, body, _ = await api.call(
            "POST", "/schedule/bulk", json={"jobs": [{"type": "echo", "payload": {"key": key}}] * 1000}
        )
        assert status == 201
        ids += [j["jobId"] for j in body["jobs"]]
    keep = {"JOBS_CONCURRENCY": "50", "JOBS_KEEP_COMPLETED": "100000"}  # retention must not hide jobs
    worker = spawn("jobs-worker", **keep)
    await wait_step(redis, key, "start")
    assert worker.stop(timeout=15) == 0
    states = {await redis.hget(f"{prefix}:job:{job_id}", "status") for job_id in ids}
    assert "active" not in states, states
    spawn("jobs-worker", **keep)
    await wait_all(redis, prefix, ids, {"completed"}, timeout=60)
    starts = [job for job, what, _ in trace(await redis.lrange(key, 0, -1)) if what == "start"]
    assert sorted(starts) == sorted(ids)  # each ran exactly once
