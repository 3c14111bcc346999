"""The job store: the one interface through which producers and admins create, read and change jobs.

The API, the dashboard and the scheduler call these methods; each state change is one Lua script, and
script codes become typed errors in :func:`jobs_core.errors.error_for`. Connection failures surface as
``RedisUnavailable``. Listing and counting read the per-state sorted sets and never SCAN.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from jobs_core.errors import ReplicationTimeout, error_for
from jobs_core.keys import FINISHED_STATES, JOB_STATES, LOG_LINES_CAP, Keys
from jobs_core.redis_conn import unavailable_as_error
from jobs_core.scripts import Scripts
from jobs_core.settings import CoreSettings


@dataclass(frozen=True)
class Enqueued:
    """What ``enqueue`` answers for one job; ``existed`` when the jobId was already stored."""

    job_id: str
    status: str
    existed: bool
    created_at_ms: int
    run_at_ms: int
    queue: str


class JobStore:
    def __init__(self, redis: Redis, settings: CoreSettings) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = Keys(settings.key_prefix)
        self.scripts = Scripts(redis)

    def _head(self) -> list[Any]:
        """The ARGV head every job script starts with (scripts/lib/prologue.lua)."""
        return [self.settings.key_prefix, self.settings.events_maxlen]

    async def run(self, name: str, *args: Any, keys: list[str] | None = None) -> Any:
        async with unavailable_as_error():
            return await self.scripts.run(name, keys=keys, args=[*self._head(), *args])

    async def run_pipelined(self, *calls: tuple[str, list[Any]]) -> list[Any]:
        """Scripts in one round trip (see Scripts.run_pipelined), e.g. a finish batch and the next claim."""
        async with unavailable_as_error():
            return await self.scripts.run_pipelined(
                self.redis, [(name, [*self._head(), *args]) for name, args in calls]
            )

    # --- creating -------------------------------------------------------------------------------------
    async def enqueue(self, specs: list[dict[str, Any]]) -> list[Enqueued]:
        """Stores all specs atomically, or none (QueueFull, unknown dependency). With
        JOBS_REDIS_MIN_REPLICAS_ACK, also waits until that many replicas hold the write, or raises
        ReplicationTimeout (503): the jobs are on the master but must not be reported as accepted."""
        args = [self.settings.max_jobs_per_queue, json.dumps(specs)]
        if self.settings.redis_min_replicas_ack:
            raw = await self._enqueue_replicated(args, specs)
        else:
            raw = await self.run("enqueue", *args)
        if int(raw[0]) < 0:
            raise error_for(int(raw[0]), "enqueue", "batch", raw[1])
        out = []
        for i in range(1, len(raw), 6):
            job_id, status, existed, created, run_at, queue = raw[i : i + 6]
            out.append(Enqueued(job_id, status, existed == 1, int(created), int(run_at or 0), queue))
        return out

    async def _enqueue_replicated(self, args: list[Any], specs: list[dict[str, Any]]) -> Any:
        """The script and WAIT in one pipeline: WAIT counts the replicas that acknowledged the writes
        made so far on its own connection, so both must travel on the same one."""
        wanted, timeout_ms = self.settings.redis_min_replicas_ack, self.settings.redis_replica_ack_timeout
        async with unavailable_as_error():
            try:
                raw, acked = await self._script_and_wait(args, wanted, timeout_ms)
            except NoScriptError:
                # A pipeline loads its scripts once, before its first try; a retry that landed on a
                # newly promoted master (scripts are not replicated) finds none. Nothing ran: again.
                raw, acked = await self._script_and_wait(args, wanted, timeout_ms)
        if int(raw[0]) >= 0 and int(acked) < wanted:
            ids = [spec["id"] for spec in specs]
            raise ReplicationTimeout(
                f"the write reached {acked} of the {wanted} replicas JOBS_REDIS_MIN_REPLICAS_ACK asks for "
                f"within {timeout_ms} ms: not accepted. The jobs may exist on the master; sending the same "
                "request again with options.jobId is safe (it answers 200 for jobs already stored)",
                {"jobIds": ids[:100], "replicas": int(acked), "wanted": wanted},
            )
        return raw

    async def _script_and_wait(self, args: list[Any], wanted: int, timeout_ms: int) -> list[Any]:
        pipe = self.redis.pipeline(transaction=False)
        await self.scripts.run_in(pipe, "enqueue", [*self._head(), *args])
        pipe.execute_command("WAIT", wanted, timeout_ms)
        return list(await pipe.execute())

    # --- reading --------------------------------------------------------------------------------------
    async def get(self, job_id: str) -> tuple[dict[str, str], list[str]] | None:
        """The stored record and its dependents, or None."""
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            pipe.hgetall(self.keys.job(job_id))
            pipe.smembers(self.keys.job_dependents(job_id))
            record, dependents = await pipe.execute()
        if not record:
            return None
        return record, list(dependents)

    async def logs(self, job_id: str, offset: int = 0, limit: int = LOG_LINES_CAP) -> list[Any]:
        async with unavailable_as_error():
            key = self.keys.job_logs(job_id)
            lines = await self.redis.lrange(key, offset, offset + limit - 1)  # type: ignore[misc]
        return [json.loads(line) for line in lines]

    async def errors(self, job_id: str) -> list[Any]:
        """Error and stack of each failed try, newest first."""
        async with unavailable_as_error():
            items = await self.redis.lrange(self.keys.job_errors(job_id), 0, -1)  # type: ignore[misc]
        return [json.loads(item) for item in items]

    async def list_jobs(
        self,
        queues: list[str],
        states: list[str] | None = None,
        job_type: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[dict[str, str]], int]:
        """Newest first (by the time a job entered its state) across queues and states, with a total."""
        states = states or list(JOB_STATES)
        if job_type:
            return await self._list_by_type(queues, states, job_type, limit, offset)
        zsets = [self.keys.state(q, s) for q in queues for s in states]
        # One set (one queue, one state) is read at the offset directly: deep pages stay cheap. Several
        # sets are merged, which needs offset + limit entries of each.
        start = offset if len(zsets) == 1 else 0
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for key in zsets:
                pipe.zcard(key)
                pipe.zrange(key, start, offset + limit - 1, desc=True, withscores=True)
            replies = await pipe.execute()
        total = sum(replies[0::2])
        merged = heapq.merge(*replies[1::2], key=lambda pair: -pair[1])
        ids = [job_id for job_id, _ in merged][offset - start : offset - start + limit]
        return await self.records(ids), total

    async def _list_by_type(
        self, queues: list[str], states: list[str], job_type: str, limit: int, offset: int
    ) -> tuple[list[dict[str, str]], int]:
        """The per-type index intersected with the state sets; reads about offset + limit matches,
        not the whole history of the type (see :mod:`jobs_core.type_index`)."""
        from jobs_core.type_index import page_by_type

        ids, total = await page_by_type(
            self.redis, self.keys, queues, states, job_type, limit=limit, offset=offset
        )
        return await self.records(ids), total

    async def records(self, ids: list[str]) -> list[dict[str, str]]:
        """The records of these ids, in order; ids whose record is gone are left out."""
        if not ids:
            return []
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for job_id in ids:
                pipe.hgetall(self.keys.job(job_id))
            return [r for r in await pipe.execute() if r]

    # --- changing -------------------------------------------------------------------------------------
    async def cancel(self, job_id: str) -> str:
        """Cancels a waiting, delayed, blocked or running job; returns the state it was in.

        Cancelled jobs are kept like failed ones (JOBS_KEEP_FAILED, JOBS_KEEP_FAILED_AGE)."""
        code, *rest = await self.run("cancel", job_id, self.keys.control_channel(), *self.keep_failed())
        if int(code) < 0:
            raise error_for(int(code), "cancel", job_id, rest[0] if rest else None)
        return str(rest[0])

    async def retry(self, job_id: str) -> str:
        """Runs a failed or cancelled job again; returns its new state."""
        code, *rest = await self.run("retry_job", job_id)
        if int(code) < 0:
            raise error_for(int(code), "retry", job_id, *([*rest, None, None])[:2])
        return str(rest[0])

    def keep_failed(self) -> tuple[int, int]:
        """Retention of failed and cancelled jobs as the scripts take it: count, max age in ms."""
        return self.settings.keep_failed, self.settings.keep_failed_age * 1000

    @staticmethod
    def is_finished(status: str | None) -> bool:
        return status in FINISHED_STATES
