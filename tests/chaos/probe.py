"""Reading the registry during the run: which jobs are active (and where), and end-to-end probe jobs.

A probe is a job sent through the api after a fault and awaited until completed: the time it takes is
the fault's recovery as a user sees it (api accepts, a worker runs it, the result is stored). Probes are
ordinary acknowledged jobs for the checker.
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from chaos.cluster import PREFIX
from chaos.events import QUEUES, EventFollower
from chaos.load import RETRYABLE, Ack, ApiPool, LoadError
from chaos.workload import Planned
from jobs_core.keys import Keys

KEYS = Keys(PREFIX)


async def active_jobs(redis: Redis) -> dict[str, str]:
    """Every active job and the worker whose try holds it."""
    pipe = redis.pipeline(transaction=False)
    for queue in QUEUES:
        pipe.zrange(KEYS.state(queue, "active"), 0, -1)
    ids = [job_id for members in await pipe.execute() for job_id in members]
    if not ids:
        return {}
    pipe = redis.pipeline(transaction=False)
    for job_id in ids:
        pipe.hget(KEYS.job(job_id), "worker")
    return dict(zip(ids, await pipe.execute(), strict=True))


class Prober:
    def __init__(self, pool: ApiPool, redis: Redis, follower: EventFollower) -> None:
        self.pool, self.redis, self.follower = pool, redis, follower
        self.jobs: dict[str, Planned] = {}
        self.acks: dict[str, Ack] = {}

    async def round_trip(self, timeout: float = 90.0) -> float:
        """Sends one probe job and returns the seconds until it is completed in Redis."""
        started = time.time()
        job_id = f"probe-{len(self.jobs) + 1:03d}"
        body = {"type": "chaos-instant", "options": {"jobId": job_id, "priority": "critical"}}
        self.jobs[job_id] = Planned(job_id, "probe", body)
        await self._enqueue(body, timeout)
        self.acks[job_id] = Ack(201, "waiting", time.time())

        async def completed() -> bool:
            return await self.redis.hget(KEYS.job(job_id), "status") == "completed"

        await self.follower.wait_until(completed, timeout, f"probe {job_id} to complete")
        return time.time() - started

    async def _enqueue(self, body: dict[str, object], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status, answer, _ = await self.pool.call("POST", "/schedule", body)
            except RETRYABLE:
                status, answer = 0, None
            if status in (200, 201):
                return
            if status not in (0, 503):
                raise LoadError(f"probe enqueue answered {status}: {answer}")
            await asyncio.sleep(0.1)
        raise TimeoutError("the api did not accept a probe job")
