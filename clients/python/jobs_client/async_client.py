"""``AsyncJobsClient``: the asyncio client. Each method sends one ``Call`` of ``jobs_client.calls`` (where
requests and parsing live) through ``_send``, which retries what the call's ``retryable`` and the
``RetryPolicy`` allow; ``JobsClient`` is its blocking twin, with the same methods and behaviour.

How it fails: an error answer raises its ``ApiError`` subclass; an unreachable api raises
``Unavailable`` (status None) once the retries are spent; ``wait()`` raises ``JobFailed``,
``JobCancelled`` or ``WaitTimeout``. A client is safe to share between threads (httpx's is).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx

from jobs_client import calls
from jobs_client import models as m
from jobs_client.async_events import AsyncEventStream
from jobs_client.calls import AddOptions, Call, Duration, JobSpec
from jobs_client.config import ClientConfig, RetryPolicy, log_retry, outcome_text
from jobs_client.errors import Conflict, NotFound, Unavailable, unreachable
from jobs_client.retry_failed import RetryFailed
from jobs_client.sse import REFETCH, Settled, Subscription, Waiter

T = TypeVar("T")


class AsyncJobsClient:
    """Asyncio client of the jobs API. ``base_url``/``token`` default to ``JOBS_URL``/``JOBS_TOKEN``."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = ClientConfig.resolve(base_url, token, timeout, retry)
        self._own_http = http_client is None
        self._http = http_client or httpx.AsyncClient(**self.config.client_options())  # type: ignore[arg-type]

    async def __aenter__(self) -> AsyncJobsClient:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            response: httpx.Response | None = None
            error: httpx.TransportError | None = None
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.json
                )
            except httpx.TransportError as err:
                error = err
            wait = self.config.retry.delay(call, attempt, response)
            if wait is None:
                if response is None:
                    raise unreachable(self.config.base_url, error) from error
                return call.result(response)
            log_retry(call, attempt, wait, outcome_text(response, error))
            await asyncio.sleep(wait)

    # ---- jobs ---------------------------------------------------------------------------------------

    async def add_job(
        self, type: str, payload: Mapping[str, Any] | None = None, **options: Unpack[AddOptions]
    ) -> m.AddedJob:
        """Adds one job; retried after 429/503 only when ``job_id`` makes it idempotent."""
        return await self._send(calls.add_job(JobSpec(type, payload or {}, **options)))

    async def add_bulk(self, jobs: Iterable[JobSpec | Mapping[str, Any]]) -> list[m.AddedJob]:
        """Adds all jobs atomically (or none); entries are ``JobSpec`` or the API's own JSON."""
        return await self._send(calls.add_bulk(jobs))

    async def get_job(self, job_id: str) -> m.Job:
        return await self._send(calls.get_job(job_id))

    async def list_jobs(
        self,
        queue: str | None = None,
        status: str | Sequence[str] | None = None,
        type: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> m.JobPage:
        return await self._send(calls.list_jobs(queue, status, type, limit, offset))

    async def cancel_job(self, job_id: str) -> m.CancelResult:
        return await self._send(calls.cancel_job(job_id))

    async def retry_job(self, job_id: str) -> m.RetryResult:
        return await self._send(calls.retry_job(job_id))

    async def job_logs(self, job_id: str) -> m.JobLogs:
        return await self._send(calls.job_logs(job_id))

    async def job_token(self, job_id: str) -> m.JobToken:
        """A fresh job-scoped read token for an existing job (needs the master token; 409 on an open API)."""
        return await self._send(calls.job_token(job_id))

    # ---- queues -------------------------------------------------------------------------------------

    async def list_queues(self) -> list[m.QueueStats]:
        return await self._send(calls.list_queues())

    async def get_queue(self, queue: str) -> m.QueueStats:
        return await self._send(calls.get_queue(queue))

    async def pause_queue(self, queue: str) -> m.QueueState:
        return await self._send(calls.pause_queue(queue))

    async def resume_queue(self, queue: str) -> m.QueueState:
        return await self._send(calls.resume_queue(queue))

    async def drain_queue(self, queue: str, *, delayed: bool = False) -> m.DrainResult:
        return await self._send(calls.drain_queue(queue, delayed))

    async def clean_queue(
        self, queue: str, *, status: str = "completed", grace: Duration = 0, limit: int = 1000
    ) -> m.CleanResult:
        return await self._send(calls.clean_queue(queue, status, grace, limit))

    async def retry_failed(self, queue: str, limit: int = 1000) -> m.RetryFailedResult:
        """Retries up to ``limit`` failed jobs of ``queue``, oldest pages last (see ``RetryFailed``)."""
        run = RetryFailed(queue, limit)
        while (page := run.next_page()) is not None:
            run.take(await self._send(page))
            for job_id in run.pending():
                try:
                    await self._send(calls.retry_job(job_id))
                except (Conflict, NotFound) as err:
                    run.skipped(job_id, err)
                else:
                    run.retried(job_id)
        return run.result

    # ---- schedules ----------------------------------------------------------------------------------

    async def list_schedules(self) -> list[m.Schedule]:
        return await self._send(calls.list_schedules())

    async def get_schedule(self, schedule_id: str) -> m.Schedule:
        return await self._send(calls.get_schedule(schedule_id))

    async def create_schedule(
        self,
        type: str,
        schedule: str,
        payload: Mapping[str, Any] | None = None,
        *,
        timezone: str = "UTC",
        schedule_id: str | None = None,
        overlap: str | None = None,
        **options: Unpack[AddOptions],
    ) -> m.Schedule:
        """Creates a recurring job, or updates the one with this ``schedule_id`` (then idempotent)."""
        spec = JobSpec(type, payload or {}, **options)
        return await self._send(calls.create_schedule(spec, schedule, timezone, schedule_id, overlap))

    async def delete_schedule(self, schedule_id: str) -> m.DeletedSchedule:
        return await self._send(calls.delete_schedule(schedule_id))

    async def pause_schedule(self, schedule_id: str) -> m.Schedule:
        return await self._send(calls.pause_schedule(schedule_id))

    async def resume_schedule(self, schedule_id: str) -> m.Schedule:
        return await self._send(calls.resume_schedule(schedule_id))

    # ---- health, events, wait -----------------------------------------------------------------------

    async def health(self) -> m.Health:
        """The health document, also when unhealthy (the api answers 503 with it)."""
        return await self._send(calls.health())

    def events(
        self,
        queue: str | None = None,
        job_id: str | None = None,
        *,
        last_event_id: str | None = None,
        reconnect: bool = True,
    ) -> AsyncEventStream:
        """Job transitions as they happen (``async with`` / ``async for``). Give ``queue`` to resume
        without loss after a reconnect (the api honours ``Last-Event-ID`` per queue)."""
        subscription = Subscription(queue, job_id, last_event_id, self.config.retry)
        return AsyncEventStream(self._http, self.config, subscription, reconnect)

    async def wait(self, job_id: str, timeout: float | None = None) -> Any:  # noqa: ASYNC109 - as in JobsClient
        """The job's result once it completed; raises ``JobFailed``, ``JobCancelled`` (also when a drain
        removed it), ``WaitTimeout`` after ``timeout`` seconds, ``NotFound`` for an unknown job."""
        waiter = Waiter(job_id, timeout, self.config.retry)
        try:
            async with asyncio.timeout(timeout):
                return await self._wait(waiter)
        except TimeoutError:
            if waiter.remaining() == 0.0:
                raise waiter.timed_out() from None
            raise

    async def _wait(self, waiter: Waiter) -> Any:
        while True:
            failure: Unavailable | None = None
            try:
                settled = await self._wait_once(waiter)
            except Unavailable as err:  # the stream dropped, the api restarts, or Redis is down
                settled, failure = None, err
            if settled is not None:
                return settled.unwrap()
            await asyncio.sleep(waiter.reconnect_delay(failure))

    async def _wait_once(self, waiter: Waiter) -> Settled | None:
        """Subscribe, then read the job: a completion before, between or after is never missed."""
        async with self.events(job_id=waiter.job_id, reconnect=False) as stream:
            settled = waiter.on_job(await self.get_job(waiter.job_id))
            if settled is not None:
                return settled
            async for event in stream:
                step = waiter.on_event(event)
                if step is REFETCH:
                    step = waiter.on_job(await self.get_job(waiter.job_id))
                if isinstance(step, Settled):
                    return step
        return None
