"""Figures behind the README's "Guarantees": run ``python -m bench.reliability``.

(a) the cost of JOBS_REDIS_MIN_REPLICAS_ACK on enqueue: the core's ``enqueue`` one job at a time and
    50 at once, against a master with one replica (AOF everysec), waiting for 0 and for 1 replica;
(b) a Sentinel fail-over (SIGKILL of the master) under 20 concurrent producers, without and with
    MIN_REPLICAS_ACK=1: how many acknowledged jobs the promoted replica lacks, and the outage;
(c) ``jobs-admin check`` on 100,000 stored jobs (``BENCH_CHECK_JOBS``): time and the checker's memory;
(d) Redis SIGKILLed under 20 concurrent producers and restarted on its AOF (everysec, then always):
    acknowledged jobs missing after the restart, and the enqueue rate of each fsync policy.
A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from redis import Redis  # noqa: E402

from jobs_core.consistency import Checker  # noqa: E402
from jobs_core.errors import JobsError  # noqa: E402
from jobs_core.model import JobRequest, build_spec  # noqa: E402
from jobs_core.redis_conn import connect  # noqa: E402
from jobs_core.settings import CoreSettings  # noqa: E402
from jobs_core.store import JobStore  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402
from support.sentinel import MASTER_NAME, SentinelDeployment  # noqa: E402


def spec(settings: CoreSettings, job_id: str | None = None) -> dict[str, Any]:
    options = {"jobId": job_id} if job_id else {}
    return build_spec(JobRequest.model_validate({"type": "noop", "options": options}), settings)


async def latencies(store: JobStore, n: int, parallel: int) -> tuple[list[float], float]:
    """Per-call latency (ms) of n single-job enqueues, ``parallel`` at a time, and the rate (jobs/s)."""
    out: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        await store.enqueue([spec(store.settings)])
        out.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    for start in range(0, n, parallel):
        await asyncio.gather(*(one() for _ in range(min(parallel, n - start))))
    return out, n / (time.perf_counter() - began)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1]


def wait_replica_online(url: str) -> None:
    """Until the replica finished its first sync (connected is not enough: WAIT counts only synced ones)."""
    with Redis.from_url(url, decode_responses=True) as probe:
        while "online" not in str(probe.info("replication").get("slave0", "")):
            time.sleep(0.05)


async def replica_ack_cost(folder: Path) -> None:
    master = RedisServer(folder / "m", extra_args=["--repl-diskless-sync-delay", "0"])
    master.start()
    replica = RedisServer(folder / "r", extra_args=["--replicaof", "127.0.0.1", str(master.port)])
    replica.start()
    await asyncio.to_thread(wait_replica_online, master.url)
    print("(a) enqueue through the core, master + 1 replica on this machine, AOF everysec")
    try:
        for ack in (0, 1):
            settings = CoreSettings(redis_url=master.url, key_prefix=f"ack{ack}", redis_min_replicas_ack=ack,
                                    max_jobs_per_queue=10**7)  # fmt: skip
            redis = connect(settings)
            store = JobStore(redis, settings)
            await latencies(store, 200, 1)  # warm up
            for parallel in (1, 50):
                values, rate = await latencies(store, 3000, parallel)
                print(f"    MIN_REPLICAS_ACK={ack}, {parallel:>2} at once: p50 {pct(values, 0.5):.2f} ms, "
                      f"p99 {pct(values, 0.99):.2f} ms, {rate:,.0f} jobs/s")  # fmt: skip
            await redis.aclose()
    finally:
        replica.stop()
        master.stop()


async def failover_loss(folder: Path, ack: int) -> None:
    deployment = SentinelDeployment(folder, replicas=2)
    deployment.start()
    settings = CoreSettings(
        redis_sentinels=deployment.addresses.split(","), redis_sentinel_master=MASTER_NAME,
        redis_sentinel_password=deployment.sentinel_password, redis_password=deployment.password,
        key_prefix="fo", redis_min_replicas_ack=ack, redis_replica_ack_timeout=500, max_jobs_per_queue=10**7,
    )  # fmt: skip
    redis = connect(settings)
    store = JobStore(redis, settings)
    acked: list[str] = []
    refused = 0
    errors: dict[str, int] = {}
    stop = asyncio.Event()

    async def producer(k: int) -> None:
        nonlocal refused
        i = 0
        while not stop.is_set():
            i += 1
            job_id = f"p{k}-{i}"
            try:
                await store.enqueue([spec(settings, job_id)])
                acked.append(job_id)
            except JobsError as err:
                errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                refused += 1
                await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(producer(k)) for k in range(20)]
    await asyncio.sleep(2.0)
    old = deployment.current_master()
    deployment.kill_master()
    killed = time.perf_counter()
    new = await asyncio.to_thread(deployment.wait_new_master, old.port)
    promoted = time.perf_counter() - killed
    await asyncio.sleep(2.0)
    stop.set()
    await asyncio.gather(*tasks)
    client = Redis(port=new.port, password=deployment.password, db=settings.redis_db, decode_responses=True)
    pipe = client.pipeline(transaction=False)
    for job_id in acked:
        pipe.exists(f"fo:job:{job_id}")
    lost = len(acked) - sum(pipe.execute())
    client.close()
    await redis.aclose()
    deployment.stop()
    print(f"    MIN_REPLICAS_ACK={ack}: {len(acked):,} acknowledged, {lost} lost, {refused} refused (503) "
          f"during the fail-over {errors}; replica promoted {promoted:.1f} s after the SIGKILL")  # fmt: skip


async def check_speed(folder: Path, n: int) -> None:
    server = RedisServer(folder / "c")
    server.start()
    settings = CoreSettings(redis_url=server.url, key_prefix="chk", max_jobs_per_queue=10**7)
    redis = connect(settings, timeout=60)
    store = JobStore(redis, settings)
    for start in range(0, n, 1000):
        await store.enqueue([spec(settings) for _ in range(min(1000, n - start))])
    keys = await redis.dbsize()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = await Checker(redis, settings).run()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    members, took = report.scanned["members"], report.seconds
    print(f"(c) jobs-admin check: {n:,} jobs, {keys:,} keys, {members:,} index members in {took:.1f} s, "
          f"{report.problems} findings, peak memory grew {grown / 1024:.1f} MiB")  # fmt: skip
    await redis.aclose()
    server.stop()


async def aof_restart(folder: Path, fsync: str) -> None:
    server = RedisServer(folder / fsync, extra_args=["--appendfsync", fsync])
    server.start()
    settings = CoreSettings(redis_url=server.url, key_prefix="aof", max_jobs_per_queue=10**7)
    redis = connect(settings, retries=0)
    store = JobStore(redis, settings)
    acked: list[str] = []
    stop = asyncio.Event()

    async def producer(k: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                await store.enqueue([spec(settings, f"a{k}-{i}")])
                acked.append(f"a{k}-{i}")
            except JobsError:
                return

    tasks = [asyncio.create_task(producer(k)) for k in range(20)]
    await asyncio.sleep(3.0)
    assert server.proc is not None
    server.proc.kill()  # SIGKILL: no shutdown, whatever the AOF holds is what survives
    server.proc.wait(10)
    stop.set()
    await asyncio.gather(*tasks)
    await redis.aclose()
    server.start()
    check = connect(settings)
    pipe = check.pipeline(transaction=False)
    for job_id in acked:
        pipe.exists(f"aof:job:{job_id}")
    lost = len(acked) - sum(await pipe.execute())
    await check.aclose()
    server.stop()
    print(
        f"    appendfsync {fsync}: {len(acked):,} acknowledged in 3 s "
        f"({len(acked) / 3:,.0f} jobs/s), {lost} lost"
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not os.environ.get("BENCH_SKIP_A"):
            await replica_ack_cost(folder / "a")
        print("(b) Sentinel fail-over under 20 concurrent producers (SIGKILL of the master, 2 replicas)")
        await failover_loss(folder / "b0", 0)
        await failover_loss(folder / "b1", 1)
        print("(d) Redis SIGKILLed under 20 concurrent producers, restarted on its AOF")
        for fsync in ("everysec", "always"):
            await aof_restart(folder / "d", fsync)
        if not os.environ.get("BENCH_SKIP_C"):
            await check_speed(folder / "c", int(os.environ.get("BENCH_CHECK_JOBS", "100000")))


if __name__ == "__main__":
    asyncio.run(main())
