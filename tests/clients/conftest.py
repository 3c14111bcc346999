"""Fixtures of the Python client tests: a real ``jobs-api`` and ``jobs-worker`` started by the ``spawn``
fixture on this test's Redis prefix, and SDK clients (sync and async) for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from clients.py_support import FAST, Stack, api_url
from jobs_client import AsyncJobsClient, JobsClient
from support.processes import Service


@pytest.fixture
def py_stack(spawn: Callable[..., Service]) -> Stack:
    api, worker = spawn("jobs-api", wait=False), spawn("jobs-worker", wait=False)  # start side by side
    worker.wait_for("service_ready", timeout=20)
    return Stack(api, worker, api_url(api))


@pytest.fixture
def py_sdk(py_stack: Stack) -> Iterator[JobsClient]:
    with JobsClient(py_stack.url, retry=FAST) as client:
        yield client


@pytest.fixture
async def py_async_sdk(py_stack: Stack) -> AsyncIterator[AsyncJobsClient]:
    async with AsyncJobsClient(py_stack.url, retry=FAST) as client:
        yield client
