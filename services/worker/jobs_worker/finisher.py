"""Batched end-of-try writes: outcomes of many jobs go to Redis in one script call per transition.

A try stays the worker's (its lease renewed) until the batch holding its outcome is written, so that
"finished" always means "finished in Redis"; its slot is freed earlier (see jobs_worker.worker). A batch
is written as soon as every running job has an outcome waiting, when it reaches a quarter of the slots
(so that with many short jobs Redis writes while the worker runs the rest) or ``MAX_BATCH`` entries, or
``LINGER_S`` after its first entry, whichever comes first. If Redis
is unreachable the batch is retried until the leases would have expired; after that the tries are left
to be re-run elsewhere (at-least-once), and waiting jobs are released with the error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from jobs_core.logging import get_logger
from jobs_core.redis_conn import UNREACHABLE
from jobs_core.store import JobStore

MAX_BATCH = 128
LINGER_S = 0.002
KINDS = ("complete", "fail", "retry_later", "requeue")
# Script arguments per try of each kind (Execution adds them flat): id, token and the kind's own.
WIDTH = {"complete": 4, "fail": 5, "retry_later": 5, "requeue": 2}

log = get_logger(__name__)


class RidingClaim(Protocol):
    """The worker's side of a claim sent in the same round trip as a batch of completions: Redis runs
    it right after them, and the worker gets new jobs as it learns that the old ones are written."""

    def request(self) -> tuple[int, list[Any]] | None:
        """(slots reserved, claim arguments), or None when the worker wants no job now."""

    def reply(self, reserved: int, raw: Any) -> None:
        """The claim's reply, or None when the round trip failed (the reservation is released)."""


class Finisher:
    def __init__(
        self,
        store: JobStore,
        in_flight: Callable[[], int],
        on_retry_due: Callable[[int], None],
        give_up_after_s: float,
        slots: int = 1,
    ) -> None:
        self.store = store
        self.in_flight = in_flight
        self.on_retry_due = on_retry_due
        self.give_up_after_s = give_up_after_s
        self.riding_claim: RidingClaim | None = None
        # Told whether Redis answered each write (the worker's readiness): with claims riding on these
        # writes, they may be the worker's only Redis calls for a while.
        self.on_redis: Callable[[bool], None] = lambda ok: None
        # A quarter of the slots: with many short jobs, Redis starts writing while the worker runs the rest.
        self.split = max(1, min(MAX_BATCH, slots // 4))
        self._batch: dict[str, list[Any]] = {k: [] for k in KINDS}
        self._size = 0
        self._done: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    def add(self, kind: str, *args: Any) -> asyncio.Future[None]:
        """Buffers one outcome; the returned future resolves once it is written."""
        self._batch[kind].extend(args)
        self._size += 1
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        done = self._done
        if self._size >= self.split or self._size >= self.in_flight():
            self.flush_soon()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(LINGER_S, self.flush_soon)
        return done

    def flush_soon(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._size == 0 or self._done is None:
            return
        batch, done = self._batch, self._done
        self._batch, self._size, self._done = {k: [] for k in KINDS}, 0, None
        task = asyncio.get_running_loop().create_task(self._write(batch, done))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def drain(self) -> None:
        """Writes whatever is buffered and waits for every write under way (shutdown)."""
        while True:  # a claim riding on a batch may hand tries back while we wait (shutdown)
            self.flush_soon()
            if not self._flushes:
                return
            await asyncio.gather(*self._flushes, return_exceptions=True)

    async def _write(self, batch: dict[str, list[Any]], done: asyncio.Future[None]) -> None:
        deadline = time.monotonic() + self.give_up_after_s
        while True:
            try:
                await self._write_once(batch)
                self.on_redis(True)
                done.set_result(None)
                return
            except UNREACHABLE as err:
                self.on_redis(False)
                if time.monotonic() > deadline:
                    unwritten = sum(len(args) // WIDTH[kind] for kind, args in batch.items())
                    log.error("finish_batch_lost", error=str(err), jobs=unwritten)
                    done.set_exception(err)
                    return
                await asyncio.sleep(0.25)
            except Exception as err:  # a script error must not leave tries waiting forever
                log.exception("finish_batch_failed")
                done.set_exception(err)
                return

    async def _write_once(self, batch: dict[str, list[Any]]) -> None:
        settings = self.store.settings
        if batch["complete"]:
            complete = [settings.keep_completed, settings.keep_completed_age * 1000, *batch["complete"]]
            await self._complete_and_claim(complete)
            batch["complete"] = []
        if batch["fail"]:
            await self.store.run(
                "fail", settings.keep_failed, settings.keep_failed_age * 1000, *batch["fail"]
            )
            batch["fail"] = []
        if batch["retry_later"]:
            due = int(await self.store.run("retry_later", *batch["retry_later"]))
            batch["retry_later"] = []
            if due >= 0:
                self.on_retry_due(due)
        if batch["requeue"]:
            await self.store.run("requeue", *batch["requeue"])
            batch["requeue"] = []

    async def _complete_and_claim(self, complete: list[Any]) -> None:
        claim = self.riding_claim.request() if self.riding_claim else None
        if claim is None:
            await self.store.run("complete", *complete)
            return
        reserved, claim_args = claim
        raw = None
        try:
            _, raw = await self.store.run_pipelined(("complete", complete), ("claim", claim_args))
        finally:
            assert self.riding_claim is not None
            self.riding_claim.reply(reserved, raw)
