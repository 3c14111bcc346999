"""cleanup-expired: delete what is older than ``olderThan`` days, in batches, with progress.

- ``messages``: ``nchat_messages`` created before the cut-off (hard delete: nChat's trigger keeps the
  channel counters right, foreign keys cascade to threads and reactions).
- ``notifications``: read ``nchat_notifications`` created before the cut-off.
- ``jobs``: this service's own finished jobs in Redis older than the cut-off, through the core's
  ``QueueAdmin.clean`` (the same script as ``POST /queues/:name/clean``).

Each PostgreSQL batch is one short statement in its own transaction (``FOR UPDATE SKIP LOCKED``: rows
a user is editing are left for the next run), so no lock is held longer than one batch and an
interrupted run simply resumes next time. ``dryRun`` only counts. The result gives the counts, the
batches and the longest batch (the longest any lock was held).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from jobs_core.builtin_payloads import CleanupExpired
from jobs_core.queues import CLEANABLE, QueueAdmin
from jobs_worker.builtin.targets import Targets
from jobs_worker.job import Job

DAY_MS = 86_400_000
LOG_EVERY = 20  # batches between two job log lines

# (table, extra condition) per database target; names are constants, never from the payload.
TABLES = {
    "messages": ("nchat_messages", ""),
    "notifications": ("nchat_notifications", "AND is_read"),
}


def _delete_sql(table: str, extra: str) -> str:
    return f"""
WITH doomed AS (
    SELECT id FROM {table} WHERE created_at < $1 {extra}
     ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM {table} t USING doomed WHERE t.id = doomed.id RETURNING 1
)
SELECT count(*) FROM gone"""


async def cleanup_expired(job: Job, p: CleanupExpired, targets: Targets) -> dict[str, Any]:
    cutoff = datetime.now(UTC) - timedelta(days=p.older_than)
    summary = {
        "targetType": p.target_type,
        "olderThan": p.older_than,
        "cutoff": cutoff.isoformat(),
        "dryRun": p.dry_run,
    }
    if p.target_type == "jobs":
        return {**summary, **await _clean_jobs(job, p)}
    table, extra = TABLES[p.target_type]
    pool = await targets.database(f"cleanup-expired of {p.target_type}")
    matched = int(await pool.fetchval(f"SELECT count(*) FROM {table} WHERE created_at < $1 {extra}", cutoff))
    if p.dry_run:
        return {**summary, "matched": matched, "deleted": 0}
    deleted, batches, longest = await _delete_in_batches(
        job, pool, _delete_sql(table, extra), cutoff, batch_size=p.batch_size, expected=matched
    )
    return {
        **summary,
        "matched": matched,
        "deleted": deleted,
        "batches": batches,
        "longestBatchMs": round(longest * 1000, 1),
    }


async def _delete_in_batches(
    job: Job, pool: Any, sql: str, cutoff: datetime, *, batch_size: int, expected: int
) -> tuple[int, int, float]:
    deleted = batches = 0
    longest = 0.0
    started = time.monotonic()
    while True:
        t0 = time.monotonic()
        count = int(await pool.fetchval(sql, cutoff, batch_size))
        longest = max(longest, time.monotonic() - t0)
        deleted, batches = deleted + count, batches + 1
        if expected:
            await job.update_progress(min(99.0, round(100 * deleted / expected, 1)))
        if batches % LOG_EVERY == 0:
            rate = deleted / max(time.monotonic() - started, 1e-6)
            await job.log("cleanup progress", deleted=deleted, batches=batches, rows_per_s=round(rate))
        if count < batch_size:
            break
    await job.update_progress(100)
    return deleted, batches, longest


async def _clean_jobs(job: Job, p: CleanupExpired) -> dict[str, Any]:
    admin = QueueAdmin(job.store)
    grace_ms = p.older_than * DAY_MS
    found: dict[str, int] = {}
    for queue in admin.names:
        for state in CLEANABLE:
            if p.dry_run:
                count = await admin.count_cleanable(queue, state, grace_ms)
            else:
                count = await _clean_state(admin, queue, state, grace_ms, p.batch_size)
            if count:
                found[f"{queue}/{state}"] = count
    total = sum(found.values())
    return {"matched": total, "deleted": 0 if p.dry_run else total, "byQueueAndState": found}


async def _clean_state(admin: QueueAdmin, queue: str, state: str, grace_ms: int, batch_size: int) -> int:
    removed = 0
    while True:
        ids = await admin.clean(queue, state, grace_ms, batch_size)
        removed += len(ids)
        if len(ids) < batch_size:
            return removed
