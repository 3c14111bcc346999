"""Read and admin functions of the dashboard, beyond what the API needs: job lists per state that stay
fast with millions of jobs, run-now and retry-all transitions, workers, the scheduler leader, Redis
memory, the audit log and the event streams. Charts and percentiles live in :mod:`jobs_core.insights`.

Every change is one Lua script (``promote_job``, ``retry_all_failed``) or the store's and queue admin's
own; reads are pipelined and never SCAN. Connection failures raise ``RedisUnavailable``; script codes
become typed errors through :func:`jobs_core.errors.error_for`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from jobs_core.errors import InvalidInput, error_for
from jobs_core.keys import JOB_STATES
from jobs_core.queues import QueueAdmin
from jobs_core.redis_conn import unavailable_as_error
from jobs_core.store import JobStore

ADMIN_SCRIPTS = ("promote_job", "retry_all_failed")
# The audit list keeps the newest records only: enough for weeks of human actions, bounded in memory.
AUDIT_CAP = 1000
# retry_all_failed works in slices so that one script call never blocks Redis for long.
RETRY_SLICE = 500
MAX_PAGE = 200
MEMORY_FIELDS = (
    "used_memory",
    "used_memory_human",
    "used_memory_peak_human",
    "maxmemory",
    "maxmemory_human",
    "maxmemory_policy",
    "mem_fragmentation_ratio",
)


@dataclass(frozen=True)
class Page:
    """One page of jobs: the records (newest first), the total, and where the page starts."""

    jobs: list[dict[str, str]]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class StreamEvent:
    """One entry of a queue's event stream: fields job, from, to, at, and extras (progress, error …)."""

    queue: str
    id: str
    fields: dict[str, str]


class Admin:
    """The dashboard's window on the system; built on the same store and queue admin as the API."""

    def __init__(self, store: JobStore, queues: QueueAdmin) -> None:
        self.store = store
        self.queues = queues
        self.keys = store.keys
        self.redis = store.redis
        for name in ADMIN_SCRIPTS:
            store.scripts.add(store.redis, name)

    # --- jobs -----------------------------------------------------------------------------------------
    async def page(self, queue: str, state: str, offset: int = 0, limit: int = 20) -> Page:
        """Jobs of one queue in one state, newest first: ZCARD plus one ranked slice, at any depth."""
        self.queues.check(queue)
        if state not in JOB_STATES:
            raise InvalidInput(f"state: must be one of {', '.join(JOB_STATES)}")
        offset, limit = max(offset, 0), min(max(limit, 1), MAX_PAGE)
        key = self.keys.state(queue, state)
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            pipe.zcard(key)
            pipe.zrange(key, offset, offset + limit - 1, desc=True)
            total, ids = await pipe.execute()
        return Page(await self.store.records(list(ids)), int(total), offset, limit)

    async def page_of_type(
        self, queue: str, state: str, job_type: str, offset: int = 0, limit: int = 20
    ) -> Page:
        """Jobs of one type in one state: the store's per-type index, filtered by state."""
        self.queues.check(queue)
        offset, limit = max(offset, 0), min(max(limit, 1), MAX_PAGE)
        jobs, total = await self.store.list_jobs([queue], [state], job_type, limit, offset)
        return Page(jobs, total, offset, limit)

    async def promote(self, job_id: str) -> str:
        """Runs a delayed job now; returns its new state (``waiting``)."""
        code, *rest = await self.store.run("promote_job", job_id)
        if int(code) < 0:
            raise error_for(int(code), "run now", job_id, rest[0] if rest else None)
        return str(rest[0])

    async def retry_all_failed(self, queue: str) -> tuple[int, int]:
        """Retries every failed job of a queue, slice by slice; returns (retried, skipped)."""
        self.queues.check(queue)
        retried = skipped = 0
        while True:
            done, passed, left = await self.store.run("retry_all_failed", queue, skipped, RETRY_SLICE)
            retried, skipped = retried + int(done), skipped + int(passed)
            if int(left) <= 0:
                return retried, skipped

    # --- processes and server ---------------------------------------------------------------------------
    async def workers(self) -> list[dict[str, Any]]:
        """Live workers (their heartbeat hash still exists), most recent beat first."""
        async with unavailable_as_error():
            ids = await self.redis.zrange(self.keys.workers(), 0, -1, desc=True)
            pipe = self.redis.pipeline(transaction=False)
            for worker_id in ids:
                pipe.hgetall(self.keys.worker(worker_id))
            infos = await pipe.execute() if ids else []
        now_ms = time.time() * 1000
        out = []
        for info in infos:
            if not info:
                continue  # heartbeat expired: the worker is gone, the ZSET entry is pruned later
            out.append(
                {
                    "id": info.get("id", ""),
                    "host": info.get("host", ""),
                    "pid": info.get("pid", ""),
                    "queues": _json_list(info.get("queues")),
                    "concurrency": int(info.get("concurrency") or 0),
                    "running": int(info.get("running") or 0),
                    "beatAgoS": round(max(now_ms - int(info.get("beat") or 0), 0) / 1000, 1),
                }
            )
        return out

    async def live_worker_count(self) -> int:
        """Workers whose heartbeat hash has not expired."""
        async with unavailable_as_error():
            ids = await self.redis.zrange(self.keys.workers(), 0, -1)
            if not ids:
                return 0
            pipe = self.redis.pipeline(transaction=False)
            for worker_id in ids:
                pipe.exists(self.keys.worker(worker_id))
            return sum(int(n) for n in await pipe.execute())

    async def leader(self) -> dict[str, Any] | None:
        """The scheduler replica holding the leader lease (token host:pid:random), or None."""
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(self.keys.leader())
            pipe.pttl(self.keys.leader())
            pipe.get(self.keys.leader_epoch())
            token, ttl, epoch = await pipe.execute()
        if not token:
            return None
        host, _, rest = str(token).partition(":")
        pid = rest.partition(":")[0]
        return {"token": token, "host": host, "pid": pid, "leaseLeftMs": int(ttl), "epoch": int(epoch or 0)}

    async def memory(self) -> dict[str, Any]:
        """INFO memory, reduced to what an operator looks at."""
        async with unavailable_as_error():
            info = await self.redis.info("memory")
        return {name: info.get(name) for name in MEMORY_FIELDS}

    # --- audit ----------------------------------------------------------------------------------------
    async def audit(self, who: str, action: str, target: str, detail: Any = None, client: str = "") -> None:
        """Records one action (who, what, when) at the head of the capped audit list."""
        record = {"at": int(time.time() * 1000), "who": who, "action": action, "target": target}
        record.update({"detail": detail, "client": client})
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=True)
            pipe.lpush(self.keys.audit(), json.dumps(record, separators=(",", ":")))
            pipe.ltrim(self.keys.audit(), 0, AUDIT_CAP - 1)
            await pipe.execute()

    async def audit_log(self, offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            pipe.lrange(self.keys.audit(), offset, offset + limit - 1)
            pipe.llen(self.keys.audit())
            items, total = await pipe.execute()
        return [json.loads(item) for item in items], int(total)

    # --- events ---------------------------------------------------------------------------------------
    async def latest_event_ids(self, queues: list[str]) -> dict[str, str]:
        """Stream positions to start reading from: only events that happen from now on.

        Real ids, not ``$``: with ``$`` a stream that stayed quiet during one read would skip what
        arrived between two reads. A stream that does not exist yet is read from its start.
        """
        async with unavailable_as_error():
            pipe = self.redis.pipeline(transaction=False)
            for q in queues:
                pipe.xrevrange(self.keys.events(q), "+", "-", count=1)
            replies = await pipe.execute()
        return {self.keys.events(q): (r[0][0] if r else "0-0") for q, r in zip(queues, replies, strict=True)}

    async def read_events(
        self, positions: dict[str, str], block_ms: int, count: int = 500
    ) -> list[StreamEvent]:
        """XREAD BLOCK over the queues' event streams; advances ``positions`` in place.

        Use a client without a socket timeout (``connect(settings, timeout=None)``): the read blocks.
        """
        if not positions:
            return []
        async with unavailable_as_error():
            streams: dict[Any, Any] = dict(positions)
            replies = await self.redis.xread(streams, count=count, block=block_ms)
        events: list[StreamEvent] = []
        for stream, entries in replies or []:
            queue = stream[len(self.keys.prefix) + 3 : -len(":events")]
            for entry_id, fields in entries:
                events.append(StreamEvent(queue, entry_id, fields))
                positions[stream] = entry_id
        return events


def _json_list(text: str | None) -> list[Any]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []
