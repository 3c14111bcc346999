"""Looking up nChat's users and channels for the built-in processors.

nChat's ids are UUIDs, but clients (and SPEC.md's examples: ``user-123``, ``channel-456``) also name
users by username and channels by slug: an id that is not a UUID is looked up that way. Unknown names
and ambiguous slugs raise ``UnrecoverableError`` (a retry cannot make them exist).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from jobs_worker.job import UnrecoverableError


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    display_name: str
    username: str | None


@dataclass(frozen=True)
class Channel:
    id: uuid.UUID
    name: str
    source_account_id: str


USER_COLUMNS = "id, email, display_name, username"


async def find_user(conn: Any, ref: str) -> User:
    """The live (not deleted) user with this id, or this username."""
    key = as_uuid(ref)
    where = "id = $1" if key is not None else "username = $1"
    row = await conn.fetchrow(
        f"SELECT {USER_COLUMNS} FROM nchat_users WHERE {where} AND deleted_at IS NULL",
        key if key is not None else ref,
    )
    if row is None:
        kind = "id" if key is not None else "username"
        raise UnrecoverableError(f"unknown user {ref!r} (no nchat_users row with that {kind})")
    return User(row["id"], row["email"], row["display_name"], row["username"])


async def find_channel(conn: Any, ref: str) -> Channel:
    """The channel with this id, or the only one with this slug."""
    key = as_uuid(ref)
    if key is not None:
        rows = await conn.fetch("SELECT id, name, source_account_id FROM nchat_channels WHERE id = $1", key)
    else:
        rows = await conn.fetch(
            "SELECT id, name, source_account_id FROM nchat_channels WHERE slug = $1 LIMIT 2", ref
        )
    if not rows:
        raise UnrecoverableError(f"unknown channel {ref!r}")
    if len(rows) > 1:
        raise UnrecoverableError(f"channel slug {ref!r} is ambiguous: give the channel's id")
    row = rows[0]
    return Channel(row["id"], row["name"], row["source_account_id"])


async def is_member(conn: Any, channel_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM nchat_channel_members WHERE channel_id = $1 AND user_id = $2", channel_id, user_id
    )
    return found is not None


async def table_exists(conn: Any, name: str) -> bool:
    return await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"public.{name}") is True
