"""backup-database: ``pg_dump --format=custom`` of JOBS_DATABASE_URL, streamed to the destination.

The dump flows through the worker in 1 MiB chunks and is never whole in memory (the S3 store holds one
8 MiB part): each chunk is hashed (SHA-256), written to the destination and fed to ``pg_restore
--file=/dev/null``, which reads the whole archive as a restore would. The backup is published only when
pg_dump and pg_restore both exit 0: a dump pg_restore cannot read is a failed try, and its partial file
or multipart upload is removed. Then backups of that destination older than ``retention`` days are
deleted, never the newest three.

``destination`` absent: s3 when JOBS_BACKUP_S3_BUCKET is set, else local. Progress: the share of the
database's tables (by size on disk) whose data pg_dump has started, from its ``--verbose`` lines; a log
line every 64 MiB gives the bytes streamed. The password reaches pg_dump through PGPASSWORD, never its
command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobs_core.builtin_payloads import BackupDatabase
from jobs_worker.builtin.backup_stores import LocalStore, S3Store, Upload, backup_name
from jobs_worker.builtin.failures import TargetUnavailable
from jobs_worker.builtin.targets import Targets
from jobs_worker.job import Job, UnrecoverableError

CHUNK = 1024 * 1024
LOG_EVERY_BYTES = 64 * 1024 * 1024
KEEP_NEWEST = 3
TABLE_LINE = re.compile(r'dumping contents of table "(.+)"')
PERMANENT_DUMP_ERRORS = (
    "password authentication failed",
    "permission denied",
    "does not exist",
    "version mismatch",
)
SIZES_SQL = """
SELECT n.nspname || '.' || c.relname AS name, pg_relation_size(c.oid) AS bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


@dataclass
class Dumped:
    bytes: int
    sha256: str
    seconds: float


async def backup_database(job: Job, p: BackupDatabase, targets: Targets) -> dict[str, Any]:
    destination = p.destination or targets.default_destination()
    store = await _store(targets, destination)
    url, env = targets.pg_dump_connection("backup-database")
    pool = await targets.database("backup-database")
    sizes = {r["name"]: int(r["bytes"]) for r in await pool.fetch(SIZES_SQL)}
    now = datetime.now(UTC)
    name = backup_name(targets.database_name(), now, hashlib.sha256(job.id.encode()).hexdigest()[:8])
    upload = await store.begin(name, {"database": targets.database_name(), "job-id": job.id})
    try:
        dumped = await _dump(url, env, upload, _Progress(job, sizes))
        location = await upload.finish(dumped.sha256, dumped.bytes)
    except BaseException:
        await asyncio.shield(upload.abort())
        raise
    deleted = await store.prune(p.retention, KEEP_NEWEST, now)
    await job.update_progress(100)
    return {
        "destination": destination,
        "key": location,
        "bytes": dumped.bytes,
        "sha256": dumped.sha256,
        "seconds": round(dumped.seconds, 2),
        "mbPerSecond": round(dumped.bytes / 1e6 / max(dumped.seconds, 1e-6), 1),
        "retentionDays": p.retention,
        "deleted": deleted,
    }


async def _store(targets: Targets, destination: str) -> LocalStore | S3Store:
    if destination == "local":
        return LocalStore(targets.backup_dir())
    client = await targets.s3()
    s = targets.settings
    return S3Store(client, s.backup_s3_bucket or "", s.backup_s3_prefix)


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise UnrecoverableError(
            f"{name} not found on PATH: install PostgreSQL's client tools (same major version as the server)"
        )
    return found


class _Progress:
    """Follows pg_dump's --verbose lines; keeps the lines that explain a failure."""

    def __init__(self, job: Job, sizes: dict[str, int]) -> None:
        self.job = job
        self.sizes = sizes
        self.total = max(sum(sizes.values()), 1)
        self.done = 0
        self.current: str | None = None
        self.problems: list[str] = []
        self.next_log = LOG_EVERY_BYTES

    async def follow(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            match = TABLE_LINE.search(line)
            if match:
                if self.current is not None:
                    self.done += self.sizes.get(self.current, 0)
                self.current = match.group(1)
                await self.job.update_progress(min(99.0, round(100 * self.done / self.total, 1)))
            elif "error" in line.lower() or "fatal" in line.lower() or "warning" in line.lower():
                self.problems = [*self.problems[-9:], line]

    async def streamed(self, size: int, started: float) -> None:
        if size >= self.next_log:
            self.next_log += LOG_EVERY_BYTES
            rate = size / 1e6 / max(time.monotonic() - started, 1e-6)
            await self.job.log("backup streamed", bytes=size, mb_per_s=round(rate, 1))


async def _dump(url: str, env: dict[str, str], upload: Upload, progress: _Progress) -> Dumped:
    started = time.monotonic()
    environ = {**os.environ, **env}
    dump = await asyncio.create_subprocess_exec(
        _binary("pg_dump"), "--format=custom", "--verbose", f"--dbname={url}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=environ,
    )  # fmt: skip
    verify = await asyncio.create_subprocess_exec(
        _binary("pg_restore"), "--file=/dev/null",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert dump.stdout is not None and dump.stderr is not None
    assert verify.stdin is not None and verify.stderr is not None
    following = asyncio.ensure_future(progress.follow(dump.stderr))
    verify_errors = asyncio.ensure_future(verify.stderr.read())
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := await dump.stdout.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # judged by its exit code
                verify.stdin.write(chunk)
                await verify.stdin.drain()
            await upload.write(chunk)
            await progress.streamed(size, started)
        verify.stdin.close()
        dump_rc, verify_rc = await dump.wait(), await verify.wait()
        await following
        verify_err = await verify_errors
    finally:
        for proc in (dump, verify):
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        following.cancel()
        verify_errors.cancel()
    _check(dump_rc, progress.problems, verify_rc, verify_err.decode(errors="replace"))
    return Dumped(size, digest.hexdigest(), time.monotonic() - started)


def _check(dump_rc: int, dump_problems: list[str], verify_rc: int, verify_err: str) -> None:
    if dump_rc != 0:
        detail = " | ".join(dump_problems[-3:]) or f"exit code {dump_rc}"
        if any(marker in detail.lower() for marker in PERMANENT_DUMP_ERRORS):
            raise UnrecoverableError(f"pg_dump failed: {detail}")
        raise TargetUnavailable(f"pg_dump failed: {detail}")
    if verify_rc != 0:
        lines = [line for line in verify_err.splitlines() if line.strip()][-3:]
        raise TargetUnavailable(
            f"pg_restore cannot read the dump: {' | '.join(lines) or f'exit code {verify_rc}'}"
        )
