"""``wait(job_id, timeout)`` of both clients against a real api and worker: results, failures,
cancellations (also while waiting), drains, timeouts that end on time, and jobs that finished before the
wait began (the subscription then sees nothing: only the read after subscribing can settle it)."""

from __future__ import annotations

import asyncio
import time

import pytest

from clients.py_support import Stack
from jobs_client import AsyncJobsClient, JobCancelled, JobFailed, JobsClient, NotFound, WaitTimeout


def _finished(sdk: JobsClient, job_id: str) -> None:
    """Blocks until the job's terminal event went by, without using wait()."""
    with sdk.events(job_id=job_id) as stream:
        if sdk.get_job(job_id).is_terminal:
            return
        for event in stream:
            if event.is_terminal:
                return


@pytest.mark.timeout(60)
def test_sync_wait_results_failures_timeouts_and_jobs_finished_before_the_wait(py_sdk: JobsClient) -> None:
    assert py_sdk.wait(py_sdk.add_job("echo", {"value": [1, 2]}).job_id, timeout=15) == [1, 2]

    done = py_sdk.add_job("sync-add", {"a": 2, "b": 3}).job_id
    failed = py_sdk.add_job("unrecoverable").job_id
    _finished(py_sdk, done)
    _finished(py_sdk, failed)
    started = time.monotonic()
    assert py_sdk.wait(done, timeout=10) == 5  # no event will come: the read after subscribing settles it
    with pytest.raises(JobFailed) as failure:
        py_sdk.wait(failed, timeout=10)
    assert time.monotonic() - started < 5, "a finished job must not wait for an event"
    assert (failure.value.job_id, failure.value.error) == (failed, "UnrecoverableError: cannot ever work")

    with pytest.raises(NotFound):
        py_sdk.wait("never-added", timeout=5)

    later = py_sdk.add_job("echo", delay=600).job_id
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as timed_out:
        py_sdk.wait(later, timeout=0.5)
    # the stream's reads would block 45 s without the deadline watchdog
    assert 0.5 <= time.monotonic() - started < 5
    assert (timed_out.value.job_id, timed_out.value.status, timed_out.value.timeout) == (
        later,
        "delayed",
        0.5,
    )
    assert isinstance(timed_out.value, TimeoutError)


async def _waiting_on(stack: Stack, job_id: str) -> None:
    """Returns once the waiter subscribed and read the job (its GET is in the api's log)."""
    await asyncio.to_thread(stack.api.wait_for, "request", 10, path=f"/jobs/{job_id}", method="GET")


@pytest.mark.timeout(60)
async def test_async_wait_sees_cancel_drain_failure_timeout_and_finished_jobs(
    py_stack: Stack, py_async_sdk: AsyncJobsClient
) -> None:
    sdk = py_async_sdk
    later = (await sdk.add_job("echo", delay=600)).job_id
    waiting = asyncio.create_task(sdk.wait(later, timeout=20))
    await _waiting_on(py_stack, later)
    await sdk.cancel_job(later)
    with pytest.raises(JobCancelled) as cancelled:
        await waiting
    assert cancelled.value.status == "cancelled"

    await sdk.pause_queue("scheduled")
    held = (await sdk.add_job("echo", queue="scheduled")).job_id
    waiting = asyncio.create_task(sdk.wait(held, timeout=20))
    await _waiting_on(py_stack, held)
    assert (await sdk.drain_queue("scheduled")).removed == 1
    with pytest.raises(JobCancelled) as removed:
        await waiting
    assert removed.value.status == "removed"

    retried = (await sdk.add_job("fail", {"message": "no luck"}, attempts=2, retry_delay=0.05)).job_id
    with pytest.raises(JobFailed, match="no luck"):  # the first failure is retried, the second is final
        await sdk.wait(retried, timeout=20)
    assert (await sdk.get_job(retried)).attempts == 2

    assert await sdk.wait((await sdk.add_job("sleep", {"ms": 100, "steps": 2})).job_id, timeout=20) == {
        "slept": 0.1
    }

    late = (await sdk.add_job("echo", delay=600)).job_id
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as timed_out:
        await sdk.wait(late, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 5 and timed_out.value.status == "delayed"

    done = (await sdk.add_job("noop")).job_id
    async with sdk.events(job_id=done) as stream:
        if not (await sdk.get_job(done)).is_terminal:
            async for event in stream:
                if event.is_terminal:
                    break
    assert await sdk.wait(done, timeout=10) == {"ok": True}
