"""The life of a job through real api and worker processes: results, progress, logs, retries with
back-off, timeouts, unrecoverable errors, missing processors, idempotent ids, delays, cancel, retry."""

from __future__ import annotations

import itertools
import time
from typing import Any

from support.waiting import wait_state


async def test_job_completes_with_result_and_spec_fields(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker")
    made = await api.schedule(
        {"type": "echo", "payload": {"value": {"n": 7}}, "options": {"priority": "high"}}
    )
    assert made["queueName"] == "high-priority" and made["status"] == "waiting"
    await wait_state(redis, prefix, made["jobId"], {"completed"})
    job = await api.job(made["jobId"])
    assert job["status"] == "completed" and job["result"] == {"n": 7}
    assert job["progress"] == 100 and job["attempts"] == 1 and job["maxAttempts"] == 3
    assert job["queue"] == "high-priority" and job["priority"] == "high"
    for field in ("createdAt", "startedAt", "completedAt", "runAt"):
        assert job[field].endswith("Z"), field
    assert job["payload"] == {"value": {"n": 7}}


async def test_routing_by_type_priority_and_explicit_queue(api: Any) -> None:
    cases = [
        ({"type": "send-notification"}, "high-priority"),
        ({"type": "scheduled-message"}, "scheduled"),
        ({"type": "cleanup-expired"}, "low-priority"),
        ({"type": "x", "options": {"priority": "critical"}}, "high-priority"),
        ({"type": "x", "options": {"priority": "low"}}, "low-priority"),
        ({"type": "x"}, "default"),
        ({"type": "send-notification", "options": {"queue": "default"}}, "default"),
    ]
    for body, queue in cases:
        assert (await api.schedule(body))["queueName"] == queue, body


async def test_progress_and_logs_are_visible(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    made = await api.schedule({"type": "sleep", "payload": {"ms": 600, "steps": 3}})
    job_id = made["jobId"]
    seen = set()
    streams = {f"{prefix}:q:default:events": "0"}
    deadline = time.monotonic() + 10
    while "completed" not in seen and time.monotonic() < deadline:
        for _, entries in await redis.xread(streams, block=1000) or []:
            for entry_id, fields in entries:
                streams[f"{prefix}:q:default:events"] = entry_id
                if fields["job"] == job_id:
                    seen.add(fields.get("progress") or fields["to"])
    assert {"33", "67", "100", "completed"} <= seen
    logged = await api.schedule({"type": "logger", "payload": {"lines": 3}})
    await wait_state(redis, prefix, logged["jobId"], {"completed"})
    status, body, _ = await api.call("GET", f"/jobs/{logged['jobId']}/logs")
    assert status == 200 and [line["message"] for line in body["logs"]] == ["line 0", "line 1", "line 2"]


async def test_retries_exactly_attempts_with_exponential_backoff(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker")
    key = f"{prefix}:trace"
    made = await api.schedule(
        {"type": "fail", "payload": {"key": key}, "options": {"retry": {"attempts": 4, "delay": 100}}}
    )
    record = await wait_state(redis, prefix, made["jobId"], {"failed"})
    starts = [float(x.split("|")[2]) for x in await redis.lrange(key, 0, -1)]
    assert len(starts) == 4 and record["attempt"] == "4"
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    for gap, wait in zip(gaps, (100, 200, 400), strict=True):
        assert wait <= gap < wait + 300, gaps  # never early; the slack absorbs a loaded CI machine
    job = await api.job(made["jobId"])
    assert job["error"] == "ValueError: boom" and "Traceback" in job["stack"]
    assert [e["attempt"] for e in job["errors"]] == [4, 3, 2, 1]


async def test_fixed_backoff_then_success(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    key = f"{prefix}:trace"
    made = await api.schedule(
        {
            "type": "fail",
            "payload": {"key": key, "times": 2},
            "options": {"retry": {"attempts": 5, "delay": 150, "backoff": "fixed"}},
        }
    )
    record = await wait_state(redis, prefix, made["jobId"], {"completed"})
    starts = [float(x.split("|")[2]) for x in await redis.lrange(key, 0, -1)]
    assert record["attempt"] == "3" and len(starts) == 3
    assert all(150 <= b - a < 450 for a, b in itertools.pairwise(starts))


async def test_timeout_counts_as_failed_try(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    made = await api.schedule(
        {
            "type": "sleep",
            "payload": {"ms": 5000},
            "options": {"timeout": 100, "retry": {"attempts": 2, "delay": 10}},
        }
    )
    record = await wait_state(redis, prefix, made["jobId"], {"failed"})
    assert record["error"] == "timed out after 100 ms" and record["attempt"] == "2"


async def test_unrecoverable_and_missing_processor_fail_at_once(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker")
    a = await api.schedule({"type": "unrecoverable", "options": {"retry": {"attempts": 5}}})
    b = await api.schedule({"type": "nobody-handles-this", "options": {"retry": {"attempts": 5}}})
    ra = await wait_state(redis, prefix, a["jobId"], {"failed"})
    rb = await wait_state(redis, prefix, b["jobId"], {"failed"})
    assert ra["attempt"] == "1" and ra["error"].startswith("UnrecoverableError")
    assert rb["attempt"] == "1" and "'nobody-handles-this'" in rb["error"]


async def test_sync_processor_runs_in_thread(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    made = await api.schedule({"type": "sync-add", "payload": {"a": 2, "b": 3}})
    await wait_state(redis, prefix, made["jobId"], {"completed"})
    assert (await api.job(made["jobId"]))["result"] == 5


async def test_job_id_makes_add_idempotent(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    body = {"type": "echo", "payload": {"key": f"{prefix}:trace"}, "options": {"jobId": "order-42"}}
    first = await api.call("POST", "/schedule", json=body)
    second = await api.call("POST", "/schedule", json=body)
    assert first[0] == 201 and second[0] == 200 and second[1]["existing"] is True
    spawn("jobs-worker")
    await wait_state(redis, prefix, "order-42", {"completed"})
    third = await api.call("POST", "/schedule", json=body)
    assert third[0] == 200 and third[1]["status"] == "completed"
    assert await redis.llen(f"{prefix}:trace") == 1


async def test_delayed_job_never_starts_early(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    key = f"{prefix}:trace"
    made = [
        await api.schedule({"type": "echo", "payload": {"key": key}, "options": {"delay": d}})
        for d in (300, 600)
    ]
    assert {m["status"] for m in made} == {"delayed"}
    for m in made:
        await wait_state(redis, prefix, m["jobId"], {"completed"})
    for m, entry in zip(made, await redis.lrange(key, 0, -1), strict=True):
        job = await api.job(m["jobId"])
        run_at = _ms(job["runAt"])
        started = float(entry.split("|")[2])
        assert run_at <= started < run_at + 250, (run_at, started)  # never early (lateness: make bench)


async def test_run_at_in_the_past_runs_now(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    made = await api.schedule({"type": "echo", "runAt": "2020-01-01T00:00:00Z"})
    assert made["status"] == "waiting"
    await wait_state(redis, prefix, made["jobId"], {"completed"})


def _ms(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000
