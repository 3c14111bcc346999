"""Loads the Lua scripts (one per state transition) and runs them.

Each ``<name>.lua`` may pull shared helpers with ``--!include lib/<file>.lua`` lines, resolved here once.
Scripts run by EVALSHA; redis-py's :class:`~redis.commands.core.AsyncScript` reloads a script that the
server forgot (NOSCRIPT after a restart or SCRIPT FLUSH), so callers never see that error. A script file
that is missing or includes a missing helper fails at start-up, not at the first call.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

INCLUDE = re.compile(r"^--!include (lib/[a-z_]+\.lua)\s*$", re.MULTILINE)

SCRIPT_NAMES = (
    "enqueue",
    "claim",
    "complete",
    "fail",
    "retry_later",
    "requeue",
    "extend_leases",
    "progress",
    "append_log",
    "cancel",
    "retry_job",
    "pause",
    "resume",
    "drain",
    "clean",
)


@cache
def source(name: str) -> str:
    """The script's text with its includes expanded."""
    folder = resources.files(__package__)
    text = (folder / f"{name}.lua").read_text(encoding="utf-8")

    def expand(match: re.Match[str]) -> str:
        return (folder / match.group(1)).read_text(encoding="utf-8")

    return INCLUDE.sub(expand, text)


class Scripts:
    """Registered scripts of one Redis client; ``await scripts.run("claim", args=[...])``."""

    def __init__(self, redis: Redis, names: tuple[str, ...] = SCRIPT_NAMES) -> None:
        self._scripts: dict[str, AsyncScript] = {n: redis.register_script(source(n)) for n in names}

    def add(self, redis: Redis, name: str) -> None:
        """Registers one more script (services with scripts of their own, e.g. the scheduler)."""
        self._scripts[name] = redis.register_script(source(name))

    async def run(self, name: str, keys: list[str] | None = None, args: list[Any] | None = None) -> Any:
        return await self._scripts[name](keys=keys or [], args=args or [])
