"""`python -m bench.builtin`: figures of the built-in job types on 1,000,000 nChat messages.

Starts its own Redis, PostgreSQL (durable settings: fsync on) and SeaweedFS S3 on free ports, loads
nChat's schema with 1,000,000 messages older than 90 days (plus 10,000 recent ones and 100,000 reactions,
which the deletes cascade to) over 100 channels, and runs a real ``jobs-worker`` process:

1. backup-database to a local folder, then to S3 (multipart): MB/s of the dump streamed;
2. cleanup-expired of the old messages (batches of 1000): rows/s, the longest batch (the longest any
   row or channel-counter lock is held), and, measured from outside, the worst latency of a writer
   posting into a busy channel every 20 ms while the cleanup runs;
3. the worker's peak resident memory (VmHWM) after each step.

A benchmark, not a test: it asserts nothing. BENCH_MESSAGES changes the 1,000,000.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import asyncpg  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from jobs_core.model import JobRequest, build_spec  # noqa: E402
from jobs_core.settings import CoreSettings  # noqa: E402
from jobs_core.store import JobStore  # noqa: E402
from jobs_worker.builtin.targets import owned_schema_sql  # noqa: E402
from support.postgres_server import PostgresServer  # noqa: E402
from support.processes import Service  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402
from support.s3_server import ACCESS_KEY, SECRET_KEY, S3Server  # noqa: E402
from support.waiting import wait_state  # noqa: E402

CHANNELS = 100
BUCKET = "bench-backups"


async def load(url: str, messages: int) -> None:
    conn = await asyncpg.connect(url)
    schema = ROOT / "services/worker/jobs_worker/builtin/sql/nchat_schema.sql"
    await conn.execute(schema.read_text())
    await conn.execute(owned_schema_sql())
    await conn.execute("SET session_replication_role = replica")  # bulk load: counters set below
    await conn.execute(
        "INSERT INTO nchat_users (email, display_name, username, email_verified)"
        " SELECT 'u' || g || '@example.org', 'User ' || g, 'u' || g, true FROM generate_series(1, 1000) g"
    )
    await conn.execute(
        "INSERT INTO nchat_channels (name, slug) SELECT 'c' || g, 'c' || g FROM generate_series(1, $1) g",
        CHANNELS,
    )
    started = time.monotonic()
    await conn.execute(
        """
        WITH c AS (SELECT array_agg(id) ids FROM nchat_channels),
             u AS (SELECT array_agg(id) ids FROM nchat_users)
        INSERT INTO nchat_messages (channel_id, user_id, content, created_at)
        SELECT c.ids[1 + g % $2], u.ids[1 + g % 1000],
               'message ' || g || ' ' || md5(g::text) || ' ' || md5((g * 7)::text),
               now() - interval '100 days' - g * interval '1 second'
          FROM c, u, generate_series(1, $1) g
        UNION ALL
        SELECT c.ids[1 + g % $2], u.ids[1 + g % 1000], 'recent ' || g, now() - g * interval '1 second'
          FROM c, u, generate_series(1, 10000) g
        """,
        messages,
        CHANNELS,
    )
    await conn.execute(
        "INSERT INTO nchat_reactions (message_id, user_id, emoji)"
        " SELECT m.id, m.user_id, '+1' FROM nchat_messages m TABLESAMPLE SYSTEM (10) LIMIT $1",
        messages // 10,
    )
    await conn.execute("RESET session_replication_role")
    await conn.execute(
        "UPDATE nchat_channels c SET message_count = s.n FROM"
        " (SELECT channel_id, count(*) n FROM nchat_messages GROUP BY channel_id) s WHERE s.channel_id = c.id"
    )
    await conn.execute("VACUUM ANALYZE")
    size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    took = time.monotonic() - started
    print(f"loaded {messages:,} old + 10,000 recent messages in {took:.0f} s; database {size}")
    await conn.close()


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Bench:
    def __init__(self, redis: Redis, settings: CoreSettings) -> None:
        self.redis = redis
        self.settings = settings
        self.store = JobStore(redis, settings)

    async def run(self, job_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = JobRequest.model_validate(
            {"type": job_type, "payload": payload, "options": {"timeout": 3_600_000}}
        )
        (item,) = await self.store.enqueue([build_spec(request, self.settings)])
        record = await wait_state(
            self.redis, self.settings.key_prefix, item.job_id, ["completed", "failed"], 3600
        )
        if record["status"] != "completed":
            raise SystemExit(f"{job_type} failed: {record.get('error')}")
        import json

        return {"result": json.loads(record["result"]), "ms": int(record.get("duration") or 0)}


async def writer(url: str, stop: asyncio.Event, latencies: list[float]) -> None:
    """Posts into the busiest channel every 20 ms, as users would during the cleanup."""
    conn = await asyncpg.connect(url)
    cid, uid = await conn.fetchrow("SELECT channel_id, user_id FROM nchat_messages LIMIT 1")
    while not stop.is_set():
        started = time.monotonic()
        await conn.execute(
            "INSERT INTO nchat_messages (channel_id, user_id, content) VALUES ($1, $2, 'live')", cid, uid
        )
        latencies.append(time.monotonic() - started)
        await asyncio.sleep(0.02)
    await conn.close()


async def measure(redis_url: str, pg: PostgresServer, s3: S3Server, folder: Path) -> None:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    env = {
        "JOBS_REDIS_URL": redis_url, "JOBS_KEY_PREFIX": prefix, "JOBS_LOG_FORMAT": "json",
        "JOBS_PROBE_PORT": "-1",
        "JOBS_DATABASE_URL": pg.url("nchat"), "JOBS_BACKUP_DIR": str(folder / "backups"),
        "JOBS_BACKUP_S3_BUCKET": BUCKET, "JOBS_BACKUP_S3_ENDPOINT": s3.endpoint,
        "JOBS_BACKUP_S3_ACCESS_KEY": ACCESS_KEY, "JOBS_BACKUP_S3_SECRET_KEY": SECRET_KEY,
        "JOBS_LEASE_MS": "30000",
    }  # fmt: skip
    worker = Service("jobs-worker", env, name="worker")
    worker.wait_for("service_ready", timeout=30)
    redis = Redis.from_url(redis_url, decode_responses=True)
    bench = Bench(redis, CoreSettings(redis_url=redis_url, key_prefix=prefix))
    rows: list[tuple[str, str]] = [("worker RSS at start", f"{peak_rss_mib(worker.proc.pid):.0f} MiB")]
    for destination in ("local", "s3"):
        done = await bench.run("backup-database", {"destination": destination, "retention": 30})
        result = done["result"]
        rows.append(
            (f"backup to {destination}: {result['bytes'] / 1e6:.0f} MB dump", f"{result['mbPerSecond']} MB/s")
        )
        rows.append(
            (f"worker peak RSS after the {destination} backup", f"{peak_rss_mib(worker.proc.pid):.0f} MiB")
        )
    stop, latencies = asyncio.Event(), []  # type: ignore[var-annotated]
    probe = asyncio.create_task(writer(pg.url("nchat"), stop, latencies))
    done = await bench.run("cleanup-expired", {"targetType": "messages", "olderThan": 90, "batchSize": 1000})
    stop.set()
    await probe
    result = done["result"]
    rows.append(
        (
            f"cleanup: {result['deleted']:,} rows in {result['batches']} batches",
            f"{result['deleted'] / (done['ms'] / 1000):,.0f} rows/s",
        )
    )
    rows.append(("cleanup: longest batch (longest lock hold)", f"{result['longestBatchMs']:.0f} ms"))
    ordered = sorted(latencies)
    p50, p99 = ordered[len(ordered) // 2] * 1000, ordered[int(len(ordered) * 0.99)] * 1000
    label = f"writer into a busy channel during cleanup ({len(ordered)} inserts): p50 / p99 / max"
    rows.append((label, f"{p50:.1f} / {p99:.1f} / {ordered[-1] * 1000:.0f} ms"))
    rows.append(("worker peak RSS after everything", f"{peak_rss_mib(worker.proc.pid):.0f} MiB"))
    worker.stop()
    await redis.aclose()
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


async def prepare(pg: PostgresServer, s3: S3Server, messages: int) -> None:
    admin = await asyncpg.connect(pg.url())
    await admin.execute("CREATE DATABASE nchat")
    await admin.close()
    await load(pg.url("nchat"), messages)
    from aiobotocore.session import get_session

    async with get_session().create_client(
        "s3", endpoint_url=s3.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    ) as client:  # fmt: skip
        await client.create_bucket(Bucket=BUCKET)


def main() -> None:
    messages = int(os.environ.get("BENCH_MESSAGES", "1000000"))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        redis = RedisServer(folder / "redis")
        pg = PostgresServer()
        s3 = S3Server()
        try:
            redis.start()
            pg.start(fast=False)
            s3.start()
            asyncio.run(prepare(pg, s3, messages))
            asyncio.run(measure(redis.url, pg, s3, folder))
        finally:
            s3.stop()
            pg.stop()
            pg.remove()
            redis.stop()


if __name__ == "__main__":
    main()
