"""generate-analytics: one UTC day's figures, stored in ``jobs_analytics_daily`` (owned by this service).

- ``messages``: non-deleted messages created that day, thread replies included: total and per channel.
- ``users``: active = distinct authors of those messages; new = users created that day.
- ``channels``: new = channels created that day; active = channels with one of those messages.

The rows of the metrics asked for are replaced in one transaction (delete, then insert), so a re-run
replaces the day's figures and never adds to them. ``date`` defaults to yesterday (UTC). Figures cover
every ``source_account_id`` together (the worker is not one tenant's client).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from jobs_core.builtin_payloads import ANALYTICS_METRICS, GenerateAnalytics
from jobs_worker.builtin.targets import Targets
from jobs_worker.job import Job

# The per-channel map in the job's result is capped; the table always has every channel.
RESULT_CHANNELS = 1000
LIVE = "NOT COALESCE(is_deleted, false)"
DAY_MESSAGES = f"FROM nchat_messages WHERE created_at >= $1 AND created_at < $2 AND {LIVE}"


async def generate_analytics(job: Job, p: GenerateAnalytics, targets: Targets) -> dict[str, Any]:
    day = p.date or (datetime.now(UTC).date() - timedelta(days=1))
    metrics = list(p.metrics or ANALYTICS_METRICS)
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    pool = await targets.database("generate-analytics")
    result: dict[str, Any] = {"date": day.isoformat()}
    rows: list[tuple[date, str, str, int]] = []
    async with pool.acquire() as conn, conn.transaction():
        if "messages" in metrics:
            result["messages"] = await _messages(conn, start, end, day, rows)
        if "users" in metrics:
            result["users"] = await _users(conn, start, end, day, rows)
        if "channels" in metrics:
            result["channels"] = await _channels(conn, start, end, day, rows)
        await conn.execute(
            "DELETE FROM jobs_analytics_daily"
            " WHERE day = $1 AND split_part(metric, '.', 1) = ANY($2::text[])",
            day,
            metrics,
        )
        await conn.copy_records_to_table(
            "jobs_analytics_daily", records=rows, columns=["day", "metric", "dimension", "value"]
        )
    await job.log("analytics stored", date=day.isoformat(), rows=len(rows))
    return result


async def _messages(conn: Any, start: datetime, end: datetime, day: date, rows: list[Any]) -> dict[str, Any]:
    per_channel = await conn.fetch(
        f"SELECT channel_id, count(*) AS n {DAY_MESSAGES} GROUP BY channel_id ORDER BY n DESC, channel_id",
        start,
        end,
    )
    total = sum(int(r["n"]) for r in per_channel)
    rows.append((day, "messages.total", "", total))
    rows.extend((day, "messages.channel", str(r["channel_id"]), int(r["n"])) for r in per_channel)
    figures: dict[str, Any] = {
        "total": total,
        "perChannel": {str(r["channel_id"]): int(r["n"]) for r in per_channel[:RESULT_CHANNELS]},
    }
    if len(per_channel) > RESULT_CHANNELS:
        figures["perChannelTruncated"] = True
    return figures


async def _users(conn: Any, start: datetime, end: datetime, day: date, rows: list[Any]) -> dict[str, int]:
    active = await conn.fetchval(
        f"SELECT count(DISTINCT user_id) {DAY_MESSAGES}",
        start,
        end,
    )
    new = await conn.fetchval(
        "SELECT count(*) FROM nchat_users WHERE created_at >= $1 AND created_at < $2", start, end
    )
    rows.extend([(day, "users.active", "", int(active)), (day, "users.new", "", int(new))])
    return {"active": int(active), "new": int(new)}


async def _channels(conn: Any, start: datetime, end: datetime, day: date, rows: list[Any]) -> dict[str, int]:
    new = await conn.fetchval(
        "SELECT count(*) FROM nchat_channels WHERE created_at >= $1 AND created_at < $2", start, end
    )
    active = await conn.fetchval(
        f"SELECT count(DISTINCT channel_id) {DAY_MESSAGES}",
        start,
        end,
    )
    rows.extend([(day, "channels.new", "", int(new)), (day, "channels.active", "", int(active))])
    return {"new": int(new), "active": int(active)}
