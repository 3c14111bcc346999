"""Helpers of the built-in job tests: nChat rows to act on, and scheduling a job through the API then
waiting for its end through the event stream."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from redis.asyncio import Redis

from support.api import ApiClient
from support.waiting import wait_state

DONE = ("completed", "failed", "cancelled")


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


async def user(db: asyncpg.Connection, username: str, email: str | None = None, **settings: Any) -> uuid.UUID:
    """A user, with nchat_user_settings when ``settings`` are given."""
    uid = await db.fetchval(
        "INSERT INTO nchat_users (email, display_name, username, email_verified)"
        " VALUES ($1, $2, $3, true) RETURNING id",
        email or f"{username}@example.org",
        username.title(),
        username,
    )
    if settings:
        columns = ", ".join(["user_id", *settings])
        marks = ", ".join(f"${i}" for i in range(1, len(settings) + 2))
        await db.execute(
            f"INSERT INTO nchat_user_settings ({columns}) VALUES ({marks})", uid, *settings.values()
        )
    return uid


async def channel(
    db: asyncpg.Connection, slug: str, *members: uuid.UUID, created: datetime | None = None
) -> uuid.UUID:
    cid = await db.fetchval(
        "INSERT INTO nchat_channels (name, slug, created_at) VALUES ($1, $1, $2) RETURNING id",
        slug,
        created or datetime.now(UTC),
    )
    for member in members:
        await db.execute(
            "INSERT INTO nchat_channel_members (channel_id, user_id) VALUES ($1, $2)", cid, member
        )
    return cid


async def message(
    db: asyncpg.Connection, cid: uuid.UUID, author: uuid.UUID | None, content: str, at: datetime, **extra: Any
) -> uuid.UUID:
    columns = ", ".join(["channel_id", "user_id", "content", "created_at", *extra])
    marks = ", ".join(f"${i}" for i in range(1, len(extra) + 5))
    return await db.fetchval(  # type: ignore[no-any-return]
        f"INSERT INTO nchat_messages ({columns}) VALUES ({marks}) RETURNING id",
        cid,
        author,
        content,
        at,
        *extra.values(),
    )


async def run_job(
    api: ApiClient, redis: Redis, prefix: str, job: dict[str, Any], timeout: float = 30.0
) -> dict[str, Any]:
    """Schedules through POST /schedule, waits for a final state, returns GET /jobs/:id."""
    answer = await api.schedule(job)
    await wait_state(redis, prefix, answer["jobId"], DONE, timeout=timeout)
    return await api.job(answer["jobId"])


def result_of(view: dict[str, Any]) -> Any:
    assert view["status"] == "completed", json.dumps(view, default=str)[:2000]
    return view["result"]
