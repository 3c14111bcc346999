"""Prefetched tries: claimed from Redis but not started yet, so that a slot freed by a finished job is
filled at once, while that job's outcome is written and the next claim runs in Redis at the same time
(the worker and Redis overlap instead of taking turns).

A prefetched try is active in Redis with a lease that the worker renews, exactly as a running one; a
cancel or a lost lease drops it before it starts, and shutdown hands it back untouched (requeue). To
keep jobs from waiting idle in one worker while another is free, tries are prefetched only while the
jobs this worker ran recently were short (mean run time under ``SHORT_S``): then a prefetched try
waits a few milliseconds at most. With long jobs nothing is prefetched.
"""

from __future__ import annotations

from jobs_worker.job import Claimed

SHORT_S = 0.05
QUARTERS = 4
WEIGHT = 0.05  # of each new run time in the moving mean: about the last 20 jobs


class Prefetch:
    def __init__(self, limit: int, slots: int) -> None:
        self.limit = limit
        self.slots = slots
        self.held: dict[str, Claimed] = {}  # by job id, in claim order
        self.mean_run_s: float | None = None  # unknown until a job ran: nothing is prefetched before

    def ran(self, seconds: float) -> None:
        mean = self.mean_run_s
        self.mean_run_s = seconds if mean is None else mean + WEIGHT * (seconds - mean)

    def extra(self) -> int:
        """How many tries the worker may hold beyond its slots now: the limit while jobs are short."""
        if self.mean_run_s is None or self.mean_run_s >= SHORT_S:
            return 0
        return self.limit

    def batch(self) -> int:
        """The smallest claim worth a round trip while jobs run: a quarter of what the worker can hold
        while prefetching, else 1 (long jobs: a freed slot is filled at once)."""
        if not self.extra() and not self.held:
            return 1
        return max((self.slots + self.limit) // QUARTERS, 1)

    def hold(self, claimed: Claimed) -> None:
        self.held[claimed.id] = claimed

    def next(self) -> Claimed | None:
        if not self.held:
            return None
        job_id = next(iter(self.held))
        return self.held.pop(job_id)

    def drop(self, job_id: str, token: str | None = None) -> Claimed | None:
        """Forgets a held try (cancelled, lease lost); with a token, only that try of the job."""
        claimed = self.held.get(job_id)
        if claimed is None or (token is not None and claimed.token != token):
            return None
        return self.held.pop(job_id)

    def take_all(self) -> list[Claimed]:
        tries, self.held = list(self.held.values()), {}
        return tries
