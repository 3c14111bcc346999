"""``retry_failed(queue, limit)``, computed by the client: the API retries one job per call
(``POST /jobs/:id/retry``) and has no "retry every failed job of a queue" endpoint, so the clients page
through the queue's failed jobs and retry each. This class holds the bookkeeping, the clients the I/O.

Pages are read newest first. A retried job leaves the failed list; a refused one (409: its dependency
failed, or someone retried it first; 404: deleted meanwhile) stays and is reported in ``skipped``, so the
next page starts after the refused ones. ``limit`` counts retried jobs; refused ones do not use it up.
Ids already handled are never retried twice, even if a job fails again while the run goes on, and a
page with nothing new ends the run.
"""

from __future__ import annotations

from jobs_client import calls
from jobs_client.calls import Call
from jobs_client.errors import ApiError
from jobs_client.models import JobPage, RetryFailedResult

PAGE = 100


class RetryFailed:
    def __init__(self, queue: str, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.queue = queue
        self.limit = limit
        self.result = RetryFailedResult(queue=queue, retried=[], skipped=[])
        self._seen: set[str] = set()
        self._pending: list[str] = []
        self._done = False

    def _left(self) -> int:
        return self.limit - len(self.result.retried)

    def next_page(self) -> Call[JobPage] | None:
        """The next list call, or None when the run is over."""
        if self._done or self._left() <= 0:
            return None
        size = min(PAGE, self._left())
        return calls.list_jobs(self.queue, "failed", None, size, len(self.result.skipped))

    def take(self, page: JobPage) -> None:
        fresh = [job.job_id for job in page.jobs if job.job_id not in self._seen]
        self._pending = fresh
        self._done = not fresh

    def pending(self) -> list[str]:
        """Ids of the page to retry now (a page never holds more than ``limit`` still allows)."""
        return list(self._pending)

    def retried(self, job_id: str) -> None:
        self._seen.add(job_id)
        self.result.retried.append(job_id)

    def skipped(self, job_id: str, error: ApiError) -> None:
        self._seen.add(job_id)
        self.result.skipped.append({"jobId": job_id, "reason": error.message})
