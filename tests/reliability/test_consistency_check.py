"""``jobs-admin check``: a live system with jobs in every state is consistent; each kind of damage a
crash or an eviction of Redis can leave is found (exit 1), ``--repair`` fixes all but what it must only
report (an unknown key, a corrupt record), and the repaired jobs run again through a real worker.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from reliability.admin_cli import admin_check, kinds
from support.waiting import wait_state, wait_step

pytestmark = pytest.mark.timeout(90)


async def jobs_in_every_state(api: Any, redis: Any, prefix: str) -> dict[str, str]:
    trace = f"{prefix}-trace"  # outside the prefix: the checker would report the test's own list
    ids = {
        "completed": (await api.schedule({"type": "echo"}))["jobId"],
        "failed": (await api.schedule({"type": "fail", "options": {"retry": {"attempts": 1}}}))["jobId"],
        "active": (await api.schedule({"type": "sleep", "payload": {"ms": 60_000, "key": trace}}))["jobId"],
        "delayed": (await api.schedule({"type": "echo", "options": {"delay": 3_600_000}}))["jobId"],
    }
    ids["blocked"] = (await api.schedule({"type": "echo", "options": {"dependsOn": [ids["delayed"]]}}))[
        "jobId"
    ]
    victim = (await api.schedule({"type": "echo", "options": {"delay": 3_600_000}}))["jobId"]
    assert (await api.call("DELETE", f"/jobs/{victim}"))[0] == 200
    ids["cancelled"] = victim
    assert (await api.call("POST", "/queues/low-priority/pause"))[0] == 200
    ids["waiting"] = (await api.schedule({"type": "echo", "options": {"queue": "low-priority"}}))["jobId"]
    await wait_state(redis, prefix, ids["completed"], {"completed"})
    await wait_state(redis, prefix, ids["failed"], {"failed"})
    await wait_step(redis, trace, "start")
    return ids


async def damage(redis: Any, p: str, ids: dict[str, str]) -> set[str]:
    """What eviction or a lost write can do; returns the kinds the checker must report."""
    q = f"{p}:q:default"
    await redis.zadd(f"{q}:waiting", {"ghost": 1})
    await redis.zrem(f"{p}:q:low-priority:waiting", ids["waiting"])
    await redis.zrem(f"{p}:q:low-priority:ready", ids["waiting"])
    await redis.zadd(f"{q}:failed", {ids["completed"]: 1})
    await redis.zadd(f"{p}:q:high-priority:completed", {ids["completed"]: 1})
    await redis.zrem(f"{q}:type:fail", ids["failed"])
    await redis.set(f"arq:in-progress:{p}:ghost", "w:1")
    await redis.set(f"arq:in-progress:{p}:{ids['completed']}", "w:1")
    await redis.rpush(f"{p}:job:ghost:logs", "line")
    await redis.sadd(f"{p}:job:{ids['blocked']}:deps", ids["completed"])
    await redis.srem(f"{p}:job:{ids['delayed']}:dependents", ids["blocked"])
    await redis.hset(f"{p}:sched:state:gone", "paused", "0")
    await redis.set(f"{p}:stray", "1")
    await redis.hset(f"{p}:job:broken", "foo", "bar")
    return {
        "index_orphan", "state_missing", "ready_missing", "state_extra", "index_wrong_queue", "type_missing",
        "lease_orphan", "lease_mismatch", "aux_orphan", "blocked_on_completed", "dependent_link_missing",
        "schedule_orphan", "unknown_key", "record_corrupt",
    }  # fmt: skip


async def test_check_finds_every_damage_and_repairs_it(
    api: Any, spawn: Any, redis: Any, prefix: str, base_env: dict[str, str]
) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="4")
    ids = await jobs_in_every_state(api, redis, prefix)
    env = {**os.environ, **base_env}
    code, report = admin_check(env)
    assert (code, report["ok"], report["found"]) == (0, True, 0), report
    assert report["scanned"]["jobs"] == 7 and report["stalled"] == 0

    expected = await damage(redis, prefix, ids)
    code, report = admin_check(env)
    assert code == 1 and kinds(report) == expected, report
    assert report["remaining"] == report["found"] >= len(expected)

    code, report = admin_check(env, "--repair")
    assert code == 1 and report["remaining"] == 2, report
    left = {f["kind"] for f in report["findings"] if not f["repaired"]}
    assert left == {"unknown_key", "record_corrupt"}

    code, report = admin_check(env, "--ignore", f"{prefix}:stray", "--ignore", f"{prefix}:job:broken")
    assert (code, report["found"]) == (0, 0), report
    assert await redis.zscore(f"{prefix}:q:low-priority:waiting", ids["waiting"]) is not None
    assert await redis.smembers(f"{prefix}:job:{ids['blocked']}:deps") == {ids["delayed"]}
    assert (await api.job(ids["blocked"]))["status"] == "blocked"
    assert await redis.get(f"arq:in-progress:{prefix}:{ids['completed']}") is None
    # The job whose indexes were lost runs once its queue resumes: the repair made it claimable again.
    assert (await api.call("POST", "/queues/low-priority/resume"))[0] == 200
    await wait_state(redis, prefix, ids["waiting"], {"completed"})


async def test_repair_releases_or_fails_stuck_blocked_jobs(
    api: Any, redis: Any, prefix: str, base_env: dict[str, str]
) -> None:
    """A lost release (parent completed, child still blocked) and a vanished parent."""
    parent = (await api.schedule({"type": "echo", "options": {"delay": 3_600_000}}))["jobId"]
    other = (await api.schedule({"type": "echo", "options": {"delay": 3_600_000}}))["jobId"]
    released = (await api.schedule({"type": "echo", "options": {"dependsOn": [parent]}}))["jobId"]
    orphaned = (await api.schedule({"type": "echo", "options": {"dependsOn": [other]}}))["jobId"]
    await redis.hset(f"{prefix}:job:{parent}", "status", "completed")  # its completion lost the release
    await redis.zrem(f"{prefix}:q:default:delayed", parent)
    await redis.zadd(f"{prefix}:q:default:completed", {parent: 1})
    await redis.delete(f"{prefix}:job:{other}")  # evicted
    await redis.zrem(f"{prefix}:q:default:delayed", other)
    await redis.zrem(f"{prefix}:q:default:type:echo", other)
    env = {**os.environ, **base_env}
    code, report = admin_check(env)
    assert code == 1 and {"blocked_on_completed", "blocked_on_dead"} <= kinds(report), report
    code, report = admin_check(env, "--repair")
    assert (code, report["remaining"]) == (0, 0), report
    assert (await api.job(released))["status"] == "waiting"
    failed = await api.job(orphaned)
    assert failed["status"] == "failed" and failed["error"] == f"dependency {other} missing"
