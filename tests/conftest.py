"""Session fixtures: a private Redis server, a fresh key prefix per test, and real service processes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from support.api import ApiClient
from support.processes import Service
from support.redis_server import RedisServer, free_port

TESTS = Path(__file__).parent


def pytest_report_header(config: pytest.Config) -> str | None:
    if any("containers" in str(arg) for arg in config.args):
        return None
    return "tests/containers (root and podman) is not collected here: `make container-test` runs it"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def base_env(redis_server: RedisServer, prefix: str) -> dict[str, str]:
    """Environment every spawned service gets: this test's Redis and prefix, JSON logs."""
    return {
        "JOBS_REDIS_URL": redis_server.url,
        "JOBS_KEY_PREFIX": prefix,
        "JOBS_LOG_FORMAT": "json",
        "JOBS_LOG_LEVEL": "info",
        "JOBS_PROBE_PORT": "0",
        "JOBS_PROCESSOR_MODULES": "support.test_processors",
        # The engine's tests predate the built-in types; tests/builtin turns them on where it needs them.
        "JOBS_BUILTIN_PROCESSORS": "false",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }


@pytest.fixture
def spawn(base_env: dict[str, str]) -> Iterator[Callable[..., Service]]:
    """Starts a console script (``jobs-api``, ``jobs-worker`` …) and waits for its ``service_ready``."""
    started: list[Service] = []

    def start(command: str, wait: bool = True, **env: str) -> Service:
        full_env = dict(base_env)
        if command == "jobs-api":
            full_env["JOBS_PORT"] = str(free_port())
        if command == "jobs-dashboard":
            full_env["JOBS_DASHBOARD_PORT"] = str(free_port())
        full_env.update(env)
        service = Service(command, full_env, name=f"{command}#{len(started)}")
        started.append(service)
        if wait:
            service.wait_for("service_ready", timeout=20)
        return service

    yield start
    for service in started:
        if service.proc.poll() is None:
            service.kill()


@pytest.fixture
async def api(spawn: Callable[..., Service]) -> AsyncIterator[ApiClient]:
    """A running ``jobs-api`` process and a client for it."""
    service = spawn("jobs-api")
    client = ApiClient(int(service.wait_for("service_ready")["port"]))
    yield client
    await client.close()
