"""Every Lua script declares itself to Redis 7 on its first line (issue 12 §3): ``#!lua`` for scripts
that write (refused whole while Redis is over maxmemory), ``flags=no-writes`` for read-only ones,
``flags=allow-oom`` only for the few that delete or extend TTLs. Helpers carry no shebang, so the one of
the including script stays the first line of the text sent."""

from __future__ import annotations

from importlib import resources

import pytest

from jobs_core.scripts import source

FOLDER = resources.files("jobs_core.scripts")
NAMES = sorted(p.name[:-4] for p in FOLDER.iterdir() if p.name.endswith(".lua"))
ALLOW_OOM = {"clean", "extend_leases", "renew_leader", "release_leader", "repair_keys"}
READ_ONLY = {"inspect_jobs", "inspect_keys"}


@pytest.mark.parametrize("name", NAMES)
def test_each_script_opens_with_its_flags(name: str) -> None:
    first = source(name).split("\n", 1)[0]
    if name in ALLOW_OOM:
        assert first == "#!lua flags=allow-oom"
    elif name in READ_ONLY:
        assert first == "#!lua flags=no-writes"
    else:
        assert first == "#!lua"


def test_helpers_have_no_shebang() -> None:
    for helper in (FOLDER / "lib").iterdir():
        assert "#!lua" not in helper.read_text(encoding="utf-8"), helper.name


def test_read_only_scripts_call_no_write_command() -> None:
    writes = ("'SET'", "'DEL'", "'ZADD'", "'ZREM'", "'HSET'", "'SADD'", "'SREM'", "'XADD'", "'INCR'")
    for name in READ_ONLY:
        text = source(name)
        assert not [w for w in writes if w in text], name
