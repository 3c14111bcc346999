"""The invariants of a chaos run over the final job records and the side-effect log.

- **0 lost**: every acknowledged job has a record in the state it should end in (its kind says which;
  a cancel the api confirmed means ``cancelled``; a job that lost its worker more than JOBS_MAX_STALLS
  times is ``failed``, as designed), and kind-specific facts hold (a flaky job completed on try fails+1,
  a delayed one did not start before its due time, a dependent one started after its dependencies
  finished).
- **effects**: each completed job made its effect exactly once, a cancelled one at most once, except
  jobs that were in flight at a kill (SIGKILLed worker, or Redis going down): at-least-once allows
  those a second run, and they are counted and listed, never excused otherwise.
- **cron**: every second from the first fire to the last has exactly one job and exactly one
  ``created`` fire across all scheduler replicas, killed ones included (see :func:`cron_violations`).
- **nothing stuck**: no job left waiting, delayed, blocked or active once the run is quiet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chaos.effects import Effects
from chaos.faults import TICK, FaultRecord
from chaos.load import Ack
from chaos.workload import Planned

SHOW = 5
UNFINISHED = ("waiting", "delayed", "blocked", "active")


@dataclass
class Findings:
    figures: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    def fail(self, what: str, ids: Iterable[str]) -> None:
        listed = sorted(ids)
        if listed:
            self.violations.append(f"{len(listed)} {what}: {listed[:SHOW]}")


def fault_in_flight(fault: FaultRecord, effects: Effects) -> set[str]:
    """Jobs a fault may have interrupted: held by a killed worker, or active when Redis went down
    (the snapshot just before, plus tries that began between the snapshot and Redis being back)."""
    out = set(fault.in_flight)
    if fault.window is not None:
        out |= effects.started_between(fault.window[0] * 1000, fault.window[1] * 1000)
    return out


def in_flight_at_kills(faults: list[FaultRecord], effects: Effects) -> set[str]:
    return set().union(*(fault_in_flight(f, effects) for f in faults)) if faults else set()


def duplicates_by_fault(
    duplicated: list[str], faults: list[FaultRecord], effects: Effects
) -> dict[str, list[str]]:
    """The duplicated jobs grouped by the kind of fault they were in flight at (the first that held them)."""
    sets = [(f.kind, fault_in_flight(f, effects)) for f in faults]
    out: dict[str, list[str]] = {}
    for job in duplicated:
        out.setdefault(next((kind for kind, held in sets if job in held), "none"), []).append(job)
    return out


def expected_state(job: Planned, record: dict[str, str], cancels: dict[str, str], max_stalls: int) -> str:
    if int(record.get("stalls") or 0) > max_stalls:
        return "failed"  # lost its worker too often: failed by design (JOBS_MAX_STALLS)
    if job.kind == "cancel" and job.id in cancels:
        return cancels[job.id]
    return "completed"


def check_jobs(
    jobs: dict[str, Planned],
    acks: dict[str, Ack],
    records: dict[str, dict[str, str]],
    cancels: dict[str, str],
    max_stalls: int,
) -> Findings:
    out = Findings()
    missing = [i for i in acks if i not in records]
    wrong = [
        i
        for i in acks
        if i in records and records[i]["status"] != expected_state(jobs[i], records[i], cancels, max_stalls)
    ]
    out.fail("acknowledged jobs without a record", missing)
    for job_id in wrong[:SHOW]:
        record = records[job_id]
        out.violations.append(
            f"{job_id} ({jobs[job_id].kind}) ended {record['status']} (error {record.get('error')!r}), "
            f"expected {expected_state(jobs[job_id], record, cancels, max_stalls)}"
        )
    out.figures["lost"] = len(missing) + len(wrong)
    done = {i: records[i] for i in acks if i in records and records[i]["status"] == "completed"}
    out.fail("flaky jobs not completed on try fails+1", [i for i in done if _bad_flaky(jobs[i], done[i])])
    out.fail("delayed jobs started before their due time", [i for i in done if _early(jobs[i], done[i])])
    out.fail(
        "dependent jobs started before a dependency finished",
        [i for i in done if _before_deps(jobs[i], done[i], records)],
    )
    return out


def _bad_flaky(job: Planned, record: dict[str, str]) -> bool:
    return job.kind == "flaky" and int(record["attempt"]) != job.fails + 1


def _early(job: Planned, record: dict[str, str]) -> bool:
    return job.kind == "delayed" and int(record["startedAt"]) < int(record["runAt"])


def _before_deps(job: Planned, record: dict[str, str], records: dict[str, dict[str, str]]) -> bool:
    started = int(record["startedAt"])
    return any(int(records.get(d, {}).get("finishedAt") or 1e18) > started for d in job.deps)


def check_effects(
    out: Findings,
    acked: Iterable[str],
    records: dict[str, dict[str, str]],
    effects: Effects,
    flight: set[str],
) -> None:
    acked = set(acked)
    status = {i: records.get(i, {}).get("status") for i in acked}
    never = [i for i in acked if status[i] == "completed" and effects.effect_count(i) == 0]
    out.fail("completed jobs whose effect never ran", never)
    out.duplicated = sorted(i for i in acked if effects.effect_count(i) > 1)
    out.fail("jobs whose effect ran twice although no kill interrupted them", set(out.duplicated) - flight)
    out.figures["duplicated"] = len(out.duplicated)
    out.figures["duplicated in flight"] = len(set(out.duplicated) & flight)
    out.figures["in flight at kills"] = len(flight)
    unacked = [i for i in effects.effects if i not in acked]
    out.figures["ran, never acknowledged"] = len(unacked)


def cron_violations(
    out: Findings, records: dict[str, dict[str, str]], fired_lines: list[str], fires: int
) -> None:
    """Every slot from the first fire to the last has one job, and was created once.

    Why no gap is allowed: a slot is missed by design only when it is more than JOBS_MISFIRE_GRACE (60 s)
    late when a leader can fire it, and the longest outage here (a Redis restart, or a leader's lease
    running out) is a few seconds. A fire acknowledged by Redis survives its SIGKILL (``appendfsync
    always``); one that was not is retried or caught up from the last recorded fire, and the
    deterministic id ``cron:{id}:{ms}`` with the fence makes a second job for a slot impossible.

    Creations are counted twice over: the schedule's ``fires`` counter (incremented by the script that
    creates the job) must equal the number of slot jobs, and no slot may have two ``created`` lines in
    the replicas' logs. A slot may have none: the replica was SIGKILLed between the script's answer and
    its log line, or Redis died after running the script and the retried call found it done
    (``duplicate``). Those are counted, not failed."""
    slots = sorted(int(i.rsplit(":", 1)[1]) for i, r in records.items() if r.get("type") == TICK)
    out.figures["cron slots"] = len(slots)
    if not slots:
        out.violations.append("the per-second schedule created no job")
        return
    missing = sorted(set(range(slots[0], slots[-1] + 1000, 1000)) - set(slots))
    out.figures["cron missing"] = len(missing)
    out.fail("cron slots without a job", (str(m) for m in missing))
    if fires != len(slots):
        out.violations.append(f"the schedule counted {fires} fires for {len(slots)} slot jobs")
    doubled = [job_id for job_id, n in Counter(fired_lines).items() if n > 1]
    out.figures["cron fired twice"] = len(doubled)
    out.fail("cron slots created twice (two created lines)", doubled)
    logged = set(fired_lines)
    out.figures["cron fires without a log line"] = sum(1 for s in slots if f"cron:{TICK}:{s}" not in logged)


def stuck(out: Findings, records: dict[str, dict[str, str]]) -> None:
    left = [i for i, r in records.items() if r.get("status") in UNFINISHED]
    out.figures["stuck"] = len(left)
    out.fail("jobs left unfinished (stuck)", (f"{i}:{records[i]['status']}" for i in left))
