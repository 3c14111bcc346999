"""Every Redis key the system writes, in one place.

All keys start with ``JOBS_KEY_PREFIX`` (``P`` below), so two deployments or two tests share one Redis
safely. Where arq fixes a key name (``arq:in-progress:…``), the id we hand to arq carries the prefix.
Lua scripts receive the prefix and rebuild the per-job keys with the same patterns (see
``scripts/lib/keys.lua``); a test checks that both spellings agree.

| key                          | type   | TTL                  | owner / meaning                                    |
|------------------------------|--------|----------------------|----------------------------------------------------|
| P:job:{id}                   | HASH   | none (retention)     | the job record: state, payload, result, error      |
| P:job:{id}:logs              | LIST   | with the record      | lines written by ``job.log()``, capped             |
| P:job:{id}:errors            | LIST   | with the record      | error and stack of each failed try, capped         |
| P:job:{id}:deps              | SET    | with the record      | dependencies not yet completed                     |
| P:job:{id}:dependents        | SET    | with the record      | jobs waiting on this one                           |
| P:q:{queue}:ready            | ZSET   | none                 | arq's queue: waiting jobs, score = band + sequence |
| P:q:{queue}:{state}          | ZSET   | none                 | registry per state, score = ms the job entered it; |
|                              |        |                      | active: the try's lease deadline (ms), renewed     |
| P:q:{queue}:type:{type}      | ZSET   | none                 | every job of that type, score = created ms         |
| P:q:{queue}:seq              | STRING | none                 | FIFO counter inside a priority band                |
| P:q:{queue}:paused           | STRING | none                 | present while the queue is paused                  |
| P:q:{queue}:wake             | LIST   | none (capped at 16)  | wake-up tokens for idle workers (BLPOP)            |
| P:q:{queue}:events           | STREAM | MAXLEN ~ setting     | every transition (SSE, dashboard)                  |
| P:q:{queue}:stats            | HASH   | none                 | monotonic counters: created, completed, failed …   |
| P:q:{queue}:minute:{m}       | HASH   | 25 h                 | completed/failed/durations for minute m (charts)   |
| P:queues                     | SET    | none                 | every queue that ever held a job                   |
| P:workers                    | ZSET   | none (pruned)        | worker id → last heartbeat ms                      |
| P:worker:{id}                | HASH   | 3 × heartbeat        | worker info: queues, concurrency, running, host    |
| P:control                    | pubsub | —                    | cancel / resume broadcasts to workers              |
| arq:in-progress:P:{id}       | STRING | lease (renewed)      | lease of the previous design, only read: a worker  |
|                              |        |                      | of an older version still writes it (upgrades)     |
| P:sched:leader               | STRING | leader lease (PX)    | scheduler: token of the replica that fires         |
| P:sched:epoch                | STRING | none                 | scheduler: fencing counter, +1 per acquired lease  |
| P:sched:defs                 | HASH   | none                 | scheduler: schedule id → definition JSON           |
| P:sched:state:{sid}          | HASH   | with the definition  | scheduler: paused, last fire/run, rev, counters    |
| P:sched:recent:{sid}         | LIST   | with the definition  | scheduler: newest job ids it created, capped       |
| P:sched:version              | STRING | none                 | scheduler: +1 on every schedule change             |
| P:sched:changes              | pubsub | —                    | scheduler: "a schedule changed" (leader resyncs)   |
| P:audit                      | LIST   | none (capped)        | dashboard: who did what, when                      |
| P:q:{queue}:ready:health-check | STRING | arq's health interval | arq's own health key (only deleted, at close)    |

A Redis ACL user for one deployment needs exactly ``acl_patterns(P)``: keys ``P:*`` and
``arq:in-progress:P:*``, channels ``P:*``. Whoever adds a key adds it to this table and to
``classify`` below, or ``jobs-admin check`` reports it as an unknown key.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from arq.constants import in_progress_key_prefix

JOB_STATES = ("waiting", "delayed", "blocked", "active", "completed", "failed", "cancelled")
FINISHED_STATES = ("completed", "failed", "cancelled")

# Why these numbers: a wake list longer than 16 only re-wakes workers that are already busy; 25 h of
# minute buckets covers the dashboard's "last day" chart with an hour to spare.
WAKE_LIST_CAP = 16
MINUTE_BUCKET_TTL_S = 25 * 3600
LOG_LINES_CAP = 1000
ERRORS_CAP = 25
# Scheduler: job ids kept per schedule for GET /schedules/{id}; older ones stay findable by scheduleId.
RECENT_JOBS_CAP = 20


class Keys:
    """Key names for one ``JOBS_KEY_PREFIX``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    # --- jobs -----------------------------------------------------------------------------------------
    def job(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def job_logs(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}:logs"

    def job_errors(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}:errors"

    def job_deps(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}:deps"

    def job_dependents(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}:dependents"

    def lease(self, job_id: str) -> str:
        """arq's in-progress key: the lease of the previous design, which workers of an older version still
        write during a rolling upgrade; the claim leaves a try alone while it exists."""
        return f"{in_progress_key_prefix}{self.prefix}:{job_id}"

    # --- queues ---------------------------------------------------------------------------------------
    def ready(self, queue: str) -> str:
        """The sorted set arq's worker reads (its ``queue_name``)."""
        return f"{self.prefix}:q:{queue}:ready"

    def state(self, queue: str, state: str) -> str:
        return f"{self.prefix}:q:{queue}:{state}"

    def by_type(self, queue: str, job_type: str) -> str:
        return f"{self.prefix}:q:{queue}:type:{job_type}"

    def seq(self, queue: str) -> str:
        return f"{self.prefix}:q:{queue}:seq"

    def paused(self, queue: str) -> str:
        return f"{self.prefix}:q:{queue}:paused"

    def wake(self, queue: str) -> str:
        return f"{self.prefix}:q:{queue}:wake"

    def events(self, queue: str) -> str:
        return f"{self.prefix}:q:{queue}:events"

    def stats(self, queue: str) -> str:
        return f"{self.prefix}:q:{queue}:stats"

    def minute(self, queue: str, minute: int) -> str:
        return f"{self.prefix}:q:{queue}:minute:{minute}"

    def known_queues(self) -> str:
        return f"{self.prefix}:queues"

    # --- processes ------------------------------------------------------------------------------------
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    def worker(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}"

    def control_channel(self) -> str:
        return f"{self.prefix}:control"

    # --- scheduler (jobs_core.leader, jobs_core.schedules) ---------------------------------------------
    def leader(self) -> str:
        return f"{self.prefix}:sched:leader"

    def leader_epoch(self) -> str:
        return f"{self.prefix}:sched:epoch"

    def schedules(self) -> str:
        return f"{self.prefix}:sched:defs"

    def schedule_state(self, schedule_id: str) -> str:
        return f"{self.prefix}:sched:state:{schedule_id}"

    def schedule_recent(self, schedule_id: str) -> str:
        return f"{self.prefix}:sched:recent:{schedule_id}"

    def schedules_version(self) -> str:
        return f"{self.prefix}:sched:version"

    def schedules_channel(self) -> str:
        return f"{self.prefix}:sched:changes"

    # --- dashboard ------------------------------------------------------------------------------------
    # P:audit  LIST, no TTL, capped at jobs_core.admin.AUDIT_CAP: newest-first JSON records of the
    # dashboard's actions (who, what, when), shown on its audit page.
    def audit(self) -> str:
        return f"{self.prefix}:audit"


# --- what a key under the prefix is (jobs-admin check) ----------------------------------------------------
class KeyKind(NamedTuple):
    """``kind`` of a key, the job, queue or schedule it belongs to (``owner``), and the state or type
    its name carries (``name``) where it has one."""

    kind: str
    owner: str = ""
    name: str = ""


_QUEUE = r"(?P<q>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})"
_STATES = "|".join(JOB_STATES)
# (kind, pattern after "P:", Redis type); the first match wins, so the job record (any hash whose name
# starts with job:) comes after its side keys, which have other types.
_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("job_side", r"job:(?P<o>.+):(?:logs|errors)", "list"),
    ("job_side", r"job:(?P<o>.+):(?:deps|dependents)", "set"),
    ("job", r"job:(?P<o>.+)", "hash"),
    ("ready", rf"q:{_QUEUE}:ready", "zset"),
    ("state", rf"q:{_QUEUE}:(?P<n>{_STATES})", "zset"),
    ("type", rf"q:{_QUEUE}:type:(?P<n>.+)", "zset"),
    ("queue", rf"q:{_QUEUE}:(?:seq|paused|ready:health-check)", "string"),
    ("queue", rf"q:{_QUEUE}:wake", "list"),
    ("queue", rf"q:{_QUEUE}:events", "stream"),
    ("queue", rf"q:{_QUEUE}:(?:stats|minute:\d+)", "hash"),
    ("global", r"queues", "set"),
    ("global", r"workers", "zset"),
    ("global", r"worker:.+", "hash"),
    ("global", r"audit", "list"),
    ("global", r"sched:(?:leader|epoch|version)", "string"),
    ("global", r"sched:defs", "hash"),
    ("schedule_side", r"sched:state:(?P<o>.+)", "hash"),
    ("schedule_side", r"sched:recent:(?P<o>.+)", "list"),
)
_COMPILED = tuple((kind, re.compile(pattern + r"\Z", re.DOTALL), rtype) for kind, pattern, rtype in _PATTERNS)


def classify(prefix: str, key: str, redis_type: str) -> KeyKind | None:
    """What ``key`` (of Redis type ``redis_type``) is, or None when no service writes such a key."""
    if key.startswith(f"{in_progress_key_prefix}{prefix}:"):
        owner = key[len(in_progress_key_prefix) + len(prefix) + 1 :]
        return KeyKind("lease", owner) if redis_type == "string" else None
    if not key.startswith(prefix + ":"):
        return None
    rest = key[len(prefix) + 1 :]
    for kind, pattern, rtype in _COMPILED:
        found = pattern.match(rest)
        if found and rtype == redis_type:
            groups = found.groupdict()
            return KeyKind(kind, groups.get("o") or groups.get("q") or "", groups.get("n") or "")
    return None


def acl_patterns(prefix: str) -> dict[str, list[str]]:
    """Key and channel patterns a Redis ACL user of this deployment must be allowed (docs, tests)."""
    return {"keys": [f"{prefix}:*", f"{in_progress_key_prefix}{prefix}:*"], "channels": [f"{prefix}:*"]}
