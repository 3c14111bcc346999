"""A worker's probes and its own Prometheus metrics, served on JOBS_PROBE_PORT by the core probe server.

``/livez``: the claim loop ticked recently and the event loop is not lagging (a task that wakes every
0.25 s measures how late it runs; ``JOBS_PROBE_MAX_LAG`` seconds or more fails). A worker whose loop died
or is blocked by a processor is not live. Starting and stopping workers count as live: a slow start or a
graceful drain must not get the pod killed.
``/readyz``: started, still taking jobs (SIGTERM clears it at once: arq stops picking) and Redis answered
the last claim or lease renewal.
``/metrics``: jobs this process ran by queue, type and outcome, their run time, running jobs, event-loop
lag, lease renewals and claimed tries. Cluster-wide numbers come from the api's ``/metrics``.

The checks read plain attributes of the worker from the probe server's thread; nothing here awaits.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, Metric

from jobs_core.insights import BOUNDS
from jobs_core.metrics import OTHER_TYPE
from jobs_core.probes import LoopMonitor, ProbeServer, Verdict
from jobs_worker.execution import Observer
from jobs_worker.job import Claimed

if TYPE_CHECKING:
    from jobs_worker.worker import JobsWorker

OUTCOMES = {"complete": "completed", "fail": "failed", "retry_later": "retried", "requeue": "requeued"}
# A claim call may wait for the pool's socket timeout (10 s) and then back off 0.5 s before the next tick.
CLAIM_BOUND_S = 15.0


class WorkerMetrics(Observer):
    """This process's metrics, in a registry of its own; also the execution observer that counts tries."""

    def __init__(self, worker: JobsWorker, monitor: LoopMonitor) -> None:
        self.worker = worker
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        self.claimed = Counter(
            "jobs_worker_claimed", "tries this process claimed and started", ["queue"], registry=self.registry
        )
        self.outcomes = Counter(
            "jobs_worker_jobs_finished",
            "tries this process ended, by outcome (completed, failed, retried, requeued, interrupted)",
            ["queue", "type", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "jobs_worker_job_duration_seconds",
            "run time of each try in this process",
            ["queue"],
            buckets=[b / 1000 for b in BOUNDS],
            registry=self.registry,
        )
        gauges = (
            ("jobs_worker_running_jobs", "tries running now", lambda: len(worker.running)),
            ("jobs_worker_concurrency", "tries this process runs at most", lambda: worker.max_jobs),
            ("jobs_worker_event_loop_lag_seconds", "how late the event loop runs a timer", monitor.lag),
        )
        for name, doc, read in gauges:
            Gauge(name, doc, registry=self.registry).set_function(read)
        self.registry.register(_Renewals(worker))

    def _type(self, claimed: Claimed) -> str:
        # Types with a processor only: a client can send any type, and labels must stay bounded.
        return claimed.type if claimed.type in self.worker.execution.processors else OTHER_TYPE

    # The labelled children are looked up once per label set: ``labels()`` costs more than the update
    # itself, and it runs twice per job.
    @functools.cache  # noqa: B019 - one instance per process; label sets are bounded (queues, types)
    def _claimed(self, queue: str) -> Any:
        return self.claimed.labels(queue)

    @functools.cache  # noqa: B019
    def _outcome(self, queue: str, job_type: str, outcome: str) -> Any:
        return self.outcomes.labels(queue, job_type, outcome)

    @functools.cache  # noqa: B019
    def _duration(self, queue: str) -> Any:
        return self.duration.labels(queue)

    def started(self, claimed: Claimed) -> None:
        self._claimed(claimed.queue).inc()

    def finished(self, claimed: Claimed, kind: str, seconds: float) -> None:
        self._outcome(claimed.queue, self._type(claimed), OUTCOMES.get(kind, kind)).inc()
        self._duration(claimed.queue).observe(seconds)


class _Renewals:
    """The lease keeper's own count, read at scrape time."""

    def __init__(self, worker: JobsWorker) -> None:
        self.worker = worker

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "jobs_worker_lease_renewals",
            "lease renewal calls (one per period while tries run)",
            value=self.worker.background.renewals,
        )


def verdict(worker: JobsWorker, monitor: LoopMonitor, max_lag: float) -> Verdict:
    """Liveness and readiness from what the event loop last wrote."""
    lag = monitor.lag()
    loop_age = time.monotonic() - worker.loop_tick
    stopping = not worker.allow_pick_jobs
    starting = not worker.ready and not stopping
    loop_ok = starting or stopping or loop_age <= 3 * worker.settings.poll_interval + CLAIM_BOUND_S
    alive = loop_ok and lag < max_lag
    state = "starting" if starting else "stopping" if stopping else "running"
    return Verdict(
        alive=alive,
        ready=alive and worker.ready and not stopping and worker.redis_ok,
        details={
            "state": state,
            "redis": "connected" if worker.redis_ok else "disconnected",
            "loopAgeS": round(loop_age, 3),
            "lagS": lag,
            "running": len(worker.running),
            "workerId": worker.worker_id,
        },
    )


class WorkerProbes:
    """Metrics, lag monitor and probe server of one worker; ``start()`` returns the bound port."""

    def __init__(self, worker: JobsWorker) -> None:
        settings = worker.settings
        self.monitor = LoopMonitor()
        self.metrics = WorkerMetrics(worker, self.monitor)
        worker.execution.observer = self.metrics
        self.server = ProbeServer(
            settings.probe_host,
            settings.probe_port,
            self.metrics.registry,
            lambda: verdict(worker, self.monitor, settings.probe_max_lag),
        )

    def start(self) -> int | None:
        return self.server.start()

    def stop(self) -> None:
        self.server.stop()
