"""Running one claimed try: look up the processor, enforce the timeout, turn the outcome into the
transition the finisher writes (complete, fail, retry_later, requeue).

Exceptions from a processor never escape: each becomes a failed try with its message and stack. A try
interrupted by a cancel or by losing its lease writes nothing (Redis already ended it); a try
interrupted by shutdown is handed back (requeue) so that another worker runs it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jobs_core.logging import get_logger
from jobs_core.model import backoff_ms
from jobs_core.store import JobStore
from jobs_worker.deadlines import Deadlines
from jobs_worker.finisher import Finisher
from jobs_worker.job import Claimed, Job, UnrecoverableError

log = get_logger("jobs_worker.execution")
STACK_LIMIT = 8000


@dataclass
class Interrupts:
    """Why a running try's task was cancelled (a user cancel, a lost lease, or shutdown), and which tries
    are past their processor (``finishing``): those only wait for their outcome to be written and are
    never interrupted; the transition scripts fence that write if the try was ended meanwhile. Tries are
    named by ``Claimed.key``: two tries of one job can overlap on one worker (see JobsWorker._start)."""

    cancelled: set[str] = field(default_factory=set)
    lost: set[str] = field(default_factory=set)
    timed_out: set[str] = field(default_factory=set)
    finishing: set[str] = field(default_factory=set)


class Observer:
    """Hooks for this process's metrics (jobs_worker.probes); the default does nothing."""

    def started(self, claimed: Claimed) -> None:
        pass

    def finished(self, claimed: Claimed, kind: str, seconds: float) -> None:
        """kind: complete, fail, retry_later, requeue, or interrupted (cancelled or lease lost)."""


@dataclass
class Execution:
    store: JobStore
    finisher: Finisher
    processors: dict[str, Callable[[Job], Awaitable[Any]]]
    interrupts: Interrupts
    log_completed: bool = True
    # Told when the processor has returned, before the outcome is written: the slot is free then.
    ran: Callable[[Claimed, float], None] = lambda claimed, seconds: None
    # Told when the try's outcome is in Redis (or given up): the try is over for the worker.
    written: Callable[[Claimed], None] = lambda claimed: None
    observer: Observer = field(default_factory=Observer)
    deadlines: Deadlines = field(default_factory=lambda: Deadlines(lambda key: None))

    async def run(self, claimed: Claimed) -> None:
        """Runs the processor and hands the outcome to the finisher; the task ends there, and the try
        ends for the worker (``written``) once the finisher's batch is in Redis."""
        started = time.monotonic()
        self.observer.started(claimed)
        outcome = await self._outcome(claimed)
        # No await since the processor returned: from here on the try is finishing (see Interrupts).
        self.interrupts.finishing.add(claimed.key)
        seconds = time.monotonic() - started
        try:
            self.observer.finished(claimed, outcome[0] if outcome else "interrupted", seconds)
            if outcome is not None:
                self._hand_over(claimed, outcome, seconds)
                return
        except BaseException:
            self._over(claimed)
            raise
        self.ran(claimed, seconds)
        self._over(claimed)

    def _over(self, c: Claimed) -> None:
        i = self.interrupts
        for pending in (i.finishing, i.cancelled, i.lost, i.timed_out):
            pending.discard(c.key)
        self.written(c)

    def _hand_over(
        self, c: Claimed, outcome: tuple[str, tuple[Any, ...], dict[str, Any]], seconds: float
    ) -> None:
        """Buffers the outcome; a callback on the batch's future ends the try once it is written (no
        await per job: a shielded wait cost a future and a task wake-up per job)."""
        kind, args, fields = outcome
        duration_ms = int(seconds * 1000)
        if kind in ("complete", "fail"):
            args = (*args, duration_ms)
        done = self.finisher.add(kind, c.id, c.token, *args)
        # A finished job frees its slot at once (after the add: the finisher counts this try among those
        # still running). One going back to the ready set (retry, requeue) frees it once written, so that
        # the next claim sees it in its priority band.
        ends = kind in ("complete", "fail")
        if ends:
            self.ran(c, seconds)
        if kind != "complete" or self.log_completed:
            self._log(c, kind, duration_ms, fields)
        done.add_done_callback(functools.partial(self._written, c, ends, seconds))

    def _written(self, c: Claimed, ends: bool, seconds: float, done: asyncio.Future[None]) -> None:
        error = None if done.cancelled() else done.exception()
        if error is not None:  # the finisher gave up (finish_batch_lost): the try runs again elsewhere
            log.warning(
                "outcome_not_written",
                job_id=c.id,
                queue=c.queue,
                type=c.type,
                attempt=c.attempt,
                error=str(error),
            )
        if not ends:
            self.ran(c, seconds)
        self._over(c)

    async def _outcome(self, c: Claimed) -> tuple[str, tuple[Any, ...], dict[str, Any]] | None:
        processor = self.processors.get(c.type)
        if processor is None:
            reason = f"no processor registered for job type {c.type!r} (see JOBS_PROCESSOR_MODULES)"
            return "fail", (reason, ""), {"error": reason}
        try:
            job = Job(c, self.store, json.loads(c.payload) if c.payload not in ("", "{}") else {})
            self.deadlines.add(c.key, c.timeout_ms / 1000)
            try:
                result = await processor(job)
            finally:
                self.deadlines.remove(c.key)
            return (
                "complete",
                ("null" if result is None else json.dumps(result, default=_unserializable),),
                {},
            )
        except asyncio.CancelledError as err:
            if c.key in self.interrupts.timed_out:
                return self._failed(c, f"timed out after {c.timeout_ms} ms", _stack(err))
            return self._interrupted(c)
        except UnrecoverableError as err:
            return "fail", (_message(err), _stack(err)), {"error": _message(err)}
        except _Unserializable as err:
            return "fail", (str(err), ""), {"error": str(err)}
        except Exception as err:  # the processor's failure, whatever it is, is this try's outcome
            return self._failed(c, _message(err), _stack(err))

    def _interrupted(self, c: Claimed) -> tuple[str, tuple[Any, ...], dict[str, Any]] | None:
        if c.key in self.interrupts.cancelled or c.key in self.interrupts.lost:
            log.info("job_interrupted", job_id=c.id, queue=c.queue, type=c.type, attempt=c.attempt)
            return None
        return "requeue", (), {}

    @staticmethod
    def _failed(c: Claimed, error: str, stack: str) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        if c.attempt >= c.max_attempts:
            return "fail", (error, stack), {"error": error}
        delay = backoff_ms(c.backoff, c.backoff_delay, c.attempt)
        return "retry_later", (error, stack, delay), {"error": error, "retry_in_ms": delay}

    @staticmethod
    def _log(c: Claimed, kind: str, duration_ms: int, fields: dict[str, Any]) -> None:
        outcome = {"complete": "completed", "fail": "failed", "retry_later": "retry", "requeue": "requeued"}
        bound = log.bind(job_id=c.id, queue=c.queue, type=c.type, attempt=c.attempt, duration_ms=duration_ms)
        if kind == "complete":
            bound.info("job_finished", outcome="completed")
        else:
            bound.warning("job_finished", outcome=outcome[kind], **fields)


class _Unserializable(TypeError):
    pass


def _unserializable(value: Any) -> Any:
    raise _Unserializable(f"result is not JSON serializable: {type(value).__name__}")


def _message(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _stack(err: BaseException) -> str:
    return "".join(traceback.format_exception(err))[-STACK_LIMIT:]
