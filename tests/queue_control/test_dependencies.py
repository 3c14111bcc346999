"""Job dependencies (``options.dependsOn``) through real api and worker processes: a job stays blocked
until every dependency completed, starts only after the last of them (across queues), exactly once;
a dependency failing for good or cancelled fails its dependents transitively with an error naming it,
and they never run. Unknown ids are refused, so cycles cannot be built. Failures name the job that ran
too early, ran at all, or carries the wrong error.
"""

from __future__ import annotations

from typing import Any

import pytest

from queue_control.qc_helpers import bulk, events, job_keys, starts, steps, transition_at
from support.waiting import wait_all, wait_state

pytestmark = pytest.mark.timeout(60)
KEEP = {"JOBS_KEEP_COMPLETED": "100000", "JOBS_KEEP_FAILED": "100000"}


def job(job_id: str, queue: str, key: str, deps: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": extra.pop("type", "sleep"),
        "payload": {"key": key, "ms": extra.pop("ms", 150), **extra.pop("payload", {})},
        "options": {"jobId": job_id, "queue": queue, **extra},
    }
    if deps:
        body["options"]["dependsOn"] = deps
    return body


async def test_chain_runs_each_job_after_its_dependency(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker", JOBS_CONCURRENCY="5", **KEEP)
    key = f"{prefix}:trace"
    chain = [
        job("A", "default", key),
        job("B", "high-priority", key, ["A"]),
        job("C", "low-priority", key, ["B"]),
    ]
    status, body, _ = await bulk(api, chain)
    assert status == 201 and [j["status"] for j in body["jobs"]] == ["waiting", "blocked", "blocked"]
    await wait_all(redis, prefix, ["A", "B", "C"], {"completed"})
    began = starts(await steps(redis, key))
    for dep, child in (("A", "B"), ("B", "C")):
        queue = next(j["options"]["queue"] for j in chain if j["options"]["jobId"] == dep)
        done_at = transition_at(await events(redis, prefix, queue), dep, "completed")
        assert len(began[child]) == 1 and began[child][0] >= done_at, (child, began[child], done_at)
    shown = {x: await api.job(x) for x in "ABC"}
    assert [(shown[x]["dependsOn"], shown[x]["dependents"]) for x in "ABC"] == [
        ([], ["B"]),
        (["A"], ["C"]),
        (["B"], []),
    ]
    released = [(e["from"], e["to"]) for e in await events(redis, prefix, "low-priority") if e["job"] == "C"]
    assert released == [
        ("", "blocked"),
        ("blocked", "waiting"),
        ("waiting", "active"),
        ("active", "completed"),
    ]


async def test_chain_with_failing_middle_fails_the_rest(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker", **KEEP)
    key = f"{prefix}:trace"
    retry = {"attempts": 2, "delay": 50}
    chain = [
        job("A", "default", key),
        job("B", "default", key, ["A"], type="fail", retry=retry),
        job("C", "high-priority", key, ["B"], type="echo"),
        job("D", "low-priority", key, ["C"], type="echo"),
    ]
    assert (await bulk(api, chain))[0] == 201
    await wait_all(redis, prefix, ["C", "D"], {"failed"})
    assert (await api.job("A"))["status"] == "completed"
    detail_b = await api.job("B")
    assert detail_b["status"] == "failed" and detail_b["attempts"] == 2  # failed for good, after retries
    assert (await api.job("C"))["error"] == "dependency B failed"
    assert (await api.job("D"))["error"] == "dependency C failed"
    assert sorted(starts(await steps(redis, key))) == ["A", "B"]  # C and D never ran
    assert [e["to"] for e in await events(redis, prefix, "high-priority") if e["job"] == "C"] == [
        "blocked",
        "failed",
    ]
    # A job naming a failed job fails at once, naming it too; a retry is refused while B stays failed.
    late = await api.schedule({"type": "echo", "options": {"dependsOn": ["B"]}})
    assert late["status"] == "failed"
    assert (await api.job(late["jobId"]))["error"] == "dependency B failed"
    status, reply, _ = await api.call("POST", "/jobs/C/retry")
    assert status == 409 and "'B'" in reply["error"]["message"]


async def test_fan_in_across_three_queues(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    for _ in range(2):
        spawn("jobs-worker", JOBS_CONCURRENCY="4", **KEEP)
    key = f"{prefix}:trace"
    parents = {"A": ("default", 500), "B": ("high-priority", 200), "C": ("low-priority", 350)}
    for job_id, (queue, ms) in parents.items():  # separate requests: dependencies on existing jobs
        await api.schedule(job(job_id, queue, key, ms=ms))
    made = await api.schedule(job("D", "scheduled", key, ["A", "B", "C"], type="echo"))
    assert made["status"] == "blocked"
    assert (await api.job("D"))["dependsOn"] == ["A", "B", "C"]
    await wait_state(redis, prefix, "D", {"completed"})
    last_done = max(
        [transition_at(await events(redis, prefix, q), j, "completed") for j, (q, _) in parents.items()]
    )
    trace = await steps(redis, key)
    began = starts(trace)
    assert len(began["D"]) == 1 and began["D"][0] >= last_done
    assert max(s.at_ms for s in trace if s.what == "end") <= began["D"][0]
    d_events = [e["to"] for e in await events(redis, prefix, "scheduled") if e["job"] == "D"]
    assert d_events == ["blocked", "waiting", "active", "completed"]  # released exactly once
    for parent in parents:
        assert (await api.job(parent))["dependents"] == ["D"]


async def test_cancelling_a_dependency_fails_dependents(api: Any, redis: Any, prefix: str) -> None:
    parent = await api.schedule({"type": "echo", "options": {"jobId": "P", "delay": 60_000}})
    kids = [
        await api.schedule({"type": "echo", "options": {"jobId": f"K{i}", "dependsOn": ["P"]}})
        for i in range(2)
    ]
    grandchild = await api.schedule({"type": "echo", "options": {"dependsOn": ["K0", "K1"]}})
    assert [k["status"] for k in kids] == ["blocked", "blocked"] and parent["status"] == "delayed"
    # A cancelled blocked job leaves its dependency's list of dependents.
    assert (await api.call("DELETE", "/jobs/K1"))[1]["previousStatus"] == "blocked"
    assert (await api.job("P"))["dependents"] == ["K0"]
    assert (await api.job(grandchild["jobId"]))["error"] == "dependency K1 cancelled"
    assert (await api.call("DELETE", "/jobs/P"))[0] == 200
    assert (await api.job("K0"))["error"] == "dependency P cancelled"
    assert (await api.job("K0"))["status"] == "failed"


async def test_completed_dependency_means_ready_at_once(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    spawn("jobs-worker", **KEEP)
    first = await api.schedule({"type": "echo", "options": {"jobId": "done-first"}})
    await wait_state(redis, prefix, first["jobId"], {"completed"})
    later = await api.schedule(
        {"type": "echo", "options": {"dependsOn": ["done-first"], "queue": "scheduled"}}
    )
    assert later["status"] == "waiting"
    await wait_state(redis, prefix, later["jobId"], {"completed"})


async def test_unknown_ids_and_cycles_are_refused(api: Any, redis: Any, prefix: str) -> None:
    status, reply, _ = await api.call(
        "POST", "/schedule", json={"type": "x", "options": {"dependsOn": ["ghost"]}}
    )
    assert (
        status == 400 and reply["error"]["message"].startswith("options.dependsOn") and "ghost" in str(reply)
    )
    # A job cannot name itself, nor a job that comes later in the same bulk request: so no cycle.
    itself = {"type": "x", "options": {"jobId": "self", "dependsOn": ["self"]}}
    assert (await api.call("POST", "/schedule", json=itself))[0] == 400
    cycle = [
        {"type": "x", "options": {"jobId": "c1", "dependsOn": ["c2"]}},
        {"type": "x", "options": {"jobId": "c2", "dependsOn": ["c1"]}},
    ]
    status, reply, _ = await bulk(api, cycle)
    assert status == 400 and "'c2'" in reply["error"]["message"]
    bad_ids = {"type": "x", "options": {"dependsOn": ["has space"]}}
    status, reply, _ = await api.call("POST", "/schedule", json=bad_ids)
    assert status == 400 and "options.dependsOn" in reply["error"]["message"]
    too_many = {"type": "x", "options": {"dependsOn": [f"j{i}" for i in range(101)]}}
    assert (await api.call("POST", "/schedule", json=too_many))[0] == 400
    assert not await job_keys(redis, prefix)
