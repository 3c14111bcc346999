"""What the lease keeper's renewal reports, and what the worker makes of it. Both cases were found by the
chaos run (tests/chaos):

- a try whose processor has returned is *finishing* (its outcome waits in a batch being written): it is
  not lost when the write lands between reading the running tries and the renewal's reply. Under load
  each worker logged hundreds of false ``lease_lost`` lines, cancelled the tasks of tries it had just
  completed and with them the future of their whole batch (``finish_batch_failed: InvalidStateError``);
  the ids stayed marked as lost, so a later try of the same job on that worker would not have been
  handed back at SIGTERM.
- a try the user cancelled is interrupted as a cancel when the renewal learns it first (the broadcast
  can be slower): every cancel of a running job used to risk a ``lease_lost`` warning.
"""

from __future__ import annotations

import asyncio
from typing import Any

from jobs_core.settings import CoreSettings
from jobs_core.store import JobStore
from support.redis_server import RedisServer
from support.waiting import wait_all, wait_state, wait_step


async def test_finished_tries_are_never_reported_lost(api: Any, spawn: Any, redis: Any, prefix: str) -> None:
    # A short lease renews every ~170 ms, so renewals often race the batches of outcomes being written;
    # failing and sleeping jobs alternate so that each batch needs two script calls (a wider window).
    keep = {"JOBS_KEEP_COMPLETED": "100000", "JOBS_KEEP_FAILED": "100000", "JOBS_LOG_COMPLETED": "false"}
    worker = spawn("jobs-worker", JOBS_LEASE_MS="500", JOBS_CONCURRENCY="100", **keep)
    ids: list[str] = []
    for _ in range(4):
        jobs = [
            {"type": "sleep", "payload": {"ms": 30}} if i % 2 else {"type": "unrecoverable"}
            for i in range(500)
        ]
        status, body, _ = await api.call("POST", "/schedule/bulk", json={"jobs": jobs})
        assert status == 201, body
        ids += [job["jobId"] for job in body["jobs"]]
    await wait_all(redis, prefix, ids, {"completed", "failed"}, timeout=60)
    assert not [line for line in worker.lines if line["event"] == "finish_batch_failed"]
    reported = [line["job_id"] for line in worker.lines if line["event"] == "lease_lost"]
    claims = [await redis.hget(f"{prefix}:job:{job_id}", "claims") for job_id in reported]
    # A real loss (the lease ran out while the event loop lagged) means the job was claimed again.
    false_alarms = [job_id for job_id, n in zip(reported, claims, strict=True) if n == "1"]
    assert not false_alarms, f"{len(false_alarms)} tries reported lost that this worker finished itself"


async def test_a_cancel_learnt_from_the_renewal_is_a_cancel(
    api: Any, spawn: Any, redis: Any, redis_server: RedisServer, prefix: str
) -> None:
    worker = spawn("jobs-worker", JOBS_LEASE_MS="600")
    key = f"{prefix}:trace"
    made = await api.schedule({"type": "sleep", "payload": {"ms": 10_000, "key": key}})
    await wait_step(redis, key, "start")
    store = JobStore(redis, CoreSettings(redis_url=redis_server.url, key_prefix=prefix))
    # The cancel script with a channel no worker listens on: only the lease renewal can tell the worker.
    code, previous = await store.run("cancel", made["jobId"], f"{prefix}:nobody", *store.keep_failed())
    assert (code, previous) == (1, "active")
    line = await asyncio.to_thread(worker.wait_for, "job_interrupted", 5, job_id=made["jobId"])
    assert line["type"] == "sleep"
    await wait_state(redis, prefix, made["jobId"], {"cancelled"})
    assert not [x for x in worker.lines if x["event"] == "lease_lost"]
    assert [e.split("|")[1] for e in await redis.lrange(key, 0, -1)] == ["start"]  # never reached "end"


async def test_a_job_claimed_again_by_the_same_worker_replaces_its_old_try(
    api: Any, spawn: Any, redis: Any, prefix: str
) -> None:
    """A lease that ran out (a Redis outage longer than the lease, a stalled loop) can be claimed again by
    the very worker whose try still runs. The old try must stop at once, and its end must not take the
    new try off the worker's books: it was, and the new try, no longer renewed, was claimed a third time."""
    worker = spawn("jobs-worker", JOBS_LEASE_MS="1500")
    key = f"{prefix}:trace"
    made = await api.schedule({"type": "sleep", "payload": {"ms": 2500, "key": key}})
    job_key = f"{prefix}:job:{made['jobId']}"
    await wait_step(redis, key, "start")
    for _ in range(20):  # a renewal may restore the lease first; then the next round tries again
        pipe = redis.pipeline(transaction=True)
        pipe.zadd(f"{prefix}:q:default:active", {made["jobId"]: 0}, xx=True)  # the lease deadline passed
        pipe.lpush(f"{prefix}:q:default:wake", "1")  # the worker claims at once
        await pipe.execute()
        if await redis.blpop([f"{key}:start"], timeout=1):
            break
    assert await redis.hget(job_key, "claims") == "2"
    record = await wait_state(redis, prefix, made["jobId"], {"completed"}, timeout=15)
    assert record["claims"] == "2" and record["stalls"] == "1", record
    steps = [entry.split("|")[1] for entry in await redis.lrange(key, 0, -1)]
    assert steps == ["start", "start", "end"], steps  # the old try never reached its end
    assert not [line for line in worker.lines if line["event"] == "job_task_error"]
