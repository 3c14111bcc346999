"""The registry's invariants, checked against a live Redis, and the repairs of what a crash of Redis
itself (or an eviction, or a bug) can leave behind: the engine of ``jobs-admin check``.

Invariants (each job record is the truth, since every transition writes it in the same script as the
indexes): each job is in exactly the state set its record names, of its own queue; its queue's ready set
holds exactly the waiting jobs (an active try's lease is its score in the active set); it is in its
type index; an arq in-progress key (the lease of the previous design, left by a worker of an older
version) exists only for an active try and holds that try's token; a blocked job waits only on
pending dependencies that list it as a dependent; no index member, side key (logs, errors, deps,
dependents), lease or schedule side key outlives its owner; every key under the prefix is one the
services write (``keys.classify``).

How it reads: SCAN over ``P:*`` and ``arq:in-progress:P:*`` one page at a time (TYPE pipelined), and
ZSCAN over every index it meets, so memory stays bounded by the page size whatever the data set; each
batch is judged by a read-only script (``inspect_jobs``, ``inspect_keys``, flag ``no-writes``), which
sees one atomic moment, so a transition running meanwhile cannot produce a false finding. Repairs run
per finding through ``repair_job`` / ``repair_keys``, which check again inside the script before
changing anything. How it fails: ``RedisUnavailable`` (or ``RedisFull`` while repairing) propagates.
"""

from __future__ import annotations

import fnmatch
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from jobs_core.keys import KeyKind, Keys, classify
from jobs_core.redis_conn import unavailable_as_error
from jobs_core.scripts import Scripts
from jobs_core.settings import CoreSettings

CHECK_SCRIPTS = ("inspect_jobs", "inspect_keys", "repair_job", "repair_keys")
SCAN_COUNT = 500
BATCH = 200

# kind → (what it means, what --repair does). docs/reliability.md carries the same table.
KINDS: dict[str, tuple[str, str]] = {
    "record_corrupt": ("a job record without a known state, queue or type", "none: reported"),
    "state_missing": ("the job is not in its state's set", "added (repair_job)"),
    "state_extra": ("the job is also in another state's set", "removed from it (repair_job)"),
    "ready_missing": (
        "a waiting job is not in its queue's ready set",
        "re-added at the end of its band",
    ),
    "ready_extra": ("a job that is not waiting is in the ready set", "removed (repair_job)"),
    "type_missing": ("the job is not in its type index", "added (repair_job)"),
    "lease_mismatch": ("a lease for a job that is not active, or with another try's token", "lease deleted"),
    "lease_orphan": ("a lease whose job record is gone", "lease deleted"),
    "blocked_on_dead": (
        "a blocked job waits on a dependency that failed, was cancelled or is gone",
        "job failed",
    ),
    "blocked_on_completed": (
        "a blocked job still lists a completed dependency",
        "dropped; released if none left",
    ),
    "blocked_without_deps": ("a blocked job with no dependency left", "released (waiting or delayed)"),
    "dependent_link_missing": (
        "a dependency does not list the blocked job as its dependent",
        "link restored",
    ),
    "index_orphan": ("an index member whose job record is gone", "member removed"),
    "index_wrong_queue": ("an index member of another queue than its record's", "member removed"),
    "index_wrong_type": ("a type-index member whose record has another type", "member removed"),
    "aux_orphan": ("logs, errors, deps or dependents of a job whose record is gone", "key deleted"),
    "schedule_orphan": ("schedule state or recent jobs of a deleted schedule", "key deleted"),
    "unknown_key": ("a key under the prefix that no service writes", "none: reported (see --ignore)"),
}
BY_KEYS = {
    "index_orphan",
    "index_wrong_queue",
    "index_wrong_type",
    "aux_orphan",
    "lease_orphan",
    "schedule_orphan",
}
NOT_REPAIRABLE = {"record_corrupt", "unknown_key"}


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str
    job_id: str = ""
    detail: str = ""

    def as_dict(self, repaired: bool) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "jobId": self.job_id or None, "detail": self.detail,
                "repaired": repaired}  # fmt: skip


@dataclass
class Report:
    """What one pass saw. ``findings`` lists at most ``max_listed`` (finding → repaired); ``counts``
    counts them all. After a repair, ``remaining`` is what a second, read-only pass still found."""

    max_listed: int
    findings: dict[Finding, bool] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    scanned: Counter[str] = field(default_factory=Counter)
    stalled: int = 0
    seconds: float = 0.0
    remaining: int | None = None

    def add(self, finding: Finding) -> bool:
        """Records a finding once (SCAN may return a key twice); False when already seen."""
        if finding in self.findings:
            return False
        self.counts[finding.kind] += 1
        if len(self.findings) < self.max_listed:
            self.findings[finding] = False
        return True

    @property
    def problems(self) -> int:
        return sum(self.counts.values())

    @property
    def left(self) -> int:
        """Inconsistencies still in Redis: all of them, or after a repair what the second pass found."""
        return self.problems if self.remaining is None else self.remaining


class Checker:
    """``await Checker(redis, settings).run(repair=...)`` → a :class:`Report`."""

    def __init__(
        self, redis: Redis, settings: CoreSettings, *, ignore: Iterable[str] = (), max_listed: int = 1000
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = Keys(settings.key_prefix)
        self.prefix = settings.key_prefix
        self.ignore = list(ignore)
        self.max_listed = max_listed
        self.scripts = Scripts(redis, CHECK_SCRIPTS)

    async def run(self, repair: bool = False) -> Report:
        """One pass; with ``repair``, a second read-only pass then tells what is left."""
        report = await self._pass(repair)
        if repair and report.problems:
            second = await self._pass(False)
            report.remaining = second.problems
            report.seconds += second.seconds
            for finding in report.findings:
                report.findings[finding] = (
                    finding not in second.findings and second.problems < second.max_listed
                )
        return report

    async def _pass(self, repair: bool) -> Report:
        report = Report(self.max_listed)
        started = time.perf_counter()
        async with unavailable_as_error():
            async for page in self._scan(f"{self.prefix}:*"):
                await self._page(page, report, repair)
            async for page in self._scan(self.keys.lease("*")):
                await self._page(page, report, repair)
        report.seconds = time.perf_counter() - started
        return report

    async def _scan(self, match: str) -> AsyncIterator[list[tuple[str, str]]]:
        """Pages of (key, type); keys vanishing between SCAN and TYPE come back as type 'none'."""
        cursor: int | None = None
        while cursor != 0:
            cursor, keys = await self.redis.scan(cursor or 0, match=match, count=SCAN_COUNT)
            if keys:
                pipe = self.redis.pipeline(transaction=False)
                for key in keys:
                    pipe.type(key)
                yield list(zip(keys, await pipe.execute(), strict=True))

    async def _page(self, page: list[tuple[str, str]], report: Report, repair: bool) -> None:
        jobs: list[str] = []
        side: list[str] = []
        for key, rtype in page:
            if rtype == "none" or any(fnmatch.fnmatchcase(key, g) for g in self.ignore):
                continue
            report.scanned["keys"] += 1
            kind = classify(self.prefix, key, rtype)
            if kind is None:
                report.add(Finding("unknown_key", key, detail=rtype))
            elif kind.kind == "job":
                jobs.append(kind.owner)
            elif kind.kind in ("job_side", "lease", "schedule_side"):
                side += _side_args(kind, key)
            elif kind.kind in ("ready", "state", "type"):
                await self._index(key, kind, report, repair)
        for chunk in _chunks(jobs, BATCH):
            await self._jobs(chunk, report, repair)
        for chunk in _chunks(side, BATCH * 4):
            await self._judge_keys(chunk, report, repair)

    async def _jobs(self, ids: list[str], report: Report, repair: bool) -> None:
        report.scanned["jobs"] += len(ids)
        raw = await self.scripts.run("inspect_jobs", args=self._head(*ids))
        report.stalled += int(raw[0])
        fresh = set()
        for i in range(1, len(raw), 4):
            job_id, kind, key, detail = raw[i : i + 4]
            if report.add(Finding(kind, key, job_id, detail)) and kind not in NOT_REPAIRABLE:
                fresh.add(job_id)
        if repair:
            for job_id in sorted(fresh):
                await self._repair_job(job_id)

    async def _index(self, key: str, kind: KeyKind, report: Report, repair: bool) -> None:
        expected = f"{kind.owner} {kind.name}".strip()
        cursor: int | None = None
        while cursor != 0:
            cursor, pairs = await self.redis.zscan(key, cursor or 0, count=SCAN_COUNT)
            report.scanned["members"] += len(pairs)
            args = [v for member, _ in pairs for v in (kind.kind, key, member, expected)]
            for chunk in _chunks(args, BATCH * 4):
                await self._judge_keys(chunk, report, repair)

    async def _judge_keys(self, args: list[str], report: Report, repair: bool) -> None:
        raw = await self.scripts.run("inspect_keys", args=self._head(*args))
        fixes: list[str] = []
        jobs: set[str] = set()
        for i in range(0, len(raw), 4):
            job_id, kind, key, detail = raw[i : i + 4]
            if not report.add(Finding(kind, key, job_id, detail)):
                continue
            if kind in BY_KEYS:
                fixes += [kind, key, job_id]
            else:
                jobs.add(job_id)
        if repair and fixes:
            await self.scripts.run("repair_keys", args=self._head(*fixes))
        if repair:
            for job_id in sorted(jobs):
                await self._repair_job(job_id)

    async def _repair_job(self, job_id: str) -> None:
        keep = [self.settings.keep_failed, self.settings.keep_failed_age * 1000]
        await self.scripts.run("repair_job", args=self._head(job_id, *keep))

    def _head(self, *args: Any) -> list[Any]:
        return [self.prefix, self.settings.events_maxlen, *args]


def _side_args(kind: KeyKind, key: str) -> list[str]:
    what = {"job_side": "aux", "lease": "lease", "schedule_side": "sched"}[kind.kind]
    return [what, key, kind.owner, ""]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
