"""Drain and clean through the API with real workers: drain removes waiting (and on request delayed)
jobs but never an active one, and no removed job ever runs; clean removes finished jobs older than the
grace period and answers their ids. Failures name the job that ran, survived or vanished wrongly.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from queue_control.qc_helpers import job_keys, starts, steps
from support.waiting import wait_all, wait_state, wait_step

pytestmark = pytest.mark.timeout(60)
KEEP = {"JOBS_KEEP_COMPLETED": "100000", "JOBS_KEEP_FAILED": "100000"}


async def occupy(api: Any, redis: Any, key: str, slots: int) -> list[dict[str, Any]]:
    """Starts ``slots`` 800 ms jobs and returns once all of them run (the worker's slots are full)."""
    running = [
        await api.schedule(
            {"type": "sleep", "payload": {"key": key, "ms": 800}, "options": {"queue": "default"}}
        )
        for _ in range(slots)
    ]
    for _ in running:
        await wait_step(redis, key, "start")
    return running


async def test_drain_while_workers_run(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    key = f"{prefix}:trace"
    spawn("jobs-worker", JOBS_CONCURRENCY="2", **KEEP)
    running = await occupy(api, redis, key, 2)
    # Both slots are busy for 800 ms: these wait.
    waiting = [await api.schedule({"type": "echo", "payload": {"key": key}}) for _ in range(10)]
    delayed = [await api.schedule({"type": "echo", "payload": {"key": key}, "options": {"delay": 60_000}})]
    child = await api.schedule(
        {
            "type": "echo",
            "payload": {"key": key},
            "options": {"queue": "low-priority", "dependsOn": [waiting[0]["jobId"]]},
        }
    )
    assert {w["status"] for w in waiting} == {"waiting"} and child["status"] == "blocked"

    status, body, _ = await api.call("POST", "/queues/default/drain")
    assert status == 200 and body == {"success": True, "queue": "default", "removed": 10}
    for made in waiting:
        assert (await api.call("GET", f"/jobs/{made['jobId']}"))[0] == 404
    stats = (await api.call("GET", "/queues/default"))[1]["counts"]
    assert stats["waiting"] == 0 and stats["active"] == 2 and stats["delayed"] == 1
    failed = await api.job(child["jobId"])
    assert failed["status"] == "failed" and failed["error"] == f"dependency {waiting[0]['jobId']} removed"

    status, body, _ = await api.call("POST", "/queues/default/drain", json={"delayed": True})
    assert status == 200 and body["removed"] == 1
    assert (await api.call("GET", f"/jobs/{delayed[0]['jobId']}"))[0] == 404
    for made in running:  # never removed nor broken: they finish with their result
        record = await wait_state(redis, prefix, made["jobId"], {"completed"})
        assert record["result"] == '{"slept": 0.8}'
    marker = await api.schedule({"type": "echo", "payload": {"key": key}})
    await wait_state(redis, prefix, marker["jobId"], {"completed"})
    ran = set(starts(await steps(redis, key)))
    assert ran == {running[0]["jobId"], running[1]["jobId"], marker["jobId"]}


async def test_drain_empty_queue_and_unknown_queue(api: Any) -> None:
    assert (await api.call("POST", "/queues/scheduled/drain"))[1]["removed"] == 0
    for body in (None, {"delayed": True}):
        status, reply, _ = await api.call("POST", "/queues/nope/drain", json=body)
        assert status == 404 and reply["error"]["code"] == "not_found"
    status, reply, _ = await api.call("POST", "/queues/default/drain", json={"delayed": "sometimes"})
    assert status == 400 and "delayed" in reply["error"]["message"]
    status, reply, _ = await api.call("POST", "/queues/default/drain", json={"everything": True})
    assert status == 400 and "everything" in reply["error"]["message"]


async def _finish(api: Any, redis: Any, prefix: str, job: dict[str, Any], state: str) -> str:
    made = await api.schedule(job)
    await wait_state(redis, prefix, made["jobId"], {state})
    return str(made["jobId"])


async def _grace(redis: Any, cutoff_ms: int) -> int:
    """The grace that makes a clean starting now remove what finished before ``cutoff_ms``."""
    seconds, micros = await redis.time()
    return int(seconds * 1000 + micros // 1000 - cutoff_ms)


async def test_clean_by_grace_status_and_limit(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker", **KEEP)
    old = [await _finish(api, redis, prefix, {"type": "echo"}, "completed") for _ in range(3)]
    # Time passing is the point: half a second separates the three old jobs from the new one, and the
    # grace of each clean below puts its cut-off in the middle of that gap, however slow the test runs.
    await asyncio.sleep(0.5)
    new = await _finish(api, redis, prefix, {"type": "echo"}, "completed")
    last_old, first_new = [int(await redis.hget(f"{prefix}:job:{j}", "finishedAt")) for j in (old[-1], new)]
    cutoff = (last_old + first_new) // 2
    fail = {"type": "fail", "options": {"retry": {"attempts": 1}}}
    failed = [await _finish(api, redis, prefix, fail, "failed") for _ in range(2)]
    cancelled = (await api.schedule({"type": "echo", "options": {"delay": 60_000}}))["jobId"]
    await api.call("DELETE", f"/jobs/{cancelled}")

    def clean(**body: Any) -> Any:
        return api.call("POST", "/queues/default/clean", json=body)

    status, body, _ = await clean(grace=60_000)
    assert status == 200 and body == {
        "success": True,
        "queue": "default",
        "status": "completed",
        "removed": [],
        "count": 0,
    }
    body = (await clean(grace=await _grace(redis, cutoff), limit=2))[1]
    assert body["removed"] == old[:2] and body["count"] == 2  # oldest first, at most `limit`
    assert (await clean(grace=await _grace(redis, cutoff)))[1]["removed"] == old[2:]
    for job_id in old:
        assert (await api.call("GET", f"/jobs/{job_id}"))[0] == 404
        assert not await redis.exists(f"{prefix}:job:{job_id}:logs", f"{prefix}:job:{job_id}:errors")
    assert (await api.job(new))["status"] == "completed"
    assert sorted((await clean(status="failed"))[1]["removed"]) == sorted(failed)
    assert (await clean(status="cancelled"))[1]["removed"] == [cancelled]
    assert sorted(k.split(":")[2] for k in await job_keys(redis, prefix)) == [new]
    # Without a body: SPEC's defaults (completed, no grace, 1000).
    assert (await api.call("POST", "/queues/default/clean"))[1]["removed"] == [new]


BAD_CLEAN = [
    ({"grace": -1}, "grace"),
    ({"grace": "yesterday"}, "grace"),
    ({"grace": 10**15}, "grace"),
    ({"status": "active"}, "status"),
    ({"status": "waiting"}, "status"),
    ({"status": 3}, "status"),
    ({"limit": 0}, "limit"),
    ({"limit": "all"}, "limit"),
    ({"limit": 10**7}, "limit"),
    ({"older": 5}, "older"),
    ([1, 2], "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CLEAN)
async def test_bad_clean_names_the_field(api: Any, body: Any, field: str) -> None:
    status, reply, _ = await api.call("POST", "/queues/default/clean", json=body)
    assert status == 400 and reply["error"]["code"] == "invalid_input", reply
    assert reply["error"]["message"].startswith(field), reply


async def test_clean_unknown_queue_and_bad_json(api: Any) -> None:
    assert (await api.call("POST", "/queues/nope/clean", json={"grace": 0}))[0] == 404
    status, reply, _ = await api.call("POST", "/queues/default/clean", data=b"{grace")
    assert status == 400 and "not valid JSON" in reply["error"]["message"]


async def test_nothing_drained_runs_even_with_many_workers(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    """Drain races live claims of two workers: each job either ran (and completed) or was removed."""
    key = f"{prefix}:trace"
    for _ in range(2):
        spawn("jobs-worker", JOBS_CONCURRENCY="4", **KEEP)
    jobs = [{"type": "sleep", "payload": {"key": key, "ms": 20}} for _ in range(200)]
    status, body, _ = await api.call("POST", "/schedule/bulk", json={"jobs": jobs})
    assert status == 201
    ids = [item["jobId"] for item in body["jobs"]]
    await wait_step(redis, key, "start")
    removed = (await api.call("POST", "/queues/default/drain"))[1]["removed"]
    assert 0 < removed < 200
    kept = [job_id for job_id in ids if await redis.exists(f"{prefix}:job:{job_id}")]
    assert len(kept) == 200 - removed
    await wait_all(redis, prefix, kept, {"completed"})
    marker = await api.schedule({"type": "echo", "payload": {"key": key}})
    await wait_state(redis, prefix, marker["jobId"], {"completed"})
    assert set(starts(await steps(redis, key))) == {*kept, marker["jobId"]}
