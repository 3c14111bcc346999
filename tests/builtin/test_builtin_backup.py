"""backup-database to a local folder and to S3 (SeaweedFS, multipart): each dump is restored with
pg_restore into a fresh database and its row counts compared; retention deletes old backups but never
the newest three."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiobotocore.session import get_session

from builtin.bi_helpers import channel, result_of, user
from builtin.conftest import BUCKET, Rig
from jobs_worker.builtin.targets import owned_schema_sql
from support.postgres_server import PostgresServer, pg_bin
from support.s3_server import ACCESS_KEY, SECRET_KEY, S3Server

pytestmark = pytest.mark.timeout(120)
TABLES = ("nchat_users", "nchat_channels", "nchat_channel_members", "nchat_messages", "jobs_analytics_daily")


def old_names(database: str, *days: int) -> dict[int, str]:
    """Names of backups made ``days`` ago, as the worker names them."""
    now = datetime.now(UTC)
    stamps = {d: (now - timedelta(days=d)).strftime("%Y%m%dT%H%M%SZ") for d in days}
    return {d: f"backup-{database}-{stamp}-0000000{d % 10}.pgdump" for d, stamp in stamps.items()}


async def seed(rig: Rig, messages: int, words: int) -> None:
    """Rows in several tables; message texts of ``words`` random hex words (poorly compressible)."""
    author = await user(rig.db, "author")
    cid = await channel(rig.db, "general", author)
    # Without triggers (the channel counter): one statement updating one channel row 12,000 times is slow.
    await rig.db.execute("SET session_replication_role = replica")
    await rig.db.execute(
        "INSERT INTO nchat_messages (channel_id, user_id, content)"
        " SELECT $1, $2, (SELECT string_agg(md5(random()::text || g || w), ' ')"
        "                 FROM generate_series(1, $3) w)"
        " FROM generate_series(1, $4) g",
        cid,
        author,
        words,
        messages,
    )
    await rig.db.execute("RESET session_replication_role")
    await rig.db.execute(owned_schema_sql())  # this service's tables are in the backup too
    await rig.db.execute(
        "INSERT INTO jobs_analytics_daily VALUES ('2026-02-03', 'messages.total', '', 7, now())"
    )


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}
    finally:
        await conn.close()


async def restore(pg: PostgresServer, dump: Path) -> dict[str, int]:
    name = f"restored_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg.url())
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    target = f"postgresql://postgres@127.0.0.1:{pg.port}/{name}"
    command = [pg_bin("pg_restore") or "pg_restore", "--exit-on-error", f"--dbname={target}", str(dump)]
    proc = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, "PGPASSWORD": pg.password}, stderr=asyncio.subprocess.PIPE
    )
    _, errors = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, errors.decode()
    return await counts(pg.url(name))


def prepare_folder(folder: Path, names: list[str]) -> None:
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes(b"old")
        (folder / f"{name}.sha256").write_text("x")
    (folder / "notes.txt").write_text("not a backup: never touched")


def check_local_backup(folder: Path, result: dict[str, Any], kept: list[str]) -> Path:
    dump = Path(result["key"])
    assert dump.parent == folder and result["destination"] == "local"
    assert result["bytes"] == dump.stat().st_size
    assert hashlib.sha256(dump.read_bytes()).hexdigest() == result["sha256"]
    assert (folder / f"{dump.name}.sha256").read_text() == f"{result['sha256']}  {dump.name}\n"
    kept = [dump.name, *kept]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*kept, *(f"{n}.sha256" for n in kept), "notes.txt"]
    )
    return dump


async def test_backup_to_a_local_folder(rig: Rig, pg: PostgresServer, backup_dir: Path) -> None:
    await seed(rig, messages=2000, words=4)
    database = rig.nchat_url.rsplit("/", 1)[1]
    old = old_names(database, 40, 41, 42, 43, 44)
    prepare_folder(backup_dir, list(old.values()))
    worker = rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url, JOBS_BACKUP_DIR=str(backup_dir))
    view = await rig.run({"type": "backup-database", "payload": {"destination": "local", "retention": 30}})
    result = result_of(view)
    assert view["progress"] == 100 and sorted(result["deleted"]) == sorted(old[d] for d in (42, 43, 44))
    dump = check_local_backup(backup_dir, result, [old[40], old[41]])
    assert await restore(pg, dump) == await counts(rig.nchat_url)
    assert pg.password not in "".join(worker.raw) + str(view)


async def s3_client(server: S3Server) -> Any:
    return get_session().create_client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )  # fmt: skip


async def test_backup_to_s3_multipart(
    rig: Rig, pg: PostgresServer, s3_server: S3Server, s3_env: dict[str, str], tmp_path: Path
) -> None:
    await seed(rig, messages=12_000, words=40)  # about 20 MB of text, more than one 8 MiB part compressed
    database = rig.nchat_url.rsplit("/", 1)[1]
    prefix = s3_env["JOBS_BACKUP_S3_PREFIX"]
    async with await s3_client(s3_server) as s3:
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            await s3.create_bucket(Bucket=BUCKET)
        old = old_names(database, 40, 41, 42, 43)
        for name in old.values():
            await s3.put_object(Bucket=BUCKET, Key=prefix + name, Body=b"old")
        worker = rig.start_worker(JOBS_DATABASE_URL=rig.nchat_url, **s3_env)
        view = await rig.run({"type": "backup-database", "payload": {"retention": 30}}, timeout=90)
        result = result_of(view)  # no destination: s3, since a bucket is configured
        key = result["key"].removeprefix(f"s3://{BUCKET}/")
        assert result["destination"] == "s3" and key.startswith(prefix) and result["bytes"] > 9 * 1024 * 1024
        head = await s3.head_object(Bucket=BUCKET, Key=key)
        assert head["Metadata"]["sha256"] == result["sha256"] and head["ContentLength"] == result["bytes"]
        assert int(head["ETag"].strip('"').rsplit("-", 1)[1]) >= 2  # a multipart upload's ETag ends in -parts
        body = await (await s3.get_object(Bucket=BUCKET, Key=key))["Body"].read()
        listing = await s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    assert hashlib.sha256(body).hexdigest() == result["sha256"]
    assert sorted(result["deleted"]) == sorted([old[42], old[43]])
    assert sorted(o["Key"] for o in listing["Contents"]) == sorted([key, prefix + old[40], prefix + old[41]])
    dump = tmp_path / "downloaded.pgdump"
    await asyncio.to_thread(dump.write_bytes, body)
    assert await restore(pg, dump) == await counts(rig.nchat_url)
    assert SECRET_KEY not in "".join(worker.raw) + str(view)
