"""Helpers of the scheduler process tests: per-second schedules, the leader's process, fired slots."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from jobs_core.keys import Keys
from jobs_core.schedules import Schedule, ScheduleStore
from jobs_core.settings import CoreSettings
from jobs_core.store import JobStore
from support.processes import Service
from support.waiting import wait_until

EVERY_SECOND = "* * * * * *"


class Cluster:
    """A test's view of Redis: schedules, the lease, and the jobs the schedules made."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.settings = CoreSettings(key_prefix=prefix)
        self.keys = Keys(prefix)
        self.schedules = ScheduleStore(redis, self.settings)
        self.jobs = JobStore(redis, self.settings)

    async def every_second(self, sid: str = "tick", job_type: str = "tick", **options: Any) -> Schedule:
        schedule = Schedule(sid, job_type, EVERY_SECOND, options=options)
        await self.schedules.upsert(schedule)
        return schedule

    async def holder(self) -> str | None:
        value = await self.redis.get(self.keys.leader())
        return None if value is None else str(value)

    async def leader_of(self, services: list[Service], timeout: float = 10) -> Service:
        """The replica whose token holds the lease (tokens are host:pid:random)."""

        async def find() -> Service | None:
            token = await self.holder()
            pid = int(token.split(":")[1]) if token else -1
            return next((s for s in services if s.proc.pid == pid), None)

        found: Service = await wait_until(find, timeout, "a leader")
        return found

    async def fire_times(self, job_type: str = "tick") -> list[int]:
        """Nominal fire times (ms) of every job of this type, from the ids ``cron:{sid}:{ms}``."""
        records, _ = await self.jobs.list_jobs(self.settings.queues, job_type=job_type, limit=100_000)
        return sorted(int(r["id"].rsplit(":", 1)[1]) for r in records)

    async def records(self, job_type: str = "tick") -> list[dict[str, str]]:
        records, _ = await self.jobs.list_jobs(self.settings.queues, job_type=job_type, limit=100_000)
        return records

    async def count_after(self, minimum: int, job_type: str = "tick", timeout: float = 15) -> list[int]:
        async def enough() -> list[int]:
            times = await self.fire_times(job_type)
            return times if len(times) >= minimum else []

        found: list[int] = await wait_until(enough, timeout, f"{minimum} fired jobs")
        return found


def assert_every_second_once(times: list[int]) -> None:
    """Every second slot from the first fire to the last has exactly one job."""
    assert times, "no job fired"
    assert len(times) == len(set(times)), f"doubled slots: {sorted(t for t in times if times.count(t) > 1)}"
    assert all(t % 1000 == 0 for t in times), "fire times must be whole seconds"
    expected = list(range(times[0], times[-1] + 1000, 1000))
    missing = sorted(set(expected) - set(times))
    assert not missing, f"missing slots: {missing}"
