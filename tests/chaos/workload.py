"""The seeded job mix of a run: which jobs, of which kind, sent in which request, when.

Every job carries its own ``options.jobId``, so a request that failed or timed out is sent again with the
same ids (idempotent adds): a job is acknowledged once the api answered 201 or 200 for it, and the checker
knows every id without asking Redis. Kinds and what they must end as:

- ``instant``, ``slow`` (sleeps), ``delayed`` (``options.delay``): completed, with one effect;
- ``flaky``: fails its first 1-2 tries, completes on the next (``attempt`` = fails + 1);
- ``dependent``: groups of three sent in one bulk, A ← B and (A, B) ← C; completed, each started after
  its dependencies finished;
- ``cancel``: a long sleep the run cancels once it is active: cancelled, or completed when the cancel
  came too late (the api answered 409 and said so).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from chaos.scenario import Scenario

PRIORITIES = (("critical", 0.05), ("high", 0.15), ("normal", 0.6), ("low", 0.2))
SINGLE_KINDS = ("instant", "slow", "flaky", "delayed", "cancel")


@dataclass(frozen=True)
class Planned:
    id: str
    kind: str
    body: dict[str, Any]
    fails: int = 0
    deps: tuple[str, ...] = ()


@dataclass
class Batch:
    """One request: ``single`` is one POST /schedule, otherwise a POST /schedule/bulk."""

    jobs: list[Planned]
    single: bool
    at_s: float = 0.0  # when to send it, seconds after the load started


@dataclass
class Workload:
    batches: list[Batch]
    jobs: dict[str, Planned] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.jobs = {job.id: job for batch in self.batches for job in batch.jobs}


class _Maker:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rng = random.Random(scenario.seed)
        self.n = 0

    def next_id(self) -> str:
        self.n += 1
        return f"c{self.s.seed}-{self.n:06d}"

    def options(self, **extra: Any) -> dict[str, Any]:
        if self.rng.random() < 0.1:
            extra["queue"] = "scheduled"
        names, weights = zip(*PRIORITIES, strict=True)
        extra["priority"] = self.rng.choices(names, weights)[0]
        return extra

    def job(self, kind: str, deps: tuple[str, ...] = ()) -> Planned:
        job_id = self.next_id()
        opts = self.options(jobId=job_id, **({"dependsOn": list(deps)} if deps else {}))
        fails = 0
        if kind == "slow":
            body = {"type": "chaos-slow", "payload": {"ms": self.rng.randint(*self.s.slow_ms)}}
        elif kind == "cancel":
            body = {"type": "chaos-cancel", "payload": {"ms": self.s.cancel_ms}}
        elif kind == "flaky":
            fails = self.rng.randint(1, 2)
            opts["retry"] = {"attempts": fails + 1, "backoff": "fixed", "delay": self.rng.randint(100, 400)}
            body = {"type": "chaos-flaky", "payload": {"fails": fails}}
        else:  # instant, delayed, dependent
            body = {"type": "chaos-instant", "payload": {}}
            if kind == "delayed":
                opts["delay"] = self.rng.randint(*self.s.delay_ms)
        body["options"] = opts
        return Planned(job_id, kind, body, fails, deps)

    def group(self) -> list[Planned]:
        a = self.job("dependent")
        if self.rng.random() < 0.5:  # the first of a group is sometimes slow, so that B and C wait
            a.body.update(type="chaos-slow", payload={"ms": self.rng.randint(50, 400)})
        b = self.job("dependent", (a.id,))
        c = self.job("dependent", (a.id, b.id))
        return [a, b, c]


def build_workload(scenario: Scenario) -> Workload:
    """Seeded: the same scenario and seed give the same jobs, requests and send times."""
    maker = _Maker(scenario)
    kinds, weights = zip(*scenario.mix.items(), strict=True)
    singles: list[Batch] = []
    bulk_items: list[list[Planned]] = []
    while maker.n < scenario.jobs:
        kind = maker.rng.choices(kinds, weights)[0]
        if kind == "dependent":
            bulk_items.append(maker.group())
        elif maker.rng.random() < scenario.single_share:
            singles.append(Batch([maker.job(kind)], single=True))
        else:
            bulk_items.append([maker.job(kind)])
    batches = singles + _pack(bulk_items, scenario.bulk_size)
    maker.rng.shuffle(batches)
    step = scenario.load_s / max(len(batches), 1)
    for i, batch in enumerate(batches):
        batch.at_s = i * step
    return Workload(batches)


def _pack(items: list[list[Planned]], size: int) -> list[Batch]:
    """Bulks of about ``size`` jobs; a dependency group is never split across requests."""
    out: list[Batch] = []
    current: list[Planned] = []
    for group in items:
        if current and len(current) + len(group) > size:
            out.append(Batch(current, single=False))
            current = []
        current.extend(group)
    if current:
        out.append(Batch(current, single=False))
    return out
