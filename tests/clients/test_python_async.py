"""``AsyncJobsClient`` against a real api and worker: the same methods as the blocking client, and the
event stream: typed events in order, resumption with Last-Event-ID, and a reconnect across an api
restart that loses nothing."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

import pytest
from httpx_sse import ServerSentEvent

from clients.py_support import api_url
from jobs_client import AsyncEventStream, AsyncJobsClient, Event, JobsClient, JobSpec, RetryPolicy
from jobs_client.sse import REFETCH, Waiter, parse_event
from support.processes import Service
from support.redis_server import free_port


def _public(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


def test_both_clients_have_the_same_methods() -> None:
    assert _public(JobsClient) - {"close"} == _public(AsyncJobsClient) - {"aclose"}
    for name in _public(JobsClient) - {"close", "events"}:
        assert inspect.iscoroutinefunction(getattr(AsyncJobsClient, name)), name
        sync_params = inspect.signature(getattr(JobsClient, name)).parameters
        assert list(sync_params) == list(inspect.signature(getattr(AsyncJobsClient, name)).parameters), name


async def _until(stream: AsyncEventStream, job_id: str, state: str, timeout: float = 15) -> list[Event]:
    """Events of the stream up to the one that takes ``job_id`` to ``state``."""
    seen: list[Event] = []
    async with asyncio.timeout(timeout):
        async for event in stream:
            seen.append(event)
            if (event.job_id, event.to_state) == (job_id, state):
                return seen
    raise AssertionError(f"stream ended before {job_id} reached {state}")


@pytest.mark.timeout(60)
async def test_async_calls_and_events_resumed_with_last_event_id(py_async_sdk: AsyncJobsClient) -> None:
    sdk = py_async_sdk
    assert (await sdk.health()).status == "healthy"
    async with sdk.events(queue="default") as stream:  # subscribed: nothing after this line is missed
        [job] = await sdk.add_bulk([JobSpec("sleep", {"ms": 80, "steps": 2}, job_id="progressing")])
        seen = await _until(stream, "progressing", "completed")
    moves = [(e.from_state, e.to_state, e.progress) for e in seen]
    assert moves == [
        ("", "waiting", None),
        ("waiting", "active", None),
        ("active", "active", 50),
        ("active", "active", 100),
        ("active", "completed", None),
    ]
    assert seen[0].type == "sleep" and seen[1].attempt == 1 and all(e.queue == "default" for e in seen)
    assert all(e.at is not None and e.id for e in seen) and stream.last_event_id == seen[-1].id
    assert (await sdk.get_job(job.job_id)).result == {"slept": 0.08}

    async with sdk.events(queue="default", last_event_id=seen[1].id) as resumed:
        replay = await _until(resumed, "progressing", "completed")
    assert [e.id for e in replay] == [e.id for e in seen[2:]]

    page = await sdk.list_jobs(queue="default", status="completed")
    assert [j.job_id for j in page.jobs] == ["progressing"]
    assert (await sdk.get_queue("default")).counts.completed == 1
    assert {q.name: q.counts.completed for q in await sdk.list_queues()}["default"] == 1


@pytest.mark.timeout(90)
async def test_events_reconnect_across_an_api_restart_and_resume(spawn: Callable[..., Service]) -> None:
    port = free_port()
    api = spawn("jobs-api", JOBS_PORT=str(port))
    other, _ = spawn("jobs-api", wait=False), spawn("jobs-worker")
    sdk = AsyncJobsClient(f"http://127.0.0.1:{port}", retry=RetryPolicy(backoff=0.1, max_backoff=0.3))
    side = AsyncJobsClient(api_url(other))
    try:
        async with sdk.events(queue="default") as stream:
            first = await side.add_job("noop")
            await _until(stream, first.job_id, "completed")
            assert await asyncio.to_thread(api.stop) == 0  # SIGTERM ends the stream cleanly
            missed = await side.add_job("noop")  # while no api listens on the stream's port
            await side.wait(missed.job_id, timeout=15)
            await asyncio.to_thread(spawn, "jobs-api", JOBS_PORT=str(port))
            after = await _until(stream, missed.job_id, "completed")
        assert [(e.job_id, e.from_state, e.to_state) for e in after] == [
            (missed.job_id, "", "waiting"),
            (missed.job_id, "waiting", "active"),
            (missed.job_id, "active", "completed"),
        ]
    finally:
        await sdk.aclose()
        await side.aclose()


def test_events_of_a_server_before_issue_11_are_understood() -> None:
    """Older servers named the job ``job`` and sent strings and no result: wait() then reads the job."""
    data = '{"queue": "default", "job": "j1", "from": "active", "to": "completed", "at": "1770120006742"'
    old = ServerSentEvent(event="job", id="1-0", data=data + ', "attempt": "1"}')
    event = parse_event(old)
    assert event is not None and (event.job_id, event.attempt, event.has_result) == ("j1", 1, False)
    assert event.at is not None and event.at.year == 2026
    assert Waiter("j1", None, RetryPolicy()).on_event(event) is REFETCH
    new = ServerSentEvent(
        event="job", id="2-0", data='{"jobId": "j1", "from": "active", "to": "completed", "result": null}'
    )
    settled = Waiter("j1", None, RetryPolicy()).on_event(parse_event(new))  # type: ignore[arg-type]
    assert settled is not None and settled.unwrap() is None  # a result of None is still a result
    assert parse_event(ServerSentEvent(event="ping", data="{}")) is None
    assert parse_event(ServerSentEvent(event="job", data="not json")) is None
