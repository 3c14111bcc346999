"""Prefetched tries (JOBS_PREFETCH): claimed while every slot is busy, started as soon as one frees.
Cancel, SIGTERM, SIGKILL and priority behave as for running tries; long jobs are not prefetched.

Each test first runs a few quick jobs so that the worker's recent run times are short (prefetch is only
used then), and then holds its one slot with a sleeping job: the next job claimed is prefetched.
"""

from __future__ import annotations

from typing import Any

from support.waiting import wait_all, wait_state, wait_step


async def _warm(api: Any, redis: Any, prefix: str) -> None:
    quick = [(await api.schedule({"type": "noop"}))["jobId"] for _ in range(3)]
    await wait_all(redis, prefix, quick, {"completed"})


async def _hold_slot_and_prefetch(api: Any, redis: Any, prefix: str, key: str, ms: int) -> tuple[str, str]:
    """A sleeping job in the one slot, then an echo job that the worker claims ahead (prefetched)."""
    busy = await api.schedule({"type": "sleep", "payload": {"ms": ms, "key": key}})
    await wait_step(redis, key, "start")
    ahead = await api.schedule({"type": "echo", "payload": {"key": key}})
    await wait_state(redis, prefix, ahead["jobId"], {"active"})
    return busy["jobId"], ahead["jobId"]


def _starts(entries: list[str]) -> list[str]:
    return [e.split("|")[0] for e in entries if e.split("|")[1] == "start"]


async def test_prefetched_job_starts_when_the_slot_frees(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="1", JOBS_PREFETCH="1")
    await _warm(api, redis, prefix)
    key = f"{prefix}:trace"
    busy, ahead = await _hold_slot_and_prefetch(api, redis, prefix, key, 600)
    later = await api.schedule({"type": "echo", "payload": {"key": key}})
    # The slot and the one prefetch place are taken: the third job waits in Redis.
    assert (await api.job(later["jobId"]))["status"] == "waiting"
    await wait_all(redis, prefix, [busy, ahead, later["jobId"]], {"completed"})
    assert _starts(await redis.lrange(key, 0, -1)) == [busy, ahead, later["jobId"]]
    record = await redis.hgetall(f"{prefix}:job:{ahead}")
    assert record["attempt"] == "1" and record["stalls"] == "0"


async def test_cancelled_prefetched_job_never_runs(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="1", JOBS_PREFETCH="1")
    await _warm(api, redis, prefix)
    key = f"{prefix}:trace"
    busy, ahead = await _hold_slot_and_prefetch(api, redis, prefix, key, 800)
    status, body, _ = await api.call("DELETE", f"/jobs/{ahead}")
    assert status == 200 and body["previousStatus"] == "active"
    follow = await api.schedule({"type": "echo", "payload": {"key": key}})
    await wait_all(redis, prefix, [busy, follow["jobId"]], {"completed"})
    assert _starts(await redis.lrange(key, 0, -1)) == [busy, follow["jobId"]]
    assert (await api.job(ahead))["status"] == "cancelled"


async def test_sigterm_hands_prefetched_job_back_untouched(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    worker = spawn("jobs-worker", JOBS_CONCURRENCY="1", JOBS_PREFETCH="1", JOBS_SHUTDOWN_GRACE="10")
    await _warm(api, redis, prefix)
    key = f"{prefix}:trace"
    busy, ahead = await _hold_slot_and_prefetch(api, redis, prefix, key, 800)
    assert worker.stop(timeout=15) == 0
    assert (await redis.hget(f"{prefix}:job:{busy}", "status")) == "completed"
    record = await redis.hgetall(f"{prefix}:job:{ahead}")
    assert record["status"] == "waiting" and record["attempt"] == "0", record
    spawn("jobs-worker")
    done = await wait_state(redis, prefix, ahead, {"completed"})
    assert done["attempt"] == "1" and done["stalls"] == "0"
    assert _starts(await redis.lrange(key, 0, -1)).count(ahead) == 1


async def test_sigkill_loses_no_prefetched_job(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    worker = spawn("jobs-worker", JOBS_CONCURRENCY="1", JOBS_PREFETCH="1", JOBS_LEASE_MS="1000")
    await _warm(api, redis, prefix)
    key = f"{prefix}:trace"
    busy, ahead = await _hold_slot_and_prefetch(api, redis, prefix, key, 5000)
    worker.kill()
    spawn("jobs-worker", JOBS_CONCURRENCY="2", JOBS_LEASE_MS="1000")
    await wait_all(redis, prefix, [busy, ahead], {"completed"}, timeout=20)
    assert _starts(await redis.lrange(key, 0, -1)).count(ahead) == 1  # it never ran before the kill
    assert (await redis.hget(f"{prefix}:job:{ahead}", "stalls")) == "1"


async def test_prefetch_keeps_priority_order(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    """Jobs claimed ahead start in the order the claim took them: strict priority, FIFO inside one."""
    spawn("jobs-worker", JOBS_CONCURRENCY="1", JOBS_PREFETCH="1")
    await _warm(api, redis, prefix)
    key = f"{prefix}:trace"
    assert (await api.call("POST", "/queues/default/pause"))[0] == 200
    order = ["low", "normal", "critical", "high", "low", "critical"]
    made = []
    for i, priority in enumerate(order):
        job = {
            "type": "echo",
            "payload": {"key": key},
            "options": {"priority": priority, "queue": "default", "jobId": f"{priority}-{i}"},
        }
        made.append((await api.schedule(job))["jobId"])
    assert (await api.call("POST", "/queues/default/resume"))[0] == 200
    await wait_all(redis, prefix, made, {"completed"})
    assert _starts(await redis.lrange(key, 0, -1)) == [
        "critical-2",
        "critical-5",
        "high-3",
        "normal-1",
        "low-0",
        "low-4",
    ]
