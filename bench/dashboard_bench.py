"""Dashboard and list latency with a million jobs in one queue's history.

Run: ``python -m bench.dashboard_bench`` (``BENCH_DASHBOARD_JOBS`` sets the number, for a quick look).

Fills queue ``default`` of a private Redis with ``BENCH_DASHBOARD_JOBS`` (default 1,000,000) completed
jobs, in the shape the ``complete`` script leaves them (job hash, completed set, type index, minute
buckets), with a Lua loop so that the fill takes seconds, not minutes. One job in ten is of type ``mail``
and a few hundred are failed, so that type filters and tabs have something to find. Then it starts the
real ``jobs-dashboard`` and ``jobs-api`` processes and measures each page or call ``ROUNDS`` times:
the dashboard's own ``Server-Timing`` (server time) and, for both, the round trip on loopback.

A benchmark, not a test: it asserts nothing and prints a table. Redis runs without persistence here
(the fill would otherwise be dominated by the AOF), which does not change read latency.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.processes import Service  # noqa: E402
from support.redis_server import free_port, redis_binary  # noqa: E402

PREFIX = "bench"
PASSWORD = "bench-password"
ROUNDS = 20
CHUNK = 20_000

# One call writes `count` completed jobs numbered from `first`; keys and fields as complete.lua leaves them.
FILL = """
local P, first, count, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local q = 'default'
for i = first, first + count - 1 do
  local id = string.format('job-bench-%08d', i)
  local t = (i % 10 == 0) and 'mail' or 'echo'
  local created = now - (first + count - i) * 10
  local status = (i % 2500 == 0) and 'failed' or 'completed'
  redis.call('HSET', P .. ':job:' .. id, 'id', id, 'type', t, 'queue', q, 'priority', 'normal',
    'payload', '{"to":"user-' .. i .. '","n":' .. i .. '}', 'options', '{}', 'progress', 100,
    'attempt', 1, 'maxAttempts', 3, 'backoff', 'exponential', 'backoffDelay', 1000, 'timeout', 300000,
    'createdAt', created, 'runAt', 0, 'claims', 1, 'stalls', 0, 'dependsOn', '[]',
    'removeOnComplete', -1, 'removeOnFail', -1, 'scheduleId', '', 'status', status,
    'readyAt', created, 'token', 'bench:1', 'worker', 'bench', 'startedAt', created + 2,
    'result', '{"ok":true}', 'finishedAt', created + 5, 'duration', 3)
  redis.call('ZADD', P .. ':q:' .. q .. ':' .. status, created + 5, id)
  redis.call('ZADD', P .. ':q:' .. q .. ':type:' .. t, created, id)
end
redis.call('SADD', P .. ':queues', q)
return count
"""


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    args = [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
            "--save", "", "--appendonly", "no", "--loglevel", "warning"]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"redis://127.0.0.1:{port}/0"


async def fill(url: str, total: int) -> float:
    redis = Redis.from_url(url, decode_responses=True)
    for _ in range(100):
        try:
            await redis.ping()
            break
        except RedisConnectionError:
            await asyncio.sleep(0.05)
    script = redis.register_script(FILL)
    started = time.perf_counter()
    now = int(time.time() * 1000)
    for first in range(0, total, CHUNK):
        await script(args=[PREFIX, first, min(CHUNK, total - first), now])
    minute = now // 60_000
    pipe = redis.pipeline(transaction=False)
    for m in range(minute - 1439, minute + 1):  # a day of minute buckets, as the charts read them
        key = f"{PREFIX}:q:default:minute:{m}"
        pipe.hset(
            key,
            mapping={
                "completed": 690,
                "failed": 3,
                "completed:echo": 620,
                "completed:mail": 70,
                "duration_ms": 2100,
                "run_ms:5": 690,
                "wait_ms:10": 600,
                "wait_ms:50": 90,
            },
        )
        pipe.expire(key, 90_000)
    await pipe.execute()
    elapsed = time.perf_counter() - started
    info = await redis.info("memory")
    print(f"filled {total:,} jobs in {elapsed:.1f} s; Redis uses {info['used_memory_human']}")
    await redis.aclose()
    return elapsed


def services(url: str) -> tuple[Service, Service]:
    env = {"JOBS_REDIS_URL": url, "JOBS_KEY_PREFIX": PREFIX, "JOBS_LOG_FORMAT": "json",
           "JOBS_LOG_LEVEL": "warning", "JOBS_PROBE_PORT": "0"}  # fmt: skip
    dashboard = Service(
        "jobs-dashboard",
        {**env, "JOBS_DASHBOARD_PORT": str(free_port()), "JOBS_DASHBOARD_PASSWORD": PASSWORD,
         "JOBS_LOG_LEVEL": "info"},
        "dashboard",
    )  # fmt: skip
    api = Service("jobs-api", {**env, "JOBS_PORT": str(free_port()), "JOBS_LOG_LEVEL": "info"}, "api")
    return dashboard, api


async def login(http: aiohttp.ClientSession, base: str) -> None:
    page = await (await http.get(base + "/login")).text()
    match = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert match
    data = {"_csrf": match.group(1), "username": "admin", "password": PASSWORD}
    async with http.post(base + "/login", data=data) as response:
        assert response.status == 200, response.status


async def measure(http: aiohttp.ClientSession, url: str) -> tuple[list[float], list[float], int]:
    server, trip = [], []
    status = 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        async with http.get(url) as response:
            await response.read()
            status = response.status
            timing = response.headers.get("Server-Timing", "")
        trip.append((time.perf_counter() - started) * 1000)
        if match := re.search(r"dur=([\d.]+)", timing):
            server.append(float(match.group(1)))
    return server, trip, status


def row(name: str, server: list[float], trip: list[float], status: int) -> str:
    def cell(values: list[float]) -> str:
        if not values:
            return f"{'—':>17}"
        p95 = sorted(values)[max(int(len(values) * 0.95) - 1, 0)]
        return f"{statistics.median(values):8.1f} {p95:8.1f}"

    return f"{name:<58} {status:>4} {cell(server)} {cell(trip)} {trip[0]:8.1f}"


async def run(url: str, total: int) -> None:
    await fill(url, total)
    dashboard, api = services(url)
    try:
        dash = f"http://127.0.0.1:{dashboard.wait_for('service_ready', timeout=30)['port']}"
        gate = f"http://127.0.0.1:{api.wait_for('service_ready', timeout=30)['port']}"
        deep = total // 2
        done, jobs = "/queues/default?state=completed", "/jobs?queue=default&status=completed&limit=20"
        pages = [
            ("dashboard: queue page, completed tab", done),
            ("dashboard: queue page, completed, page at offset N/2", f"{done}&page={deep // 25}"),
            ("dashboard: queue page, failed tab", "/queues/default?state=failed"),
            ("dashboard: queue page, completed, type=mail", f"{done}&type=mail"),
            ("dashboard: queue page, failed, type=mail", "/queues/default?state=failed&type=mail"),
            ("dashboard: rows fragment (live refresh)", "/queues/default/rows?state=completed"),
            ("dashboard: overview (hour + day charts)", "/"),
            ("dashboard: job page", "/jobs/job-bench-00000007"),
        ]
        calls = [
            ("api: GET /jobs?queue=default&status=completed", jobs),
            ("api: ... &offset=1000", f"{jobs}&offset=1000"),
            ("api: ... &offset=N/2", f"{jobs}&offset={deep}"),
            ("api: ... status=completed&type=mail", f"{jobs}&type=mail"),
            ("api: GET /queues/default", "/queues/default"),
        ]
        print(f"\n{'what (ms; ' + str(ROUNDS) + ' rounds)':<58} {'code':>4} {'server p50':>8} {'p95':>8} "
              f"{'trip p50':>8} {'p95':>8} {'first':>8}")  # fmt: skip
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await login(http, dash)
            for name, path in pages:
                print(row(name, *await measure(http, dash + path)))
            for name, path in calls:
                print(row(name, *await measure(http, gate + path)))
    finally:
        for service in (dashboard, api):
            if service.proc.poll() is None:
                service.stop()


def main() -> None:
    total = int(os.environ.get("BENCH_DASHBOARD_JOBS", "1000000"))
    folder = Path(tempfile.mkdtemp(prefix="dash-bench-"))
    proc, url = start_redis(folder)
    try:
        asyncio.run(run(url, total))
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
