"""Issue 12 §3, Sentinel: api, worker and scheduler find the master through three real sentinels
(JOBS_REDIS_SENTINELS wins over a JOBS_REDIS_URL that points nowhere), the master is SIGKILLed during a
load of enqueues, and every service follows the promoted replica without a restart: api readiness goes
false and back, the worker is ready after it, every job acknowledged with 201
(JOBS_REDIS_MIN_REPLICAS_ACK=1) is on the new master and completes, the scheduler's every-second
schedule fires again, and the registry is consistent.
JOBS_REDIS_MIN_REPLICAS_ACK against a silent replica answers 503 and reports nothing as accepted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from observability.obs_helpers import probe
from reliability.admin_cli import admin_check
from support.api import ApiClient
from support.redis_server import RedisServer
from support.sentinel import MASTER_NAME, SentinelDeployment
from support.waiting import wait_until

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def deployment(tmp_path: Any) -> Any:
    d = SentinelDeployment(tmp_path, replicas=2)
    d.start()
    yield d
    d.stop()


def sentinel_env(d: SentinelDeployment, **more: str) -> dict[str, str]:
    return {
        "JOBS_REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there: the sentinels must win
        "JOBS_REDIS_SENTINELS": d.addresses,
        "JOBS_REDIS_SENTINEL_MASTER": MASTER_NAME,
        "JOBS_REDIS_SENTINEL_PASSWORD": d.sentinel_password,
        "JOBS_REDIS_PASSWORD": d.password,
        "JOBS_HEALTH_CHECK_INTERVAL": "1",
        **more,
    }


class Load:
    """Sequential enqueues until stopped; remembers what was acknowledged and what was refused."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.acked: list[str] = []
        self.refused: dict[int, int] = {}
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        i = 0
        while not self.stopping.is_set():
            i += 1
            job = {"type": "noop", "options": {"jobId": f"load-{i}"}}
            try:
                status, _, _ = await self.api.call("POST", "/schedule", json=job)
            except aiohttp.ClientError:
                status = 0
            if status in (200, 201):
                self.acked.append(f"load-{i}")
            else:
                self.refused[status] = self.refused.get(status, 0) + 1
                await asyncio.sleep(0.05)


async def readiness(api: ApiClient, seen: list[bool], stop: asyncio.Event) -> None:
    while not stop.is_set():
        status, _, _ = await api.call("GET", "/readyz")
        if not seen or seen[-1] != (status == 200):
            seen.append(status == 200)
        await asyncio.sleep(0.1)


async def worker_readiness(port: int, seen: list[bool], stop: asyncio.Event) -> None:
    while not stop.is_set():
        ready = (await probe(port, "/readyz"))[0] == 200
        if not seen or seen[-1] != ready:
            seen.append(ready)
        await asyncio.sleep(0.1)


async def test_failover_under_load_loses_no_acknowledged_job(
    deployment: SentinelDeployment, spawn: Any, prefix: str, base_env: dict[str, str]
) -> None:
    env = sentinel_env(deployment, JOBS_REDIS_MIN_REPLICAS_ACK="1", JOBS_REDIS_REPLICA_ACK_TIMEOUT="500")
    api_proc = spawn("jobs-api", **env)
    worker = spawn("jobs-worker", JOBS_CONCURRENCY="8", **env)
    scheduler = spawn("jobs-scheduler", JOBS_LEADER_LEASE_MS="3000", **env)
    api = ApiClient(int(api_proc.wait_for("service_ready")["port"]))
    every_second = {"type": "noop", "schedule": "* * * * * *", "options": {"scheduleId": "tick"}}
    assert (await api.call("POST", "/schedule", json=every_second))[0] == 201
    load, seen, worker_seen, stop = Load(api), [], [], asyncio.Event()
    worker_port = int(worker.wait_for("service_ready")["probe_port"])
    tasks = [
        asyncio.create_task(load.run()),
        asyncio.create_task(readiness(api, seen, stop)),
        asyncio.create_task(worker_readiness(worker_port, worker_seen, stop)),
    ]
    await wait_until(
        lambda: asyncio.sleep(0, len(load.acked) >= 50), 20, "50 jobs enqueued before the fail-over"
    )
    old = deployment.current_master()
    deployment.kill_master()
    killed_at = time.time()
    new = await asyncio.to_thread(deployment.wait_new_master, old.port)
    await wait_until(lambda: asyncio.sleep(0, seen[-1] is True and False in seen), 30, "api ready again")
    # The worker must be ready after the fail-over. It need not have been seen unready: its Redis calls
    # are retried through a short fail-over, and under load it may never surface an error (full runs).
    await wait_until(lambda: asyncio.sleep(0, worker_seen[-1] is True), 30, "worker ready")
    recovered_s = time.time() - killed_at
    before = len(load.acked)
    await wait_until(lambda: asyncio.sleep(0, len(load.acked) >= before + 50), 30, "50 more jobs after it")
    load.stopping.set()
    stop.set()
    await asyncio.gather(*tasks)
    await api.close()

    redis = Redis(port=new.port, password=deployment.password, decode_responses=True)
    try:
        missing = [j for j in load.acked if not await redis.exists(f"{prefix}:job:{j}")]
        assert missing == [], f"acknowledged jobs lost in the fail-over: {missing[:10]}"

        async def all_completed() -> bool:
            pipe = redis.pipeline(transaction=False)
            for j in load.acked:
                pipe.hget(f"{prefix}:job:{j}", "status")
            return all(s == "completed" for s in await pipe.execute())

        await wait_until(all_completed, 60, "every acknowledged job completed on the new master")

        async def ticks_after_failover() -> list[str]:
            ids = await redis.zrangebyscore(f"{prefix}:q:default:type:noop", (killed_at + 1) * 1000, "+inf")
            return [j for j in ids if j.startswith("cron:tick:")]

        ticks = await wait_until(ticks_after_failover, 30, "a cron job fired after the fail-over")
    finally:
        await redis.aclose()
    for proc in (api_proc, worker, scheduler):
        assert proc.proc.poll() is None, proc.name  # followed the new master without a restart
    code, report = admin_check({**os.environ, **base_env, **env})
    assert (code, report["found"]) == (0, 0), report
    print(
        f"sentinel fail-over: {len(load.acked)} acknowledged, 0 lost, refused {load.refused}, "
        f"api ready again {recovered_s:.1f} s after the SIGKILL, readiness api {seen} worker {worker_seen}, "
        f"cron fired {len(ticks)} times since"
    )


async def test_min_replicas_ack_refuses_when_no_replica_confirms(
    tmp_path: Any, spawn: Any, redis_server: RedisServer, prefix: str
) -> None:
    master = RedisServer(tmp_path / "m")
    master.start()
    replica = RedisServer(tmp_path / "r", extra_args=["--replicaof", "127.0.0.1", str(master.port)])
    replica.start()
    try:
        env = {
            "JOBS_REDIS_URL": master.url,
            "JOBS_REDIS_MIN_REPLICAS_ACK": "1",
            "JOBS_REDIS_REPLICA_ACK_TIMEOUT": "300",
        }
        api = ApiClient(int(spawn("jobs-api", **env).wait_for("service_ready")["port"]))
        client = Redis.from_url(master.url, decode_responses=True)
        await wait_until(lambda: client.info("replication"), 10, "replication info")
        await wait_until(lambda: _replicas(client), 20, "the replica in sync")
        status, body, _ = await api.call(
            "POST", "/schedule", json={"type": "noop", "options": {"jobId": "acked"}}
        )
        assert status == 201, body
        assert replica.proc is not None
        replica.proc.send_signal(signal.SIGSTOP)  # alive, connected, silent
        try:
            status, body, _ = await api.call(
                "POST", "/schedule", json={"type": "noop", "options": {"jobId": "unsure"}}
            )
            assert status == 503 and body["error"]["code"] == "replication_timeout", body
            assert body["error"]["details"]["jobIds"] == ["unsure"]
        finally:
            replica.proc.send_signal(signal.SIGCONT)
        status, body, _ = await api.call(
            "POST", "/schedule", json={"type": "noop", "options": {"jobId": "unsure"}}
        )
        assert status == 200 and body["existing"] is True  # the retry with the same jobId is safe
        await client.aclose()
        await api.close()
    finally:
        replica.stop()
        master.stop()


async def _replicas(client: Redis) -> bool:
    info = await client.info("replication")
    return int(info["connected_slaves"]) >= 1 and "online" in str(info.get("slave0", {}))
