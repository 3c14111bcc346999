"""The Lua key builders spell every key exactly as keys.py does, and every script code maps to the
typed error and status the API promises."""

from __future__ import annotations

import re
from typing import Any

import pytest
from redis.asyncio import Redis

from jobs_core import errors
from jobs_core import keys as keys_module
from jobs_core.keys import Keys
from jobs_core.scripts import source

LUA_BUILDERS = {
    "k_job": ("job", ["ID"]),
    "k_logs": ("job_logs", ["ID"]),
    "k_errors": ("job_errors", ["ID"]),
    "k_deps": ("job_deps", ["ID"]),
    "k_dependents": ("job_dependents", ["ID"]),
    "k_lease": ("lease", ["ID"]),
    "k_ready": ("ready", ["Q"]),
    "k_state": ("state", ["Q", "waiting"]),
    "k_type": ("by_type", ["Q", "T"]),
    "k_seq": ("seq", ["Q"]),
    "k_paused": ("paused", ["Q"]),
    "k_wake": ("wake", ["Q"]),
    "k_events": ("events", ["Q"]),
    "k_stats": ("stats", ["Q"]),
    "k_minute": ("minute", ["Q", 7]),
    "k_queues": ("known_queues", []),
}


async def test_lua_and_python_key_names_agree(redis: Redis) -> None:
    # The expanded helpers (prologue, key builders …) sit at the top of every script.
    helpers = source("claim").split("local worker, lease_ms")[0]
    assert "local function k_job" in helpers
    calls = []
    for fn, (_, args) in LUA_BUILDERS.items():
        rendered = ", ".join(f"'{a}'" if isinstance(a, str) else str(a) for a in args)
        calls.append(f"out[#out + 1] = {fn}(P{', ' if rendered else ''}{rendered})")
    script = helpers + "\nlocal out = {}\n" + "\n".join(calls) + "\nreturn out\n"
    lua_names = await redis.eval(script, 0, "PFX", "100")
    keys = Keys("PFX")
    expected = [getattr(keys, method)(*args) for method, args in LUA_BUILDERS.values()]
    assert lua_names == expected


def test_every_key_method_is_in_the_docstring_table() -> None:
    doc = keys_module.__doc__ or ""
    keys = Keys("P")
    for method, args in LUA_BUILDERS.values():
        name = getattr(keys, method)(*[f"{{{a}}}" if isinstance(a, str) else "{m}" for a in args])
        pattern = re.sub(
            r"\{[^}]*\}", r"\\{[a-z]+\\}", re.escape(name).replace(r"\{", "{").replace(r"\}", "}")
        )
        assert re.search(pattern, doc), name


CODES: list[tuple[int, type[errors.JobsError], int, tuple[Any, ...]]] = [
    (errors.JOB_NOT_FOUND, errors.NotFound, 404, ()),
    (errors.JOB_WRONG_STATE, errors.WrongState, 409, ("completed",)),
    (errors.UNKNOWN_DEPENDENCY, errors.InvalidInput, 400, ("job-x",)),
    (errors.QUEUE_IS_FULL, errors.QueueFull, 429, ("default",)),
    (errors.DEPENDENCY_FAILED, errors.WrongState, 409, ("job-x", "failed")),
]


@pytest.mark.parametrize(("code", "cls", "status", "detail"), CODES)
def test_script_codes_become_typed_errors(
    code: int, cls: type[errors.JobsError], status: int, detail: tuple[Any, ...]
) -> None:
    err = errors.error_for(code, "cancel", "job-1", *detail)
    assert isinstance(err, cls) and err.status == status
    assert "job-1" in err.message or (detail and str(detail[0]) in err.message)


def test_unknown_code_is_a_plain_error() -> None:
    err = errors.error_for(-99, "cancel", "job-1")
    assert type(err) is errors.JobsError and "-99" in err.message
