"""One chaos run from start to verdict: start the cluster, push the workload while the faults hit, wait
until nothing moves, check, measure the everysec window, print the table.

Order matters: the main invariants are checked on a quiet Redis *before* the everysec measurement, whose
crash may lose writes by design; that phase then checks only that the registry is still consistent and
nothing is stuck.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from chaos import checker
from chaos.cluster import PREFIX, Cluster
from chaos.effects import read_effects
from chaos.events import QUEUES, EventFollower
from chaos.everysec import EverysecFigures, measure_everysec
from chaos.faults import TICK, FaultInjector, plan_faults
from chaos.load import Ack, ApiPool, Canceller, LoadGenerator
from chaos.probe import KEYS, Prober
from chaos.registry import admin_check, load_registry, metrics_violations, registry_violations
from chaos.report import Report
from chaos.scenario import Scenario
from chaos.workload import Planned, build_workload

UNFINISHED = ("waiting", "delayed", "blocked", "active")


class Run:
    def __init__(self, scenario: Scenario, folder: Path) -> None:
        self.scenario = scenario
        self.cluster = Cluster(scenario, folder)
        self.workload = build_workload(scenario)
        self.rng = random.Random(scenario.seed)
        self.report = Report(scenario.name, scenario.seed)
        self.clients_open = False

    async def start(self) -> None:
        await self.cluster.start()
        url = self.cluster.redis.url
        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), 40)
        self.redis = Redis.from_url(
            url, decode_responses=True, retry=retry, retry_on_error=[RedisConnectionError]
        )
        self.follower = EventFollower(url, PREFIX)
        self.follower.start()
        self.pool = ApiPool([port for _, port in self.cluster.apis])
        cancel_ids = {i for i, job in self.workload.jobs.items() if job.kind == "cancel"}
        self.canceller = Canceller(self.pool, cancel_ids)
        self.follower.listeners.append(self.canceller.on_event)
        self.prober = Prober(self.pool, self.redis, self.follower)
        self.load = LoadGenerator(self.pool, self.workload, self.scenario.senders)
        self.injector = FaultInjector(self.cluster, self.follower, self.prober, self.redis, self.rng)
        self.clients_open = True

    async def close(self) -> None:
        """Stops whatever was started, also after a start that failed half-way."""
        if self.clients_open:
            await self.follower.stop()
            await self.pool.close()
            await self.redis.aclose()
        await asyncio.to_thread(self.cluster.stop)

    async def chaos(self) -> None:
        """The load and the faults together, then the per-second schedule is paused and all settles."""
        body = {"type": TICK, "schedule": "* * * * * *",
                "options": {"scheduleId": TICK, "queue": "scheduled"}}  # fmt: skip
        status, answer, _ = await self.pool.call("POST", "/schedule", body)
        assert status == 201, answer
        started = time.time() + 0.5
        plan = plan_faults(self.scenario, self.rng)
        deadline = started + self.scenario.load_s + 300
        await asyncio.gather(self.load.run(started, deadline), self.injector.run(plan, started))
        self.report.figures["load s"] = time.time() - started
        status, answer, _ = await self.pool.call("POST", f"/schedules/{TICK}/pause")
        assert status == 200, answer
        await self.settle()
        await self.canceller.drain()

    async def settle(self) -> None:
        """Waits until no job is unfinished, or until nothing happened for ``quiet_timeout_s`` (stuck)."""
        last_seen, last_change = -1, time.monotonic()
        while True:
            pipe = self.redis.pipeline(transaction=False)
            for queue in QUEUES:
                for state in UNFINISHED:
                    pipe.zcard(KEYS.state(queue, state))
            if sum(await pipe.execute()) == 0:
                return
            if self.follower.count != last_seen:
                last_seen, last_change = self.follower.count, time.monotonic()
            elif time.monotonic() - last_change > self.scenario.quiet_timeout_s:
                return  # stuck: the checker lists what is left
            await self.follower.next_batch()

    def all_jobs(self, records: dict[str, dict[str, str]]) -> tuple[dict[str, Planned], dict[str, Ack]]:
        """Pushed jobs, probes and cron fires: a fire counts as acknowledged when the scheduler logged it
        ``created`` or its job exists (the script that makes it also counts it in ``fires``)."""
        jobs = {**self.workload.jobs, **self.prober.jobs}
        acks = {**self.load.acks, **self.prober.acks}
        ticks = {i for i, r in records.items() if r.get("type") == TICK} | set(self.fired_lines())
        for job_id in ticks:
            jobs[job_id] = Planned(job_id, "tick", {})
            acks[job_id] = Ack(201, "waiting", 0.0)
        return jobs, acks

    def fired_lines(self) -> list[str]:
        return [
            line["job_id"]
            for service in self.cluster.every_process()
            if service.name.startswith("scheduler")
            for line in service.lines
            if line.get("event") == "schedule_fired" and line.get("outcome") == "created"
        ]

    async def check(self) -> None:
        registry = await load_registry(self.redis)
        jobs, acks = self.all_jobs(registry.records)
        effects = read_effects(self.cluster.effects_dir)
        flight = checker.in_flight_at_kills(self.injector.records, effects)
        found = checker.check_jobs(
            jobs, acks, registry.records, self.canceller.results, self.scenario.max_stalls
        )
        checker.check_effects(found, acks, registry.records, effects, flight)
        fires = int(await self.redis.hget(KEYS.schedule_state(TICK), "fires") or 0)
        checker.cron_violations(found, registry.records, self.fired_lines(), fires)
        checker.stuck(found, registry.records)
        consistency = registry_violations(registry) + await metrics_violations(self.pool, registry)
        found.figures["registry violations"] = len(consistency)
        self.report.violations += found.violations + consistency + self._fault_violations()
        self.report.figures.update(found.figures)
        self.report.figures.update(self._load_figures(acks, jobs))
        self.report.figures.update(throughput(registry.records, self.injector.records))
        self.report.faults = self.injector.records
        if found.duplicated:
            by_fault = checker.duplicates_by_fault(found.duplicated, self.injector.records, effects)
            for kind, ids in by_fault.items():
                self.report.notes.append(
                    f"duplicated, in flight at {kind} ({len(ids)}): {', '.join(ids[:200])}"
                )
        await self.admin_check("after the chaos run")

    def _fault_violations(self) -> list[str]:
        out = [v for record in self.injector.records for v in record.violations]
        return out + self.cluster.dead_unexpectedly()

    def _load_figures(self, acks: dict[str, Ack], jobs: dict[str, Planned]) -> dict[str, object]:
        mix = Counter(jobs[i].kind for i in acks)
        unacked = len(self.workload.jobs) - len(self.load.acks)
        if unacked:
            self.report.violations.append(
                f"{unacked} pushed jobs were never acknowledged before the deadline"
            )
        retries = ", ".join(f"{n} × {why}" for why, n in self.load.retries.most_common())
        self.report.notes.append(f"{self.load.requests} requests; retried: {retries or 'none'}")
        return {"acknowledged": len(acks), "mix": ", ".join(f"{k} {n:,}" for k, n in mix.most_common())}

    async def admin_check(self, when: str) -> None:
        ok, output = await asyncio.to_thread(admin_check, self.cluster.redis.url)
        if ok is None:
            self.report.notes.append(output)
        elif not ok:
            self.report.violations.append(f"jobs-admin check {when} found inconsistencies: {output[:2000]}")

    async def everysec(self) -> None:
        figures: EverysecFigures = await measure_everysec(
            self.cluster, self.pool, self.redis, self.scenario.everysec_jobs
        )
        await self.settle()
        registry = await load_registry(self.redis)
        problems = registry_violations(registry)
        checker_out = checker.Findings()
        checker.stuck(checker_out, registry.records)
        self.report.violations += [
            f"after the everysec crash: {p}" for p in problems + checker_out.violations
        ]
        effects = read_effects(self.cluster.effects_dir)
        self.report.figures.update({
            "everysec acknowledged": figures.acknowledged_before_kill, "everysec lost": len(figures.lost),
            "everysec down s": figures.down_s, "everysec rerun": len(figures.rerun(effects)),
        })  # fmt: skip
        self.report.notes.append(f"everysec: aof_delayed_fsync before the kill = {figures.delayed_fsyncs}; "
                                 f"lost ids {figures.lost[:10]}")  # fmt: skip
        await self.admin_check("after the everysec crash")


def throughput(records: dict[str, dict[str, str]], faults: list[checker.FaultRecord]) -> dict[str, float]:
    """Completions per second while faults were being injected and recovered, and before the first."""
    done = sorted(int(r["finishedAt"]) / 1000 for r in records.values() if r.get("status") == "completed")
    if not faults or not done:
        return {"throughput faults": 0.0, "throughput before": 0.0}
    first = faults[0].at
    last = max(f.at + (f.recovery_s or 0) for f in faults)
    during = sum(1 for t in done if first <= t <= last) / max(last - first, 1e-3)
    before = sum(1 for t in done if t < first) / max(first - done[0], 1e-3)
    return {"throughput faults": during, "throughput before": before}


async def run(scenario: Scenario, folder: Path) -> Report:
    began = time.time()
    chaos_run = Run(scenario, folder)
    try:
        await chaos_run.start()
        await chaos_run.chaos()
        await chaos_run.check()
        await chaos_run.everysec()
    finally:
        await chaos_run.close()
        chaos_run.cluster.save_logs(folder / "logs")
    chaos_run.report.figures["wall s"] = time.time() - began
    return chaos_run.report
