"""The core functions the dashboard stands on (jobs_core.admin, insights, type_index), on a real Redis."""

from __future__ import annotations

import json
import time

import pytest

from dashboard.dash_helpers import complete_jobs, fail_jobs, make_jobs
from jobs_core.admin import AUDIT_CAP, Admin
from jobs_core.errors import NotFound, WrongState
from jobs_core.insights import Insights, now_minute, percentile
from jobs_core.queues import QueueAdmin
from jobs_core.store import JobStore


@pytest.fixture
def admin(store: JobStore) -> Admin:
    return Admin(store, QueueAdmin(store))


def test_percentile_interpolates_inside_buckets() -> None:
    assert percentile({}, 0.5) is None
    histogram = {10.0: 50, 100.0: 50}
    assert percentile(histogram, 0.5) == 10.0
    assert percentile(histogram, 0.99) == 99.0  # inside the (50, 100] bucket
    assert percentile({float("inf"): 3}, 0.5) == 60000.0  # past the last bound: only a lower bound


async def test_page_slices_at_any_depth(admin: Admin, store: JobStore) -> None:
    ids = await make_jobs(store, 12)  # one script call: equal scores, so order by id (ZSET rule)
    pages = [await admin.page("default", "waiting", offset, 5) for offset in (0, 5, 10)]
    assert [len(p.jobs) for p in pages] == [5, 5, 2] and pages[0].total == 12
    assert [j["id"] for p in pages for j in p.jobs] == sorted(ids, reverse=True)
    with pytest.raises(NotFound):
        await admin.page("nope", "waiting")


async def test_list_by_type_walks_the_indexes(store: JobStore) -> None:
    done = await complete_jobs(store, "default", 30)
    await store.redis.delete(store.keys.by_type("default", "echo"))  # keep the completed ones typeless
    for job_id in done[:25]:
        await store.redis.zadd(store.keys.by_type("default", "echo"), {job_id: 1})
    waiting = sorted(await make_jobs(store, 7), reverse=True)  # equal scores: newest first = by id
    jobs, total = await store.list_jobs(["default"], ["waiting"], "echo", limit=5, offset=0)
    assert total == 7 and [j["id"] for j in jobs] == waiting[:5]
    jobs, total = await store.list_jobs(["default"], ["waiting"], "echo", limit=5, offset=5)
    assert [j["id"] for j in jobs] == waiting[5:]
    jobs, total = await store.list_jobs(["default"], ["completed"], "echo", limit=100, offset=0)
    assert total == 25 and {j["id"] for j in jobs} == set(done[:25])
    jobs, total = await store.list_jobs(["default"], None, "echo", limit=3, offset=0)
    assert total == 32 and len(jobs) == 3
    jobs, total = await store.list_jobs(["default", "low-priority"], ["failed"], "echo", limit=5, offset=0)
    assert total == 0 and jobs == []


async def test_promote_runs_a_delayed_job_now(admin: Admin, store: JobStore) -> None:
    (job_id,) = await make_jobs(store, 1, options={"delay": 3_600_000})
    assert await admin.promote(job_id) == "waiting"
    record, _ = await store.get(job_id) or ({}, [])
    assert record["status"] == "waiting"
    assert await store.redis.zscore(store.keys.ready("default"), job_id) is not None
    with pytest.raises(WrongState):
        await admin.promote(job_id)
    with pytest.raises(NotFound):
        await admin.promote("nope")


async def test_retry_all_failed_in_slices_and_skips_broken_dependencies(
    admin: Admin, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobs_core.admin.RETRY_SLICE", 4)
    failed = await fail_jobs(store, "default", 9)
    (cancelled,) = await make_jobs(store, 1, options={"queue": "low-priority"})
    await store.cancel(cancelled)
    (orphan,) = await make_jobs(store, 1, options={"dependsOn": [cancelled]})  # fails at once
    assert await admin.retry_all_failed("default") == (9, 1)
    (stats,) = await QueueAdmin(store).stats(["default"])
    assert stats["counts"]["failed"] == 1 and stats["counts"]["waiting"] == 9
    for job_id in failed:
        record, _ = await store.get(job_id) or ({}, [])
        assert record["status"] == "waiting" and record["attempt"] == "0"
    record, _ = await store.get(orphan) or ({}, [])
    assert record["status"] == "failed"


async def test_workers_leader_and_memory(admin: Admin, store: JobStore) -> None:
    now = int(time.time() * 1000)
    info = {"id": "w1", "host": "h", "pid": 3, "queues": '["default"]', "concurrency": 4, "running": 1,
            "beat": now}  # fmt: skip
    await store.redis.hset(store.keys.worker("w1"), mapping=info)
    await store.redis.zadd(store.keys.workers(), {"w1": now, "gone": now - 999_999})
    workers = await admin.workers()
    assert [w["id"] for w in workers] == ["w1"] and workers[0]["queues"] == ["default"]
    assert await admin.live_worker_count() == 1
    assert await admin.leader() is None
    await store.redis.set(store.keys.leader(), "host-a:12:ff", px=3000)
    leader = await admin.leader()
    assert leader is not None and leader["host"] == "host-a" and leader["pid"] == "12"
    memory = await admin.memory()
    assert memory["used_memory"] > 0 and memory["maxmemory_policy"]


async def test_audit_log_is_capped_newest_first(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jobs_core.admin.AUDIT_CAP", 3)
    for i in range(5):
        await admin.audit("ann", "pause", f"q{i}", {"n": i}, "127.0.0.1")
    records, total = await admin.audit_log()
    assert total == 3 and [r["target"] for r in records] == ["q4", "q3", "q2"]
    assert records[0]["who"] == "ann" and records[0]["detail"] == {"n": 4} and records[0]["at"] > 0
    assert AUDIT_CAP == 1000


async def test_read_events_from_the_streams(admin: Admin, store: JobStore) -> None:
    positions = await admin.latest_event_ids(["default", "low-priority"])
    await make_jobs(store, 1)
    await make_jobs(store, 1, options={"queue": "low-priority"})
    events = await admin.read_events(positions, block_ms=500)
    assert {e.queue for e in events} == {"default", "low-priority"}
    assert all(e.fields["to"] == "waiting" for e in events)
    assert await admin.read_events(positions, block_ms=50) == []  # positions moved on


async def test_insights_from_minute_buckets(store: JobStore) -> None:
    insights = Insights(store)
    minute = now_minute()
    await store.redis.hset(
        store.keys.minute("default", minute - 1),
        mapping={"completed": 4, "failed": 1, "completed:echo": 4, "failed:mail": 1, "duration_ms": 400,
                 "run_ms:100": 4, "wait_ms:5": 3, "wait_ms:inf": 1},
    )  # fmt: skip
    hour = (await insights.hour(["default"], end=minute))["default"]
    assert hour["completed"][-2] == 4 and hour["failed"][-2] == 1 and len(hour["completed"]) == 60
    assert hour["types"] == ["echo", "mail"] and hour["avgRunMs"] == 100.0
    assert hour["run"]["p50"] == 75.0 and hour["wait"]["p99"] == 60000.0
    day = await insights.day(["default", "low-priority"], end=minute)
    assert sum(day["completed"]) == 4 and len(day["completed"]) == 144
    await store.redis.hset(store.keys.minute("default", minute), mapping={"completed": 2})
    current = await insights.this_minute(["default"])
    if current["default"]["minute"] == minute:  # (the clock may have just turned the minute)
        assert current["default"] == {"minute": minute, "completed": 2, "failed": 0}
    assert json.dumps(hour)  # JSON-ready for the page
