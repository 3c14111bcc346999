"""The worker process: arq's ``Worker`` as the shell (signals, graceful wait, pool, hooks) with our own
event-driven claim loop instead of arq's poll.

Loop: claim up to the free slots (plus the prefetch, see jobs_worker.prefetch) from every served queue
in one script call (no Redis round trip per job), start a task per try, then sleep until woken by: a
token pushed by ``enqueue`` (BLPOP), a freed slot when the last claim left jobs in Redis,
the due time of the next delayed job or retry, a control broadcast (resume), or the fallback poll.
A slot is freed when the processor returns; its outcome is written in batches meanwhile
(jobs_worker.finisher), overlapping with the next jobs. Leases are renewed every lease/3; a try whose
lease is lost is cancelled here, since another worker may already run it. If Redis stays unreachable
for longer than a lease, every running try is cancelled for the same reason (self-fencing).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import time
import uuid
from typing import Any

from arq import Worker
from arq.connections import ArqRedis
from arq.worker import func

from jobs_core.logging import get_logger
from jobs_core.redis_conn import UNREACHABLE, connect
from jobs_core.store import JobStore
from jobs_worker.background import Background
from jobs_worker.deadlines import Deadlines
from jobs_worker.execution import Execution, Interrupts
from jobs_worker.finisher import Finisher
from jobs_worker.job import Claimed
from jobs_worker.prefetch import Prefetch
from jobs_worker.processors import Processor
from jobs_worker.settings import WorkerSettings

log = get_logger("jobs_worker")
CLAIM_ROW = 12


async def _never_called(ctx: dict[str, Any]) -> None:
    """arq insists on one registered function; jobs run through our own execution path."""


class JobsWorker(Worker):
    def __init__(self, settings: WorkerSettings, processors: dict[str, Processor]) -> None:
        self.settings = settings
        # arq's pool type, made where every client is made (Sentinel, TLS and ACL settings included).
        pool = connect(settings, timeout=10, client_class=ArqRedis)
        self.store = JobStore(pool, settings)
        super().__init__(
            functions=[func(_never_called, name="jobs worker")],
            queue_name=self.store.keys.ready(settings.served_queues[0]),
            redis_pool=pool,
            # JOBS_MAX_JOBS_PER_WORKER caps what one process holds at once, whatever the concurrency.
            max_jobs=min(settings.concurrency, settings.max_jobs_per_worker),
            job_completion_wait=max(int(settings.shutdown_grace), 1) if settings.shutdown_grace else 0,
            handle_signals=True,
        )
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.queues = list(settings.served_queues)
        self.wakeup = asyncio.Event()
        self.interrupts = Interrupts()
        self.running: dict[str, Claimed] = {}
        self.executing: set[str] = set()  # tries whose processor runs now (Claimed.key): the slots in use
        self.claiming = 0  # tries asked for by claims under way (reserved)
        self.prefetch = Prefetch(min(settings.prefetch, self.max_jobs), self.max_jobs)
        self.last_claim_full = False
        self.next_due_ms = -1
        self.finisher = Finisher(
            self.store, lambda: len(self.executing), self._retry_due, settings.lease_ms / 1000, self.max_jobs
        )
        self.execution = Execution(
            self.store, self.finisher, processors, self.interrupts, settings.log_completed, self._ran
        )
        self.execution.deadlines = Deadlines(self._timed_out)
        self.execution.written = self._written
        self.finisher.riding_claim = self
        self.finisher.on_redis = self._redis_answered
        self.background = Background(self)
        self.loop_tick = time.monotonic()
        self.ready = False
        self.redis_ok = False  # outcome of the last claim, lease renewal or outcome write (readiness)
        self.probe_port: int | None = None  # set by main once the probe server listens
        self._rotation = 0

    # --- main loop ----------------------------------------------------------------------------------
    async def main(self) -> None:
        if self.on_startup:
            await self.on_startup(self.ctx)
        await self.background.start(connect(self.settings, timeout=None))
        self.ready = True
        log.info(
            "service_ready",
            probe_port=self.probe_port,
            worker_id=self.worker_id,
            queues=self.queues,
            concurrency=self.max_jobs,
            processors=sorted(self.execution.processors),
        )
        while True:
            self.loop_tick = time.monotonic()
            self.wakeup.clear()
            if self.allow_pick_jobs:
                await self._claim_safely()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), self._sleep_s())

    def _sleep_s(self) -> float:
        sleep = self.settings.poll_interval
        if self.next_due_ms >= 0:
            sleep = min(sleep, max(self.next_due_ms - time.time() * 1000 + 0.5, 0) / 1000)
        return sleep

    async def _claim_safely(self) -> None:
        try:
            await self._claim()
        except UNREACHABLE as err:
            self.redis_ok = False
            log.warning("claim_failed", error=str(err))
            await asyncio.sleep(0.5)

    def _wanted(self) -> int:
        """How many tries to claim now: the free slots and prefetch places not already asked for."""
        if self.claiming:
            # One claim at a time: replies of two claims can be read in either order, and the tries must
            # start in the order Redis claimed them (priority, then FIFO).
            return 0
        capacity = self.max_jobs + self.prefetch.extra()
        want = capacity - len(self.executing) - len(self.prefetch.held) - self.claiming
        busy = self.executing or self.prefetch.held or self.claiming
        # Short jobs: claim in quarters of what the worker holds, not one slot at a time, so that a
        # claim carries many jobs while the worker runs the ones it has.
        if want <= 0 or (busy and want < self.prefetch.batch()):
            return 0
        return want

    def _claim_args(self, want: int) -> list[Any]:
        self._rotation = (self._rotation + 1) % len(self.queues)
        order = self.queues[self._rotation :] + self.queues[: self._rotation]
        return [self.worker_id, self.settings.lease_ms, want, self.settings.max_stalls, *order]

    async def _claim(self) -> None:
        want = self._wanted()
        if not want:
            self.last_claim_full = True
            return
        self.claiming += want
        claim = asyncio.ensure_future(self.store.run("claim", *self._claim_args(want)))
        try:
            raw = await asyncio.shield(claim)
        except asyncio.CancelledError:
            # Shutdown hit while the script ran: its tries are ours in Redis, so hand them back.
            self._hand_back(await claim)
            raise
        finally:
            self.claiming -= want
        self._took(raw)

    def _redis_answered(self, ok: bool) -> None:
        self.redis_ok = ok

    def _took(self, raw: list[Any]) -> None:
        self.redis_ok = True
        self.next_due_ms, self.last_claim_full = int(raw[0]), bool(int(raw[1]))
        for claimed in self._rows(raw):
            self.prefetch.hold(claimed)
        self._start_held()

    def _hand_back(self, raw: list[Any]) -> None:
        for claimed in self._rows(raw):
            self.finisher.add("requeue", claimed.id, claimed.token)

    # --- claims riding on completion batches (jobs_worker.finisher.RidingClaim) ----------------------
    def request(self) -> tuple[int, list[Any]] | None:
        want = self._wanted() if self.allow_pick_jobs else 0
        if not want:
            return None
        self.claiming += want
        return want, self._claim_args(want)

    def reply(self, reserved: int, raw: Any) -> None:
        self.claiming -= reserved
        if raw is None:
            return
        if self.allow_pick_jobs:
            self._took(raw)
        else:  # stopping: close() writes these hand-backs with the rest
            self._hand_back(raw)

    def _start_held(self) -> None:
        # Once stopping, prefetched tries stay unstarted: close() hands them back untouched.
        while self.allow_pick_jobs and len(self.executing) < self.max_jobs:
            claimed = self.prefetch.next()
            if claimed is None:
                return
            self._start(claimed)

    @staticmethod
    def _rows(raw: list[Any]) -> list[Claimed]:
        return [
            Claimed.from_row(raw[3 + i * CLAIM_ROW : 3 + (i + 1) * CLAIM_ROW]) for i in range(int(raw[2]))
        ]

    def _start(self, claimed: Claimed) -> None:
        # Tasks are keyed by try (Claimed.key), ``running`` by job: the job's newest try. A job can be claimed
        # again by this very worker while its older try still runs (the lease ran out during a Redis
        # outage or a stalled loop); that older try is over, since the claim gave the job a new token.
        older = self.running.get(claimed.id)
        if older is not None and self.interrupt_try(older, lost=True):
            log.warning("lease_lost", job_id=claimed.id, reason="claimed again by this worker")
        self.running[claimed.id] = claimed
        self.executing.add(claimed.key)
        task = self.loop.create_task(self.execution.run(claimed))
        self.tasks[claimed.key] = task
        task.add_done_callback(functools.partial(self._finished, claimed))

    def _ran(self, claimed: Claimed, seconds: float) -> None:
        """The processor returned (its outcome is being written): the slot is free for the next try."""
        self.prefetch.ran(seconds)
        self._release(claimed)

    def _release(self, claimed: Claimed) -> None:
        if claimed.key not in self.executing:
            return
        self.executing.discard(claimed.key)
        self._start_held()
        if self.last_claim_full:  # jobs were left in Redis: claim them into the slot (or the prefetch)
            self.wakeup.set()

    def _written(self, claimed: Claimed) -> None:
        """The try is over: its outcome is in Redis (or given up), or it was interrupted."""
        if self.running.get(claimed.id) is claimed:  # not a newer try of the same job
            del self.running[claimed.id]

    def _finished(self, claimed: Claimed, task: asyncio.Task[None]) -> None:
        self.tasks.pop(claimed.key, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("job_task_error", job_id=claimed.id, error=repr(task.exception()))
        if claimed.key not in self.interrupts.finishing:  # no outcome waiting to be written
            # A task cancelled before its processor ran never reported _ran nor _written.
            self._written(claimed)
            self._release(claimed)

    def _retry_due(self, due_ms: int) -> None:
        if self.next_due_ms < 0 or due_ms < self.next_due_ms:
            self.next_due_ms = due_ms
            self.wakeup.set()

    # --- control ------------------------------------------------------------------------------------
    def interrupt(self, job_id: str, lost: bool) -> bool:
        """Interrupts the running try of this job (see :meth:`interrupt_try`), or forgets it if it
        was prefetched and not started."""
        if self.prefetch.drop(job_id) is not None:
            return True
        claimed = self.running.get(job_id)
        return claimed is not None and self.interrupt_try(claimed, lost)

    def interrupt_try(self, claimed: Claimed, lost: bool) -> bool:
        """Cancels the task of a try that was cancelled (by a user) or lost (lease taken over); False when
        there is nothing to interrupt: the task ended, or its processor already returned and its outcome
        is being written (Redis refuses that write if the try no longer owns the job)."""
        task = self.tasks.get(claimed.key)
        if task is None or task.done() or claimed.key in self.interrupts.finishing:
            return False
        (self.interrupts.lost if lost else self.interrupts.cancelled).add(claimed.key)
        task.cancel()
        return True

    def _timed_out(self, key: str) -> None:
        """A try ran past its job's timeout: cancelled, and failed (or retried) as timed out."""
        task = self.tasks.get(key)
        if task is None or task.done() or key in self.interrupts.finishing:
            return
        self.interrupts.timed_out.add(key)
        task.cancel()

    def wake(self, queue: str | None = None) -> None:
        if queue is None or queue in self.queues:
            self.wakeup.set()

    # --- shutdown -----------------------------------------------------------------------------------
    async def close(self) -> None:
        """Waits for the tries (arq cancelled the ones past the grace), writes their outcomes, exits."""
        self.ready = False
        self.allow_pick_jobs = False
        for claimed in self.prefetch.take_all():  # never started: handed back untouched
            self.finisher.add("requeue", claimed.id, claimed.token)
        for task in list(self.tasks.values()):
            if not task.done():
                task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.finisher.drain()
        await self.background.stop()
        try:
            await super().close()  # arq deletes its health key first: that fails while Redis is down
        except UNREACHABLE as err:
            log.warning("redis_unreachable_at_close", error=str(err))
            await self.pool.close(close_connection_pool=True)
        log.info("worker_stopped", worker_id=self.worker_id)
