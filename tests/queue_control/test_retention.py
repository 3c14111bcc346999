"""Automatic cleanup inside the finishing scripts: the newest N completed / failed / cancelled jobs per
queue are kept exactly, older ones go by age, and per-job removeOnComplete / removeOnFail (true = at
once, N = keep the newest N) override the queue default. A deleted job leaves no key behind. Failures
name the ids kept against the ids expected.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from queue_control.qc_helpers import bulk, events, job_keys, wait_counter
from support.waiting import wait_state

pytestmark = pytest.mark.timeout(60)


async def kept(redis: Any, prefix: str, queue: str, state: str) -> list[str]:
    return list(await redis.zrange(f"{prefix}:q:{queue}:{state}", 0, -1))


async def test_keeps_newest_n_completed_exactly(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="1", JOBS_KEEP_COMPLETED="5")
    jobs = [{"type": "echo", "options": {"queue": "default", "jobId": f"r-{i:02d}"}} for i in range(20)]
    assert (await bulk(api, jobs))[0] == 201
    await wait_counter(redis, prefix, "default", "completed", 20)
    finished = [e["job"] for e in await events(redis, prefix, "default") if e["to"] == "completed"]
    assert len(finished) == 20
    assert sorted(await kept(redis, prefix, "default", "completed")) == sorted(finished[-5:])
    assert (await api.call("GET", "/queues/default"))[1]["counts"]["completed"] == 5
    for job_id in finished[:-5]:
        assert (await api.call("GET", f"/jobs/{job_id}"))[0] == 404
    assert len(await job_keys(redis, prefix)) == 5
    assert await redis.zcard(f"{prefix}:q:default:type:echo") == 5


async def test_keep_count_holds_under_batched_completions(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    for _ in range(2):
        spawn("jobs-worker", JOBS_CONCURRENCY="20", JOBS_KEEP_COMPLETED="7")
    for _ in range(3):
        assert (await bulk(api, [{"type": "noop", "options": {"queue": "default"}}] * 300))[0] == 201
    await wait_counter(redis, prefix, "default", "completed", 900)
    assert len(await kept(redis, prefix, "default", "completed")) == 7
    assert len(await job_keys(redis, prefix)) == 7


async def test_keeps_newest_n_failed_and_cancelled(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="1", JOBS_KEEP_FAILED="2")
    for i in range(4):
        made = await api.schedule({"type": "fail", "options": {"jobId": f"f-{i}", "retry": {"attempts": 1}}})
        await wait_state(redis, prefix, made["jobId"], {"failed"})
    assert sorted(await kept(redis, prefix, "default", "failed")) == ["f-2", "f-3"]
    # Cancelled jobs follow JOBS_KEEP_FAILED of the process that cancels (the API here, default 5000),
    # so a second API with a small limit does the cancelling.
    from support.api import ApiClient

    small = spawn("jobs-api", JOBS_KEEP_FAILED="2")
    other = ApiClient(int(small.wait_for("service_ready")["port"]))
    try:
        for i in range(4):
            await other.schedule({"type": "echo", "options": {"jobId": f"c-{i}", "delay": 60_000}})
            assert (await other.call("DELETE", f"/jobs/c-{i}"))[0] == 200
    finally:
        await other.close()
    assert sorted(await kept(redis, prefix, "default", "cancelled")) == ["c-2", "c-3"]
    assert (await api.call("GET", "/jobs/c-0"))[0] == 404


async def test_remove_on_complete_and_on_fail(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="1", JOBS_KEEP_COMPLETED="1000", JOBS_KEEP_FAILED="1000")
    # One bulk request: a parent deleted at completion could not be named by a later request.
    pair = [
        {"type": "echo", "options": {"jobId": "parent", "removeOnComplete": True}},
        {"type": "echo", "options": {"jobId": "child", "dependsOn": ["parent"]}},
    ]
    parent, child = (await bulk(api, pair))[1]["jobs"]
    await wait_state(redis, prefix, child["jobId"], {"completed"})  # released before the parent went
    assert (await api.call("GET", f"/jobs/{parent['jobId']}"))[0] == 404
    assert not [k for k in await job_keys(redis, prefix) if parent["jobId"] in k]
    stream = [e["to"] for e in await events(redis, prefix, "default") if e["job"] == parent["jobId"]]
    assert stream[-1] == "completed"  # followers still see how it ended

    ones = [await api.schedule({"type": "echo", "options": {"jobId": f"k-{i}"}}) for i in range(3)]
    for made in ones:
        await wait_state(redis, prefix, made["jobId"], {"completed"})
    last = await api.schedule({"type": "echo", "options": {"jobId": "k-3", "removeOnComplete": 2}})
    await wait_state(redis, prefix, last["jobId"], {"completed"})
    assert sorted(await kept(redis, prefix, "default", "completed")) == ["k-2", "k-3"]

    fail = {"type": "fail", "options": {"retry": {"attempts": 2, "delay": 0}, "removeOnFail": True}}
    gone = await api.schedule(fail)
    keep_one = {"type": "fail", "options": {"retry": {"attempts": 1}, "removeOnFail": 1}}
    first = await api.schedule(keep_one)
    await wait_state(redis, prefix, first["jobId"], {"failed"})
    second = await api.schedule(keep_one)
    await wait_state(redis, prefix, second["jobId"], {"failed"})
    assert (await api.call("GET", f"/jobs/{gone['jobId']}"))[0] == 404  # deleted after its last try
    tries = [e for e in await events(redis, prefix, "default") if e["job"] == gone["jobId"]]
    assert [e["to"] for e in tries][-1] == "failed" and tries[-1]["attempt"] == "2"
    assert await kept(redis, prefix, "default", "failed") == [second["jobId"]]


async def test_retention_by_age(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker", JOBS_KEEP_COMPLETED_AGE="1", JOBS_KEEP_FAILED_AGE="1")
    old = await api.schedule({"type": "echo"})
    old_failed = await api.schedule({"type": "fail", "options": {"retry": {"attempts": 1}}})
    await wait_state(redis, prefix, old["jobId"], {"completed"})
    await wait_state(redis, prefix, old_failed["jobId"], {"failed"})
    # Time passing is the point: the first two become older than the 1 s limit.
    await asyncio.sleep(1.2)
    new = await api.schedule({"type": "echo"})
    new_failed = await api.schedule({"type": "fail", "options": {"retry": {"attempts": 1}}})
    await wait_state(redis, prefix, new["jobId"], {"completed"})
    await wait_state(redis, prefix, new_failed["jobId"], {"failed"})
    assert await kept(redis, prefix, "default", "completed") == [new["jobId"]]
    assert await kept(redis, prefix, "default", "failed") == [new_failed["jobId"]]
    assert (await api.call("GET", f"/jobs/{old['jobId']}"))[0] == 404
    assert (await api.call("GET", f"/jobs/{old_failed['jobId']}"))[0] == 404


async def test_dependents_failed_in_another_queue_are_kept_by_count(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    """A queue whose jobs only ever fail because a dependency failed elsewhere is bounded too."""
    spawn("jobs-worker", JOBS_KEEP_FAILED="1")
    parent = await api.schedule(
        {"type": "fail", "options": {"queue": "default", "retry": {"attempts": 1}, "delay": 300}}
    )
    children = [
        await api.schedule(
            {"type": "echo", "options": {"queue": "scheduled", "dependsOn": [parent["jobId"]]}}
        )
        for _ in range(3)
    ]
    await wait_state(redis, prefix, parent["jobId"], {"failed"})
    assert len(await kept(redis, prefix, "scheduled", "failed")) == 1
    survivors = [c["jobId"] for c in children if await redis.exists(f"{prefix}:job:{c['jobId']}")]
    assert len(survivors) == 1
    assert (await api.job(survivors[0]))["error"] == f"dependency {parent['jobId']} failed"
