"""Issue 12 §3, memory pressure: Redis at ``maxmemory`` with ``noeviction`` (filled with keys outside the
prefix, as another tenant or a backlog would). Enqueue answers 503 ``redis_full`` naming the cause; a
worker started while Redis is full stays up (not ready) and a worker caught mid-job keeps its job; both
resume when memory is freed. Under a load of bulk enqueues that runs into the limit, every request is
all-or-nothing (scripts are refused before they run) and ``jobs-admin check`` finds every job record
and index consistent afterwards.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError

from observability.obs_helpers import probe
from reliability.admin_cli import admin_check
from support.api import ApiClient
from support.redis_server import RedisServer
from support.waiting import wait_state, wait_until

pytestmark = pytest.mark.timeout(120)
FILLER = "filler"  # outside the test's prefix: not ours to delete, as a real neighbour's data would be


@pytest.fixture
async def small_redis(tmp_path: Any) -> Any:
    server = RedisServer(tmp_path / "small", extra_args=["--maxmemory", "24mb"])
    server.start()
    client = Redis.from_url(server.url, decode_responses=True)
    yield server, client
    await client.aclose()
    server.stop()


async def fill(redis: Redis, chunk: int = 256 * 1024, pause: float = 0.0) -> int:
    """Writes filler keys until Redis refuses with OOM; returns how many it wrote."""
    n = 0
    while True:
        try:
            await redis.set(f"{FILLER}:{n}", "x" * chunk)
        except OutOfMemoryError:
            return n
        n += 1
        if pause:
            await asyncio.sleep(pause)


async def pin_full(redis: Redis) -> None:
    """Fills Redis, then puts maxmemory just under what it uses: every write is refused until memory
    is freed (at the bare limit, used memory wobbles by a request's buffer and lets some writes in)."""
    await fill(redis)
    used = int((await redis.info("memory"))["used_memory"])
    await redis.config_set("maxmemory", used - 512 * 1024)


async def free(redis: Redis) -> None:
    keys = [k async for k in redis.scan_iter(f"{FILLER}:*", count=1000)]
    if keys:
        await redis.delete(*keys)


def service_env(server: RedisServer) -> dict[str, str]:
    return {"JOBS_REDIS_URL": server.url, "JOBS_LEASE_MS": "6000"}


async def test_full_redis_answers_503_and_services_wait_for_memory(
    small_redis: Any, spawn: Any, prefix: str, base_env: dict[str, str]
) -> None:
    server, redis = small_redis
    env = service_env(server)
    api = ApiClient(int(spawn("jobs-api", **env).wait_for("service_ready")["port"]))
    running = spawn("jobs-worker", JOBS_CONCURRENCY="2", JOBS_WORKER_QUEUES="default", **env)
    scheduler = spawn("jobs-scheduler", **env)
    slow = await api.schedule({"type": "sleep", "payload": {"ms": 500}})  # writes nothing itself
    await wait_state(redis, prefix, slow["jobId"], {"active"})
    await pin_full(redis)  # Redis is full while the try runs: its completion is refused for now

    status, body, _ = await api.call("POST", "/schedule", json={"type": "noop"})
    assert status == 503 and body["error"]["code"] == "redis_full", body
    assert "maxmemory" in body["error"]["message"]
    assert (await api.call("POST", "/schedule/bulk", json={"jobs": [{"type": "noop"}] * 3}))[0] == 503
    assert (await api.call("GET", "/jobs"))[0] == 200  # reads still work
    late = spawn("jobs-worker", wait=False, JOBS_WORKER_QUEUES="high-priority", **env)
    late.wait_for("claim_failed", timeout=20)
    port = int(late.wait_for("service_ready", timeout=20)["probe_port"])
    assert (await probe(port, "/readyz"))[0] == 503
    await asyncio.sleep(1.0)  # the point: time passes while full, and nothing exits or gives up
    assert late.proc.poll() is None and running.proc.poll() is None and scheduler.proc.poll() is None
    assert (await api.job(slow["jobId"]))["status"] == "active"

    await free(redis)
    await wait_state(redis, prefix, slow["jobId"], {"completed"})
    made = await api.schedule({"type": "noop", "options": {"queue": "high-priority"}})
    await wait_state(redis, prefix, made["jobId"], {"completed"})  # the worker that started full
    await wait_until(lambda: _ready(port), 10, "the late worker ready")
    assert (await api.job(slow["jobId"]))["attempts"] == 1  # finished by its own try, not re-run
    await api.close()
    code, report = admin_check({**os.environ, **base_env, **env})
    assert (code, report["found"]) == (0, 0), report


async def _ready(port: int) -> bool:
    return (await probe(port, "/readyz"))[0] == 200


async def test_load_into_the_limit_leaves_nothing_half_written(
    small_redis: Any, spawn: Any, prefix: str, base_env: dict[str, str]
) -> None:
    server, redis = small_redis
    env = service_env(server)
    api = ApiClient(int(spawn("jobs-api", **env).wait_for("service_ready")["port"]))
    spawn("jobs-worker", JOBS_CONCURRENCY="10", JOBS_KEEP_COMPLETED="100000", **env)  # keep them to check
    accepted: list[str] = []
    refused: list[str] = []

    async def load() -> None:
        for batch in range(400):
            ids = [f"b{batch}-{i}" for i in range(20)]
            jobs = [{"type": "echo", "payload": {"pad": "p" * 2000}, "options": {"jobId": ids[0]}}]
            jobs += [
                {"type": "echo", "options": {"jobId": j, "dependsOn": [ids[0]], "priority": "high"}}
                for j in ids[1:]
            ]
            status, body, _ = await api.call("POST", "/schedule/bulk", json={"jobs": jobs})
            assert status in (201, 503), body
            (accepted if status == 201 else refused).extend(ids)
            if len(refused) >= 200:
                return

    filling = asyncio.create_task(fill(redis, chunk=64 * 1024, pause=0.002))
    await load()
    await filling
    assert refused, "the load never reached the limit"
    await free(redis)
    await api.close()

    async def settled() -> bool:
        pipe = redis.pipeline(transaction=False)
        for job_id in accepted:
            pipe.hget(f"{prefix}:job:{job_id}", "status")
        return all(s == "completed" for s in await pipe.execute())

    await wait_until(settled, 60, "every accepted job completed")
    pipe = redis.pipeline(transaction=False)
    for job_id in refused:
        pipe.exists(f"{prefix}:job:{job_id}", f"{prefix}:job:{job_id}:deps")
    assert sum(await pipe.execute()) == 0  # a refused bulk left no job and no dependency link
    code, report = admin_check({**os.environ, **base_env, **env})
    assert (code, report["found"]) == (0, 0), report
    print(f"memory pressure: {len(accepted)} jobs accepted, {len(refused)} refused whole, 0 inconsistencies")
