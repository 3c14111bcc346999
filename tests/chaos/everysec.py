"""What a Redis crash loses with ``appendfsync everysec``, measured: a figure, not a pass/fail.

A burst of instant jobs is pushed as fast as the api takes them; when half are acknowledged, Redis is
SIGKILLed (running with ``everysec``) and started again on its AOF. Every job acknowledged before the kill
that has no record afterwards was lost; jobs whose effect ran twice were completed before the crash and
ran again because the completion was lost.

What to expect, and why a SIGKILL shows little: Redis appends each write to the AOF with ``write(2)``
before it replies, and what was written sits in the kernel's page cache, which a dead process does not
lose. ``everysec`` only defers the ``fsync``, so the window it opens (about the last second of
acknowledged writes, up to 2 s when the disk lags and Redis postpones the write itself) is lost when the
machine goes down (power, kernel, VM) before the page cache reaches the disk. A process kill can lose
only writes Redis had postponed (``aof_delayed_fsync`` counts those episodes). ``appendfsync always``
closes both windows at the cost of an fsync per event-loop round.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from chaos.cluster import Cluster
from chaos.effects import Effects
from chaos.load import ApiPool, LoadGenerator
from chaos.probe import KEYS
from chaos.workload import Batch, Planned, Workload


@dataclass
class EverysecFigures:
    acknowledged_before_kill: int
    lost: list[str]
    down_s: float
    delayed_fsyncs: int
    jobs: dict[str, Planned]
    acks: dict[str, Any]

    def rerun(self, effects: Effects) -> list[str]:
        return sorted(i for i in self.jobs if effects.effect_count(i) > 1)


def burst(n: int, bulk: int = 50) -> Workload:
    jobs = [
        Planned(f"es-{i:06d}", "instant", {"type": "chaos-instant", "options": {"jobId": f"es-{i:06d}"}})
        for i in range(1, n + 1)
    ]
    return Workload([Batch(jobs[i : i + bulk], single=False) for i in range(0, n, bulk)])


async def measure_everysec(cluster: Cluster, pool: ApiPool, redis: Redis, n: int) -> EverysecFigures:
    await cluster.redis.set_fsync("everysec")
    half = asyncio.Event()
    load = LoadGenerator(pool, burst(n), senders=6, on_ack=lambda acked: acked >= n // 2 and half.set())
    started = time.time()
    sending = asyncio.create_task(load.run(started, deadline=started + 180))
    await half.wait()
    delayed = int((await redis.info("persistence")).get("aof_delayed_fsync", 0))
    acked = set(load.acks)
    killed = time.time()
    await asyncio.to_thread(cluster.redis.kill)
    await asyncio.to_thread(cluster.redis.start)
    down = time.time() - killed
    await sending
    pipe = redis.pipeline(transaction=False)
    for job_id in sorted(acked):
        pipe.exists(KEYS.job(job_id))
    exists = await pipe.execute()
    lost = [job_id for job_id, found in zip(sorted(acked), exists, strict=True) if not found]
    jobs = load.workload.jobs
    return EverysecFigures(len(acked), lost, down, delayed, jobs, dict(load.acks))
