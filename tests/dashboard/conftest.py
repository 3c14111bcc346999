"""Fixtures of the dashboard tests: the app in-process (aiohttp test client) on the session's Redis with
a fresh key prefix, a client that has not logged in, a logged-in one, and the job store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from dashboard.dash_helpers import dashboard_settings, log_in
from jobs_core.store import JobStore
from jobs_dashboard.app import create_app
from jobs_dashboard.settings import DashboardSettings
from support.redis_server import RedisServer


@pytest.fixture
def settings(redis_server: RedisServer, prefix: str) -> DashboardSettings:
    return dashboard_settings(redis_server.url, prefix)


@pytest.fixture
async def anon(settings: DashboardSettings) -> AsyncIterator[TestClient[Any, Any]]:
    """A client that has not logged in."""
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


@pytest.fixture
async def client(anon: TestClient[Any, Any]) -> TestClient[Any, Any]:
    """A logged-in client."""
    response = await log_in(anon)
    assert response.status == 303
    return anon


@pytest.fixture
async def store(redis: Redis, settings: DashboardSettings) -> JobStore:
    return JobStore(redis, settings)
