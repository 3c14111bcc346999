"""The api's HTTP figures alone: POST /schedule sequential (one connection) and over 50 connections,
and enqueue-to-start latency through HTTP with an idle worker. A benchmark, not a test: it asserts
nothing and starts its own Redis, api and worker (the real console scripts).

    python -m bench.http_profile [--processes N] [--code DIR] [--rounds R]

``--code DIR`` runs the api from another checkout's ``core`` and ``services/api`` (put first on its
PYTHONPATH), so that a before/after comparison alternates in one run under the same conditions:
``--code /tmp/base --code .`` measures both, round after round.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.processes import Service  # noqa: E402
from support.redis_server import RedisServer, free_port  # noqa: E402

CONNECTIONS = 50


def service_env(url: str, prefix: str, code: Path | None, **extra: str) -> dict[str, str]:
    path = [str(ROOT)]
    if code is not None:  # the api's own packages from another tree win over the installed ones
        path[:0] = [str(code / "core"), str(code / "services" / "api")]
    return {
        "JOBS_REDIS_URL": url,
        "JOBS_KEY_PREFIX": prefix,
        "JOBS_LOG_LEVEL": "info",
        "JOBS_LOG_FORMAT": "json",
        "JOBS_LOG_COMPLETED": "false",
        "JOBS_PROCESSOR_MODULES": "bench.processors",
        "JOBS_PROBE_PORT": "-1",
        "JOBS_MAX_JOBS_PER_QUEUE": "10000000",
        "JOBS_BUILTIN_PROCESSORS": "false",
        "PYTHONPATH": os.pathsep.join(path),
        **extra,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def rates(http: aiohttp.ClientSession, base: str) -> tuple[float, float]:
    # low-priority: the latency worker serves "default" only, so these jobs never wake it.
    body = {"type": "bench-noop", "options": {"queue": "low-priority"}}
    for _ in range(50):  # warm-up: connections, script cache, first-call paths
        async with http.post(base + "/schedule", json=body) as r:
            await r.read()
    started = time.perf_counter()
    for _ in range(1000):
        async with http.post(base + "/schedule", json=body) as r:
            assert r.status == 201, await r.text()
            await r.read()
    sequential = 1000 / (time.perf_counter() - started)
    sem = asyncio.Semaphore(CONNECTIONS)

    async def one() -> None:
        async with sem, http.post(base + "/schedule", json=body) as r:
            assert r.status == 201, await r.text()
            await r.read()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(3000)))
    return sequential, 3000 / (time.perf_counter() - started)


async def latency(http: aiohttp.ClientSession, base: str, redis: Redis, n: int) -> list[float]:
    key, samples = f"bench-http-started-{time.monotonic_ns()}", []
    body = {"type": "bench-started", "payload": {"key": key}, "options": {"queue": "default"}}
    for i in range(n + 5):
        await asyncio.sleep(0.005 + (i % 7) * 0.002)  # an idle worker each time, not a burst
        sent = time.time() * 1000
        async with http.post(base + "/schedule", json=body) as r:
            await r.read()
        _, value = await redis.blpop([key], timeout=5)  # type: ignore[misc]
        if i >= 5:
            samples.append(float(value.split()[1]) - sent)
    return samples


async def one_round(url: str, code: Path | None, processes: int, n_latency: int) -> dict[str, float]:
    prefix, port = f"bench-http-{time.monotonic_ns()}", free_port()
    env = service_env(url, prefix, code, JOBS_PORT=str(port), JOBS_API_PROCESSES=str(processes))
    api = Service("jobs-api", env, "api")
    worker = Service("jobs-worker", service_env(url, prefix, None, JOBS_WORKER_QUEUES="default"), "w")
    redis = Redis.from_url(url, decode_responses=True)
    try:
        api.wait_for("service_ready", timeout=30)
        worker.wait_for("service_ready", timeout=30)
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=CONNECTIONS)
        async with aiohttp.ClientSession(connector=connector) as http:
            sequential, concurrent = await rates(http, base)
            samples = await latency(http, base, redis, n_latency)
    finally:
        api.stop()
        worker.stop()
        await redis.aclose()
    return {
        "seq": sequential,
        "c50": concurrent,
        "p50": statistics.median(samples),
        "p99": pct(samples, 0.99),
    }


async def run(args: argparse.Namespace) -> None:
    codes = args.code or [ROOT]
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            for r in range(args.rounds):
                for code in codes:
                    for processes in args.processes:
                        fig = await one_round(server.url, code, processes, args.latency_jobs)
                        print(
                            f"round {r + 1} {code.name or code} processes={processes}: "
                            f"sequential {fig['seq']:,.0f}/s  {CONNECTIONS} connections {fig['c50']:,.0f}/s  "
                            f"latency p50 {fig['p50']:.2f} ms p99 {fig['p99']:.2f} ms",
                            flush=True,
                        )
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", action="append", default=[], help="tree whose api to run (repeatable)")
    parser.add_argument("--processes", type=int, action="append", help="JOBS_API_PROCESSES (repeatable)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency-jobs", type=int, default=300)
    args = parser.parse_args()
    args.processes = args.processes or [1]
    args.code = [Path(c).resolve() for c in args.code]
    try:
        import uvloop  # the client must not be what limits the rate
    except ImportError:
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    main()
