"""Invariants of the job registry after the run, and the agreement of counts and metrics with it.

Until ``jobs-admin check`` (issue 12 §3) is on main, this module is its stand-in: each job hash is in
exactly the state set its ``status`` names, and in its type index; every member of a state set, the
ready set or a type index has a record; leases exist only for active jobs; no per-job key outlives its
record; the ready set holds exactly the waiting jobs (else nothing would ever run them). Then
``/metrics`` of each api and ``GET /queues`` must tell the same counts as the records. The run ends
with ``jobs-admin check`` as well once the console script exists (see :func:`admin_check`).

The checker may SCAN: it is not a service, and it runs once on a quiet Redis.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from chaos.cluster import PREFIX
from chaos.events import QUEUES
from chaos.load import ApiPool
from chaos.probe import KEYS
from jobs_core.keys import JOB_STATES
from support.processes import BIN

SUBKEYS = (":logs", ":errors", ":deps", ":dependents")
SHOW = 5  # ids quoted per violation


@dataclass
class Registry:
    records: dict[str, dict[str, str]] = field(default_factory=dict)
    sets: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (queue, state) -> ids
    ready: dict[str, set[str]] = field(default_factory=dict)
    types: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (queue, type) -> ids
    leases: set[str] = field(default_factory=set)
    subkeys: list[str] = field(default_factory=list)

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((r.get("queue", "?"), r.get("status", "?")) for r in self.records.values())


async def load_registry(redis: Redis) -> Registry:
    reg = Registry()
    job_prefix = KEYS.job("")
    ids = [key[len(job_prefix) :] async for key in redis.scan_iter(job_prefix + "*", 2000, _type="hash")]
    for start in range(0, len(ids), 2000):
        pipe = redis.pipeline(transaction=False)
        for job_id in ids[start : start + 2000]:
            pipe.hgetall(KEYS.job(job_id))
        reg.records.update(zip(ids[start : start + 2000], await pipe.execute(), strict=True))
    for queue in QUEUES:
        for state in JOB_STATES:
            reg.sets[(queue, state)] = set(await redis.zrange(KEYS.state(queue, state), 0, -1))
        reg.ready[queue] = set(await redis.zrange(KEYS.ready(queue), 0, -1))
        type_prefix = KEYS.by_type(queue, "")
        async for key in redis.scan_iter(type_prefix + "*", 1000):
            reg.types[(queue, key[len(type_prefix) :])] = set(await redis.zrange(key, 0, -1))
    lease_prefix = KEYS.lease("")
    reg.leases = {key[len(lease_prefix) :] async for key in redis.scan_iter(lease_prefix + "*", 1000)}
    for kind in ("list", "set"):
        reg.subkeys += [key async for key in redis.scan_iter(job_prefix + "*", 2000, _type=kind)]
    return reg


def registry_violations(reg: Registry) -> list[str]:
    out: list[str] = []
    where: dict[str, list[tuple[str, str]]] = {}
    for (queue, state), members in reg.sets.items():
        for job_id in members:
            where.setdefault(job_id, []).append((queue, state))
    wrong = [i for i, r in reg.records.items() if where.get(i) != [(r.get("queue"), r.get("status"))]]
    _add(out, wrong, "records not in exactly the state set their status names", reg, where)
    _add(out, [i for i in where if i not in reg.records], "state-set members without a record")
    typed = {i for members in reg.types.values() for i in members}
    _add(out, [i for i in reg.records if i not in typed], "records missing from their type index")
    _add(out, [i for i in typed if i not in reg.records], "type-index members without a record")
    active = {i for i, r in reg.records.items() if r.get("status") == "active"}
    _add(out, sorted(reg.leases - active), "leases of jobs that are not active")
    for queue, members in reg.ready.items():
        waiting = reg.sets[(queue, "waiting")]
        _add(out, sorted(waiting - members), f"waiting jobs of {queue} missing from its ready set")
        _add(out, sorted(members - waiting), f"members of {queue}'s ready set that are not waiting")
    orphans = [k for k in reg.subkeys if _owner(k) not in reg.records]
    _add(out, orphans, "per-job keys whose job record is gone")
    return out


def _owner(key: str) -> str:
    base = key[len(KEYS.job("")) :]
    for suffix in SUBKEYS:
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def _add(out: list[str], ids: list[str], what: str, reg: Registry | None = None, where: Any = None) -> None:
    if not ids:
        return
    detail = ""
    if reg is not None:
        sample = ids[0]
        detail = f" (e.g. {sample}: status {reg.records[sample].get('status')}, in {where.get(sample)})"
    out.append(f"{len(ids)} {what}: {sorted(ids)[:SHOW]}{detail}")


async def metrics_violations(pool: ApiPool, reg: Registry) -> list[str]:
    """``/metrics`` of every api and ``GET /queues`` against the records, queue by queue."""
    counts = reg.counts()
    created = Counter(r.get("queue", "?") for r in reg.records.values())
    out: list[str] = []
    for base in pool.bases:
        async with pool.session.get(base + "/metrics") as response:
            samples = _samples(await response.text())
        for queue in QUEUES:
            expected = {f"jobs_{s}": counts[(queue, s)] for s in ("waiting", "active", "delayed", "blocked")}
            expected |= {f"jobs_{s}_total": counts[(queue, s)] for s in ("completed", "failed", "cancelled")}
            expected["jobs_total"] = created[queue]
            for name, want in expected.items():
                got = samples.get((name, queue), 0)
                if got != want:
                    out.append(f"{base}/metrics {name}{{queue={queue}}} = {got:g}, the records say {want}")
    status, body, _ = await pool.call("GET", "/queues")
    for view in body["queues"] if status == 200 else []:
        for state in JOB_STATES:
            if view["counts"][state] != counts[(view["name"], state)]:
                out.append(f"GET /queues: {view['name']} {state} = {view['counts'][state]}, "
                           f"the records say {counts[(view['name'], state)]}")  # fmt: skip
    return out


def _samples(text: str) -> Counter[tuple[str, str]]:
    """Sample values summed per (name, queue) over the other labels (type)."""
    out: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if "queue" in sample.labels:
                out[(sample.name, sample.labels["queue"])] += sample.value
    return out


# ---- CALL SITE: `jobs-admin check` (issue 12 §3, built on the `reliability` branch) -------------------
# Once the console script exists it runs here, over the same Redis, and a non-zero exit fails the run.
# Until then ``registry_violations`` above is the whole check.
def admin_check(redis_url: str) -> tuple[bool | None, str]:
    """(True, output) consistent; (False, output) inconsistent; (None, why) when not installed yet."""
    command = BIN / "jobs-admin"
    if not command.exists():
        return None, "jobs-admin is not installed (not on main yet): the harness's own checks ran"
    env = {**os.environ, "JOBS_REDIS_URL": redis_url, "JOBS_KEY_PREFIX": PREFIX}
    done = subprocess.run(
        [str(command), "check", "-o", "json"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()
