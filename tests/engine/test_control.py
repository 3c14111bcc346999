"""Cancel and retry through the API, strict priority with FIFO inside a priority, pause-free ordering."""

from __future__ import annotations

from typing import Any

from support.waiting import wait_state, wait_step


async def test_cancel_waiting_and_delayed_never_run(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    key = f"{prefix}:trace"
    waiting = await api.schedule({"type": "echo", "payload": {"key": key}})
    delayed = await api.schedule({"type": "echo", "payload": {"key": key}, "options": {"delay": 200}})
    for made in (waiting, delayed):
        status, body, _ = await api.call("DELETE", f"/jobs/{made['jobId']}")
        assert status == 200 and body == {
            "success": True,
            "jobId": made["jobId"],
            "message": "Job cancelled",
            "previousStatus": made["status"],
        }
    spawn("jobs-worker")
    marker = await api.schedule({"type": "echo", "payload": {"key": key}, "options": {"delay": 400}})
    await wait_state(redis, prefix, marker["jobId"], {"completed"})
    assert [e.split("|")[0] for e in await redis.lrange(key, 0, -1)] == [marker["jobId"]]
    assert (await api.job(waiting["jobId"]))["status"] == "cancelled"


async def test_cancel_active_interrupts_processor(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    key = f"{prefix}:trace"
    made = await api.schedule({"type": "sleep", "payload": {"ms": 10_000, "key": key}})
    await wait_step(redis, key, "start")
    status, body, _ = await api.call("DELETE", f"/jobs/{made['jobId']}")
    assert status == 200 and body["previousStatus"] == "active"
    follow = await api.schedule({"type": "echo", "options": {"priority": "low"}})
    await wait_state(redis, prefix, follow["jobId"], {"completed"}, timeout=5)
    assert [e.split("|")[1] for e in await redis.lrange(key, 0, -1)] == ["start"]  # never reached "end"
    assert (await api.job(made["jobId"]))["status"] == "cancelled"


async def test_finished_jobs_cannot_be_cancelled_and_completed_not_retried(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker")
    key = f"{prefix}:trace"
    made = await api.schedule({"type": "echo", "payload": {"key": key}})
    await wait_state(redis, prefix, made["jobId"], {"completed"})
    status, body, _ = await api.call("DELETE", f"/jobs/{made['jobId']}")
    assert status == 409 and body["error"]["code"] == "wrong_state"
    for _ in range(2):
        status, body, _ = await api.call("POST", f"/jobs/{made['jobId']}/retry")
        assert status == 409 and "completed" in body["error"]["message"]
    assert await redis.llen(key) == 1
    assert (await api.call("DELETE", "/jobs/no-such-job"))[0] == 404
    assert (await api.call("POST", "/jobs/no-such-job/retry"))[0] == 404


async def test_retry_failed_and_cancelled_jobs(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    spawn("jobs-worker")
    key = f"{prefix}:trace"
    failed = await api.schedule(
        {"type": "fail-once", "payload": {"key": key}, "options": {"retry": {"attempts": 1}}}
    )
    await wait_state(redis, prefix, failed["jobId"], {"failed"})
    status, body, _ = await api.call("POST", f"/jobs/{failed['jobId']}/retry")
    assert status == 200 and body["status"] == "waiting"
    record = await wait_state(redis, prefix, failed["jobId"], {"completed"})
    assert record["attempt"] == "1"
    cancelled = await api.schedule({"type": "echo", "options": {"delay": 60_000}})
    await api.call("DELETE", f"/jobs/{cancelled['jobId']}")
    assert (await api.call("POST", f"/jobs/{cancelled['jobId']}/retry"))[0] == 200
    await wait_state(redis, prefix, cancelled["jobId"], {"completed"})


async def test_strict_priority_fifo_within_priority(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    key = f"{prefix}:trace"
    order = ["low", "normal", "critical", "high", "low", "critical", "normal", "high"]
    made = []
    for i, priority in enumerate(order):
        job = {
            "type": "echo",
            "payload": {"key": key},
            "options": {"priority": priority, "queue": "default", "jobId": f"{priority}-{i}"},
        }
        made.append((await api.schedule(job))["jobId"])
    delayed = [
        (
            await api.schedule(
                {
                    "type": "echo",
                    "payload": {"key": key},
                    "options": {"priority": p, "queue": "default", "delay": 1, "jobId": f"d-{p}"},
                }
            )
        )["jobId"]
        for p in ("low", "critical")
    ]
    spawn("jobs-worker", JOBS_CONCURRENCY="1")
    for job_id in made + delayed:
        await wait_state(redis, prefix, job_id, {"completed"})
    ran = [e.split("|")[0] for e in await redis.lrange(key, 0, -1)]
    # Delayed jobs enter their band when due, behind jobs of the same priority already waiting.
    expected = "critical-2 critical-5 d-critical high-3 high-7 normal-1 normal-6 low-0 low-4 d-low"
    assert ran == expected.split(), ran


async def test_retry_keeps_priority_band(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    """A retried critical job, once its back-off ends, runs before waiting normal jobs."""
    key = f"{prefix}:trace"
    crit = await api.schedule(
        {
            "type": "fail",
            "payload": {"key": key, "times": 1},
            "options": {"priority": "critical", "queue": "default", "retry": {"attempts": 2, "delay": 0}},
        }
    )
    normals = [
        (await api.schedule({"type": "echo", "payload": {"key": key}, "options": {"queue": "default"}}))[
            "jobId"
        ]
        for _ in range(3)
    ]
    spawn("jobs-worker", JOBS_CONCURRENCY="1")
    for job_id in [crit["jobId"], *normals]:
        await wait_state(redis, prefix, job_id, {"completed"})
    ran = [e.split("|")[0] for e in await redis.lrange(key, 0, -1)]
    assert ran[:2] == [crit["jobId"], crit["jobId"]], ran
