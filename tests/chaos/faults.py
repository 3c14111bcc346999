"""The fault plan (seeded) and its injection, each fault with the recovery it is measured by.

The plan spreads the scenario's faults over the load window in a seeded order with seeded jitter, and
targets are drawn from the same generator, so a seed replays the same run. Faults are injected one after
another: each waits for its own recovery (on events, process exits and log lines), then the next one
waits for its planned time. Recovery, per kind:

- ``worker_kill``: SIGKILL, a replacement is started; recovered when every job the dead worker held is
  running again elsewhere or finished (after about one lease).
- ``worker_term``: SIGTERM (scale-down, no replacement); recovered when the process exited 0. It must
  leave no job of its own active.
- ``leader_kill``: SIGKILL of the scheduler holding the lease, a replacement replica is started;
  recovered when the first cron slot due after the kill has been fired (by the new leader, caught up).
- ``redis_restart`` / ``redis_kill``: SIGTERM / SIGKILL (the latter after ``appendfsync always``), start
  again on the same AOF; recovered when a probe job sent afterwards through the api has completed.
- ``pause``: the ``default`` queue paused for ``pause_s`` then resumed; no job of it may start between
  the two (checked on its event stream); recovered when its first job starts after the resume.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from chaos.cluster import Cluster
from chaos.events import EventFollower
from chaos.probe import KEYS, Prober, active_jobs
from chaos.queue_pause import pause_and_resume
from chaos.scenario import Scenario

FINAL = ("completed", "failed", "cancelled")
TICK = "chaos-tick"


@dataclass(frozen=True)
class PlannedFault:
    at_s: float
    kind: str


@dataclass
class FaultRecord:
    kind: str
    target: str
    at: float  # unix seconds when it was injected
    recovery_s: float | None = None
    in_flight: set[str] = field(default_factory=set)
    window: tuple[float, float] | None = None  # Redis faults: (snapshot, back up), unix seconds
    notes: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def plan_faults(scenario: Scenario, rng: random.Random) -> list[PlannedFault]:
    kinds = scenario.fault_kinds()
    rng.shuffle(kinds)
    span = scenario.load_s * 0.85
    slot = span / len(kinds)
    return [
        PlannedFault(scenario.load_s * 0.08 + i * slot + rng.uniform(0, slot * 0.4), kind)
        for i, kind in enumerate(kinds)
    ]


class FaultInjector:
    def __init__(
        self, cluster: Cluster, follower: EventFollower, prober: Prober, redis: Redis, rng: random.Random
    ) -> None:
        self.cluster, self.follower, self.prober, self.redis = cluster, follower, prober, redis
        self.scenario = cluster.scenario
        self.rng = rng
        self.records: list[FaultRecord] = []

    async def run(self, plan: list[PlannedFault], started: float) -> None:
        for fault in plan:
            await asyncio.sleep(max(started + fault.at_s - time.time(), 0))
            record = FaultRecord(fault.kind, "", time.time())
            self.records.append(record)
            try:
                await getattr(self, fault.kind)(record)
            except TimeoutError as err:
                record.violations.append(f"{fault.kind}: no recovery: {err}")

    # --- workers --------------------------------------------------------------------------------------
    async def _pick_worker(self) -> str:
        """A seeded choice among the workers that hold jobs right now (a kill of an idle worker tests
        little), or among all when none does."""
        by_start = sorted(self.cluster.workers, key=lambda w: int(self.cluster.workers[w].name.split("#")[1]))
        holding = set((await active_jobs(self.redis)).values())
        return self.rng.choice([w for w in by_start if w in holding] or by_start)

    async def worker_kill(self, record: FaultRecord) -> None:
        worker_id = await self._pick_worker()
        service = self.cluster.retire_worker(worker_id)
        record.target, record.at = service.name, time.time()
        await asyncio.to_thread(service.kill)
        held = await active_jobs(self.redis)
        record.in_flight = {job for job, worker in held.items() if worker == worker_id}
        replacement = asyncio.create_task(self.cluster.add_worker())

        async def all_moved() -> list[int] | None:
            pipe = self.redis.pipeline(transaction=False)
            for job_id in record.in_flight:
                pipe.hmget(KEYS.job(job_id), ["status", "worker", "startedAt"])
            rows = await pipe.execute()
            if all(status in FINAL or worker != worker_id for status, worker, _ in rows):
                return [int(started) for _, worker, started in rows if worker != worker_id] or [0]
            return None

        timeout = self.scenario.lease_ms / 1000 + 60
        restarts = await self.follower.wait_until(all_moved, timeout, f"the jobs of {service.name} to rerun")
        record.recovery_s = time.time() - record.at
        if max(restarts):
            record.notes["last rerun started after s"] = round(max(restarts) / 1000 - record.at, 2)
        await replacement

    async def worker_term(self, record: FaultRecord) -> None:
        worker_id = await self._pick_worker()
        service = self.cluster.retire_worker(worker_id)
        record.target, record.at = service.name, time.time()
        service.signal(signal.SIGTERM)
        code = await asyncio.to_thread(service.wait, self.scenario.shutdown_grace_s + 30)
        record.recovery_s = time.time() - record.at
        if code != 0:
            record.violations.append(f"{service.name} exited {code} after SIGTERM, not 0")
        left = [job for job, worker in (await active_jobs(self.redis)).items() if worker == worker_id]
        if left:
            record.violations.append(f"{service.name} left {len(left)} job(s) active: {sorted(left)[:5]}")

    # --- scheduler ------------------------------------------------------------------------------------
    async def _leader(self) -> tuple[str, Any]:
        async def holder() -> tuple[str, Any] | None:
            token = await self.redis.get(KEYS.leader())
            service = self.cluster.scheduler_by_pid(int(token.split(":")[1])) if token else None
            return (token, service) if service else None

        found: tuple[str, Any] = await self.follower.wait_until(holder, 30, "a scheduler leader")
        return found

    async def leader_kill(self, record: FaultRecord) -> None:
        token, service = await self._leader()
        self.cluster.retire_scheduler(service)
        record.target, record.at = service.name, time.time()
        await asyncio.to_thread(service.kill)
        replacement = asyncio.create_task(self.cluster.add_scheduler())
        first_slot_ms = (int(record.at) + 1) * 1000

        async def new_leader() -> bool:
            return await self.redis.get(KEYS.leader()) not in (None, token)

        async def caught_up() -> bool:
            last = await self.redis.hget(KEYS.schedule_state(TICK), "lastFire")
            return int(last or 0) >= first_slot_ms

        await self.follower.wait_until(new_leader, 60, "a new scheduler leader")
        record.notes["new leader after s"] = round(time.time() - record.at, 2)
        await self.follower.wait_until(caught_up, 60, "the first slot after the kill to fire")
        record.recovery_s = time.time() - record.at
        await replacement

    # --- Redis ----------------------------------------------------------------------------------------
    async def redis_restart(self, record: FaultRecord) -> None:
        await self._redis_down(record, kill=False)

    async def redis_kill(self, record: FaultRecord) -> None:
        await self._redis_down(record, kill=True)

    async def _redis_down(self, record: FaultRecord, kill: bool) -> None:
        redis = self.cluster.redis
        if kill:
            await redis.set_fsync("always")
        # The clock first, then the read: a claim that lands after the read begins writes its start
        # line after ``snapshot``, so the window catches every try the read could miss.
        snapshot = time.time()
        before = set(await active_jobs(self.redis))
        record.target, record.at = ("SIGKILL, appendfsync always" if kill else "SIGTERM"), time.time()
        await asyncio.to_thread(redis.kill if kill else redis.shutdown)
        await asyncio.to_thread(redis.start)
        up = time.time()
        record.in_flight, record.window = before, (snapshot, up)
        record.notes["down s"] = round(up - record.at, 2)
        await self.prober.round_trip()
        record.recovery_s = time.time() - record.at
        record.violations += self.cluster.dead_unexpectedly()

    # --- queue control --------------------------------------------------------------------------------
    async def pause(self, record: FaultRecord) -> None:
        record.target = "default"
        await pause_and_resume(self.prober.pool, self.redis, self.follower, self.scenario.pause_s, record)
