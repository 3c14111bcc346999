"""Pause and resume against real worker processes: the flag is checked inside the claim script, so once
``POST /queues/:name/pause`` has answered no worker starts a job of that queue; running jobs finish, new
jobs are accepted and wait, and resume continues in priority order. A failure names the job that
started too late, the job that was lost, or the first claim out of priority order.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from queue_control.qc_helpers import PRIORITY_RANK, bulk, ends, events, starts, steps
from support.waiting import wait_all, wait_state, wait_step

pytestmark = pytest.mark.timeout(60)
KEEP = {"JOBS_KEEP_COMPLETED": "100000"}  # retention must not delete the jobs the tests look at


async def test_pause_is_visible_and_holds_new_jobs(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker", **KEEP)
    status, body, _ = await api.call("POST", "/queues/default/pause")
    assert status == 200 and body == {"success": True, "queue": "default", "isPaused": True, "changed": True}
    assert (await api.call("POST", "/queues/default/pause"))[1]["changed"] is False
    key = f"{prefix}:trace"
    held = [await api.schedule({"type": "echo", "payload": {"key": key}}) for _ in range(3)]
    other = await api.schedule({"type": "echo", "options": {"queue": "low-priority"}})
    assert {made["status"] for made in held} == {"waiting"}
    await wait_state(redis, prefix, other["jobId"], {"completed"})  # other queues keep running
    status, stats, _ = await api.call("GET", "/queues/default")
    assert status == 200 and stats["isPaused"] is True
    assert stats["counts"]["paused"] == 3 and stats["counts"]["waiting"] == 3
    assert stats["counts"]["active"] == 0 and await redis.llen(key) == 0
    listed = {q["name"]: q for q in (await api.call("GET", "/queues"))[1]["queues"]}
    assert listed["default"]["isPaused"] and not listed["low-priority"]["isPaused"]
    assert listed["low-priority"]["counts"]["paused"] == 0

    status, body, _ = await api.call("POST", "/queues/default/resume")
    assert status == 200 and body["isPaused"] is False and body["changed"] is True
    assert (await api.call("POST", "/queues/default/resume"))[1]["changed"] is False
    await wait_all(redis, prefix, [m["jobId"] for m in held], {"completed"})
    stats = (await api.call("GET", "/queues/default"))[1]
    assert stats["isPaused"] is False and stats["counts"]["paused"] == 0
    marks = [(e["from"], e["to"]) for e in await events(redis, prefix, "default") if e["job"] == ""]
    assert marks == [("running", "paused"), ("paused", "running")]


def mixed_sleep_jobs(key: str, n: int) -> list[dict[str, Any]]:
    """n 300 ms jobs of mixed priorities; the id carries the priority (``j07-high``)."""
    cycle = ["low", "normal", "high", "critical", "normal"]
    return [
        {
            "type": "sleep",
            "payload": {"key": key, "ms": 300},
            "options": {"queue": "default", "priority": cycle[i % 5], "jobId": f"j{i:02d}-{cycle[i % 5]}"},
        }
        for i in range(n)
    ]


async def test_pause_with_four_busy_workers(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    key = f"{prefix}:trace"
    workers = [
        spawn("jobs-worker", wait=False, JOBS_CONCURRENCY="2", JOBS_WORKER_QUEUES="default", **KEEP)
        for _ in range(4)
    ]
    for worker in workers:
        worker.wait_for("service_ready", timeout=30)
    jobs = mixed_sleep_jobs(key, 40)
    assert (await bulk(api, jobs))[0] == 201
    for _ in range(8):  # every slot of the four workers is busy
        await wait_step(redis, key, "start")
    status, _, _ = await api.call("POST", "/queues/default/pause")
    paused_at = time.time() * 1000
    assert status == 200
    # Time passing is the point: the eight running jobs end within 300 ms and free their slots, and the
    # workers, woken by the freed slots, try to claim again; nothing may start.
    await asyncio.sleep(0.9)
    trace = await steps(redis, key)
    before = starts(trace)
    late = {job: at for job, ats in before.items() for at in ats if at > paused_at + 100}
    assert not late, f"started after the pause returned: {late}"
    assert len(before) >= 8 and len(ends(trace)) == len(before), "running jobs must finish"
    stats = (await api.call("GET", "/queues/default"))[1]
    assert stats["isPaused"] and stats["counts"]["active"] == 0
    assert stats["counts"]["paused"] == stats["counts"]["waiting"] == 40 - len(before)

    assert (await api.call("POST", "/queues/default/resume"))[0] == 200
    ids = [job["options"]["jobId"] for job in jobs]
    await wait_all(redis, prefix, ids, {"completed"}, timeout=30)
    ran = starts(await steps(redis, key))
    assert sorted(ran) == sorted(ids) and all(len(at) == 1 for at in ran.values()), "lost or run twice"
    # Claims are atomic scripts, so the stream's order of "-> active" events is the order jobs were taken.
    stream = await events(redis, prefix, "default")
    resumed = next(i for i, e in enumerate(stream) if e["job"] == "" and e["to"] == "running")
    claimed = [e["job"] for e in stream[resumed:] if e["to"] == "active"]
    expected = sorted(set(ids) - set(before), key=lambda j: (PRIORITY_RANK[j.split("-")[1]], j))
    assert claimed == expected
