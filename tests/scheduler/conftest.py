"""Fixtures of the scheduler tests: a private redis-server per test (restartable), and replicas.

Each test gets its own Redis (a fresh port and folder, AOF on) so that stopping and restarting it never
touches other tests, plus a fresh key prefix. ``replicas(n)`` starts ``jobs-scheduler`` processes and
waits for their ``service_ready`` line.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from support.processes import Service
from support.redis_server import RedisServer, free_port

TESTS = Path(__file__).parent.parent


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sched_prefix() -> str:
    return f"s{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def rclient(own_redis: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(own_redis.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def scheduler_env(own_redis: RedisServer, sched_prefix: str) -> dict[str, str]:
    return {
        "JOBS_REDIS_URL": own_redis.url,
        "JOBS_KEY_PREFIX": sched_prefix,
        "JOBS_LEADER_LEASE_MS": "2000",
        "JOBS_MISFIRE_GRACE": "60",
        "JOBS_PROBE_PORT": "0",
        "JOBS_LOG_FORMAT": "json",
        "JOBS_LOG_LEVEL": "info",
        # Built-in schedules fire at night; tests that want them enable them explicitly.
        "JOBS_CLEANUP_OLD_MESSAGES_ENABLED": "false",
        "JOBS_GENERATE_ANALYTICS_ENABLED": "false",
        "JOBS_BACKUP_DATABASE_ENABLED": "false",
        "JOBS_SEND_EMAIL_DIGEST_ENABLED": "false",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }


@pytest.fixture
def replicas(scheduler_env: dict[str, str]) -> Iterator[Callable[..., list[Service]]]:
    started: list[Service] = []

    def start(count: int = 1, **env: str) -> list[Service]:
        batch = []
        for _ in range(count):
            service = Service("jobs-scheduler", {**scheduler_env, **env}, name=f"scheduler#{len(started)}")
            started.append(service)
            batch.append(service)
        for service in batch:
            service.wait_for("service_ready", timeout=20)
        return batch

    yield start
    for service in started:
        if service.proc.poll() is None:
            service.kill()


@pytest.fixture
def api(own_redis: RedisServer, sched_prefix: str) -> Iterator[str]:
    """A ``jobs-api`` process on this test's Redis; yields its base URL."""
    port = free_port()
    env = {
        "JOBS_REDIS_URL": own_redis.url,
        "JOBS_KEY_PREFIX": sched_prefix,
        "JOBS_PORT": str(port),
        "JOBS_HOST": "127.0.0.1",
        "JOBS_LOG_FORMAT": "json",
    }
    service = Service("jobs-api", env, name="api")
    try:
        service.wait_for("service_ready", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        service.kill()
