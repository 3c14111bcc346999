"""Loads the Lua scripts (one per state transition) and runs them.

Each ``<name>.lua`` may pull shared helpers with ``--!include lib/<file>.lua`` lines, resolved here once.
Each script opens with a Redis 7 shebang, which must stay the first line of the text sent: ``#!lua`` for
a script that writes (Redis then refuses it *before it runs* while used memory is over ``maxmemory``, so
a full Redis never holds a half-written transition), ``#!lua flags=allow-oom`` for the few that only
delete or extend TTLs, and ``#!lua flags=no-writes`` for read-only ones. Helpers carry no shebang.
Scripts run by EVALSHA; redis-py's :class:`~redis.commands.core.AsyncScript` reloads a script that the
server forgot (NOSCRIPT after a restart or SCRIPT FLUSH), so callers never see that error. A script file
that is missing, includes a missing helper or lacks its shebang fails at start-up, not at the first call.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

INCLUDE = re.compile(r"^--!include (lib/[a-z_]+\.lua)\s*$", re.MULTILINE)
SHEBANG = re.compile(r"^#!lua( flags=[a-z,-]+)?\n")

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

    text = INCLUDE.sub(expand, text)
    if not SHEBANG.match(text) or text.count("#!lua") != 1:
        raise ValueError(f"script {name}.lua must start with one '#!lua' line (with its flags)")
    return text


class Scripts:
    """Registered scripts of one Redis client; ``await scripts.run("claim", args=[...])``."""

    def __init__(self, redis: Redis, names: tuple[str, ...] = SCRIPT_NAMES) -> None:
        self._scripts: dict[str, AsyncScript] = {n: redis.register_script(source(n)) for n in names}

    def add(self, redis: Redis, name: str) -> None:
        """Registers one more script (services with scripts of their own, e.g. the scheduler)."""
        self._scripts[name] = redis.register_script(source(name))

    async def run(self, name: str, keys: list[str] | None = None, args: list[Any] | None = None) -> Any:
        return await self._scripts[name](keys=keys or [], args=args or [])

    async def run_pipelined(self, redis: Redis, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Several scripts in one round trip, run back to back by Redis, each on its own (not a
        transaction). A script the server has forgot (NOSCRIPT: it did not run) is loaded and run again
        alone; any other error reply is raised."""
        pipe = redis.pipeline(transaction=False)
        for name, args in calls:
            pipe.execute_command("EVALSHA", self._scripts[name].sha, 0, *args)
        replies = await pipe.execute(raise_on_error=False)
        out = []
        for (name, args), reply in zip(calls, replies, strict=True):
            if isinstance(reply, NoScriptError):
                out.append(await self.run(name, args=args))
            elif isinstance(reply, Exception):
                raise reply
            else:
                out.append(reply)
        return out

    async def run_in(self, pipe: Any, name: str, args: list[Any]) -> None:
        """Queues the script in a pipeline (its reply comes with the pipeline's), e.g. before a WAIT
        that must run on the same connection as the script's writes."""
        await self._scripts[name](keys=[], args=args, client=pipe)
