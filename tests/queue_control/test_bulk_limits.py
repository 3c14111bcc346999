"""Bulk add and limits: ``POST /schedule/bulk`` validates every job first and stores all of them in one
script call or none; ``JOBS_MAX_JOBS_PER_QUEUE`` refuses jobs beyond the waiting + delayed cap with 429
and ``Retry-After`` (a bulk request whole); ``JOBS_MAX_JOBS_PER_WORKER`` bounds the jobs one worker
process holds at once. Failures name the job stored against the rules, or the overlap seen.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from queue_control.qc_helpers import bulk, job_keys, steps
from support.api import ApiClient
from support.waiting import wait_all

pytestmark = pytest.mark.timeout(60)


async def test_bulk_stores_all_and_answers_each_like_schedule(api: Any, redis: Any, prefix: str) -> None:
    jobs = [
        {"type": "send-notification", "payload": {"userId": "u1"}, "options": {"jobId": "n1"}},
        {"type": "x", "options": {"priority": "low", "delay": 60_000}},
        {
            "type": "x",
            "runAt": "2020-01-01T00:00:00Z",
            "options": {"dependsOn": ["n1"], "queue": "scheduled"},
        },
    ]
    status, body, _ = await bulk(api, jobs)
    assert status == 201 and len(body["jobs"]) == 3
    n1, later, chained = body["jobs"]
    assert n1["jobId"] == "n1" and n1["queueName"] == "high-priority" and n1["status"] == "waiting"
    assert later["queueName"] == "low-priority" and later["status"] == "delayed"
    assert later["runAt"] > later["createdAt"] and later["jobId"].startswith("job-")
    assert chained["queueName"] == "scheduled" and chained["status"] == "blocked"
    single = await api.schedule({"type": "x"})
    assert set(n1) == set(single)  # each entry has the fields POST /schedule answers
    assert all(item["existing"] is False for item in body["jobs"])
    again = await bulk(api, jobs[:1])
    assert again[0] == 200 and again[1]["jobs"][0]["existing"] is True
    assert len(await job_keys(redis, prefix)) == 4


BAD_BULK = [
    (
        {"jobs": [{"type": "ok"}, {"type": "ok", "options": {"priority": "urgent"}}]},
        400,
        "jobs.1.options.priority",
    ),
    ({"jobs": [{"type": "ok"}, {"payload": {}}]}, 400, "jobs.1.type"),
    ({"jobs": [{"type": "ok"}, "not a job"]}, 400, "jobs.1"),
    (
        {"jobs": [{"type": "ok"}, {"type": "ok", "options": {"dependsOn": ["ghost"]}}]},
        400,
        "options.dependsOn",
    ),
    (
        {"jobs": [{"type": "a", "options": {"jobId": "d"}}, {"type": "b", "options": {"jobId": "d"}}]},
        400,
        "jobs.1",
    ),
    ({"jobs": []}, 400, "jobs"),
    ({"jobs": {"type": "ok"}}, 400, "jobs"),
    ({"job": [{"type": "ok"}]}, 400, "job"),
    ({"jobs": [{"type": "ok"}] * 1001}, 413, "1000"),
]


@pytest.mark.parametrize(("body", "status", "named"), BAD_BULK)
async def test_bad_bulk_stores_nothing(
    api: Any, redis: Any, prefix: str, body: Any, *, status: int, named: str
) -> None:
    got, reply, _ = await api.call("POST", "/schedule/bulk", json=body)
    assert got == status and named in reply["error"]["message"], reply
    assert not await job_keys(redis, prefix)
    assert not await redis.xlen(f"{prefix}:q:default:events")


async def test_bulk_maximum_is_a_setting(spawn: Any, redis: Any, prefix: str) -> None:
    small = spawn("jobs-api", JOBS_MAX_BULK_JOBS="5")
    client = ApiClient(int(small.wait_for("service_ready")["port"]))
    try:
        assert (await bulk(client, [{"type": "ok"}] * 5))[0] == 201
        status, reply, _ = await bulk(client, [{"type": "ok"}] * 6)
        assert status == 413 and "at most 5 jobs" in reply["error"]["message"]
    finally:
        await client.close()
    assert len(await job_keys(redis, prefix)) == 5


async def test_queue_full_answers_429_and_stores_nothing(spawn: Any, redis: Any, prefix: str) -> None:
    capped = spawn("jobs-api", JOBS_MAX_JOBS_PER_QUEUE="5")
    api = ApiClient(int(capped.wait_for("service_ready")["port"]))
    try:
        for i in range(4):
            await api.schedule({"type": "x", "options": {"jobId": f"w{i}", "delay": 60_000 * (i % 2)}})
        status, reply, headers = await bulk(api, [{"type": "x"}, {"type": "x"}])  # 4 + 2 > 5: whole refused
        assert status == 429 and reply["error"]["code"] == "queue_full" and headers["Retry-After"] == "5"
        assert "'default'" in reply["error"]["message"]
        assert len(await job_keys(redis, prefix)) == 4
        await api.schedule({"type": "x", "options": {"jobId": "w4"}})
        status, reply, headers = await api.call("POST", "/schedule", json={"type": "x"})
        assert status == 429 and int(headers["Retry-After"]) > 0
        # Other queues, blocked jobs and idempotent re-adds are not held against the cap.
        assert (await api.call("POST", "/schedule", json={"type": "x", "options": {"priority": "low"}}))[
            0
        ] == 201
        blocked = {"type": "x", "options": {"dependsOn": ["w0"]}}
        assert (await api.call("POST", "/schedule", json=blocked))[1]["status"] == "blocked"
        assert (await api.call("POST", "/schedule", json={"type": "x", "options": {"jobId": "w1"}}))[0] == 200
        assert len(await job_keys(redis, prefix)) == 7
        # Room again once jobs leave the queue.
        assert (await api.call("DELETE", "/jobs/w0"))[0] == 200
        assert (await api.call("POST", "/schedule", json={"type": "x"}))[0] == 201
    finally:
        await api.close()


async def test_max_jobs_per_worker_caps_jobs_held_at_once(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    worker = spawn("jobs-worker", JOBS_CONCURRENCY="10", JOBS_MAX_JOBS_PER_WORKER="3")
    assert worker.wait_for("service_ready")["concurrency"] == 3
    key = f"{prefix}:trace"
    _, body, _ = await bulk(api, [{"type": "sleep", "payload": {"key": key, "ms": 150}}] * 9)
    await wait_all(redis, prefix, [item["jobId"] for item in body["jobs"]], {"completed"})
    timeline = sorted((s.at_ms, 1 if s.what == "start" else -1) for s in await steps(redis, key))
    running, peak = 0, 0
    for _, change in timeline:
        running += change
        peak = max(peak, running)
    assert peak == 3, timeline


async def test_cap_holds_with_two_api_processes_racing(spawn: Any, redis: Any, prefix: str) -> None:
    """The cap is checked inside the enqueue script, so concurrent adds through several api processes
    can never take a queue past it."""
    clients = []
    for _ in range(2):
        proc = spawn("jobs-api", JOBS_MAX_JOBS_PER_QUEUE="50")
        clients.append(ApiClient(int(proc.wait_for("service_ready")["port"])))
    try:
        calls = [clients[i % 2].call("POST", "/schedule", json={"type": "x"}) for i in range(200)]
        statuses = [status for status, _, _ in await asyncio.gather(*calls)]
        paused = await clients[1].call("POST", "/queues/default/pause")
        seen = await clients[0].call("GET", "/queues/default")
    finally:
        for client in clients:
            await client.close()
    assert statuses.count(201) == 50 and statuses.count(429) == 150
    assert len(await job_keys(redis, prefix)) == 50
    assert paused[0] == 200 and seen[1]["isPaused"] and seen[1]["counts"]["paused"] == 50
