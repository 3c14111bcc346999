"""A try whose processor has returned is *finishing*: its outcome waits in a batch being written. The
lease keeper must not take it for lost when the write lands between reading the running tries and the
renewal's reply, and cancelling one try's task must not cancel the write's future shared by the batch.

Found by the chaos run: under load each worker logged hundreds of false ``lease_lost`` lines, cancelled
the tasks of tries it had just completed, and with them the future of their whole batch
(``finish_batch_failed: InvalidStateError``); the ids stayed marked as lost, so a later try of the same
job on that worker would not have been handed back at SIGTERM.
"""

from __future__ import annotations

from typing import Any

from support.waiting import wait_all


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
