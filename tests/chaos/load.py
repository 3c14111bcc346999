"""Pushing the workload through the api processes, and cancelling jobs of the ``cancel`` kind mid-run.

A job counts as acknowledged when an api answered 201 or 200 for the request holding it. Requests that
fail (connection refused or reset, timeout, 503 while Redis is down, 429 when a queue is full) are sent
again with the same job ids until answered or until the run's deadline; any other status is a defect of
the api and stops the run. Send times come from the workload (time-driven, seeded); the requests of a
late batch simply go out late.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from chaos.workload import Batch, Workload

RETRYABLE = (aiohttp.ClientError, TimeoutError)


class LoadError(AssertionError):
    """The api answered something no retry can fix (a 4xx for a valid request, a 500)."""


@dataclass(frozen=True)
class Ack:
    http: int  # 201 created, 200 existed already (a retried request that had been stored)
    state: str  # the job's state in the answer
    at: float  # unix seconds


class ApiPool:
    """The api processes, used round robin; ``call`` returns (status, JSON body, headers)."""

    def __init__(self, ports: list[int]) -> None:
        self.bases = [f"http://127.0.0.1:{p}" for p in ports]
        timeout = aiohttp.ClientTimeout(total=15)
        self.session = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=64))
        self._next = 0

    async def call(self, method: str, path: str, json: Any = None) -> tuple[int, Any, dict[str, str]]:
        self._next += 1
        base = self.bases[self._next % len(self.bases)]
        async with self.session.request(method, base + path, json=json) as response:
            body = await response.json(content_type=None)
            return response.status, body, dict(response.headers)

    async def close(self) -> None:
        await self.session.close()


class LoadGenerator:
    def __init__(
        self, pool: ApiPool, workload: Workload, senders: int, on_ack: Callable[[int], None] | None = None
    ) -> None:
        self.pool = pool
        self.on_ack = on_ack  # called with the number of jobs acknowledged so far
        self.workload = workload
        self.senders = senders
        self.acks: dict[str, Ack] = {}
        self.retries: Counter[str] = Counter()
        self.requests = 0
        self.deadline = float("inf")

    async def run(self, started: float, deadline: float) -> None:
        """Sends every batch at its time (``started`` + at_s), ``senders`` requests at a time."""
        self.deadline = deadline
        todo: asyncio.Queue[Batch] = asyncio.Queue()
        for batch in self.workload.batches:
            todo.put_nowait(batch)

        async def sender() -> None:
            while not todo.empty():
                batch = todo.get_nowait()
                await asyncio.sleep(max(started + batch.at_s - time.time(), 0))
                await self.send(batch)

        await asyncio.gather(*(sender() for _ in range(self.senders)))

    async def send(self, batch: Batch) -> bool:
        """True once acknowledged; False when the deadline passed first."""
        path = "/schedule" if batch.single else "/schedule/bulk"
        body: Any = batch.jobs[0].body if batch.single else {"jobs": [j.body for j in batch.jobs]}
        delay = 0.05
        while time.time() < self.deadline:
            self.requests += 1
            try:
                status, answer, headers = await self.pool.call("POST", path, body)
            except RETRYABLE as err:
                self.retries[type(err).__name__] += 1
            else:
                if status in (200, 201):
                    self._ack(batch, status, answer)
                    return True
                if status not in (429, 503):
                    raise LoadError(f"POST {path} answered {status}: {answer}")
                self.retries[str(status)] += 1
                if status == 429:
                    delay = float(headers.get("Retry-After", 1))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        return False

    def _ack(self, batch: Batch, status: int, answer: dict[str, Any]) -> None:
        items = [answer] if batch.single else answer["jobs"]
        now = time.time()
        expected = [job.id for job in batch.jobs]
        if [item["jobId"] for item in items] != expected:
            raise LoadError(f"the api answered other ids than it was sent: {items[:2]} …")
        for item in items:
            self.acks[item["jobId"]] = Ack(status, item["status"], now)
        if self.on_ack is not None:
            self.on_ack(len(self.acks))


class Canceller:
    """Cancels each job of the ``cancel`` kind once an event says it is active (mid-run).

    ``results`` maps job id to what the api said: ``cancelled`` (200), or the finished state a 409 named
    (the job completed first, or an earlier try of this very cancel had been applied already)."""

    def __init__(self, pool: ApiPool, ids: set[str]) -> None:
        self.pool = pool
        self.pending = set(ids)
        self.results: dict[str, str] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def on_event(self, queue: str, fields: dict[str, str]) -> None:
        job_id = fields.get("job", "")
        if fields.get("to") == "active" and job_id in self.pending:
            self.pending.discard(job_id)
            task = asyncio.get_running_loop().create_task(self.cancel(job_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def cancel(self, job_id: str) -> None:
        delay = 0.05
        while True:
            try:
                status, answer, _ = await self.pool.call("DELETE", f"/jobs/{job_id}")
            except RETRYABLE:
                status, answer = 0, None
            if status == 200:
                self.results[job_id] = "cancelled"
                return
            if status == 409:
                self.results[job_id] = answer["error"]["details"]["status"]
                return
            if status not in (0, 503):
                raise LoadError(f"DELETE /jobs/{job_id} answered {status}: {answer}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))
