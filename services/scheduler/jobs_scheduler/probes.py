"""Probes and metrics of a scheduler replica, served on JOBS_PROBE_PORT by the core probe server
(:mod:`jobs_core.probes`: a thread, so a wedged event loop gets a 503 instead of a hanging probe).

``/livez``: the replica's loop ticked recently (a wedged event loop or loop fails it).
``/readyz``: Redis answered the last tick; leader and standby both count as ready, since a standby is
doing its job by standing by. ``/metrics``: this replica's counters in Prometheus text format.

How it fails: a port that cannot be bound stops the process at start with one line (exit 2); the
server never touches Redis, so probes stay cheap and answer even while Redis is down.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector

from jobs_core.probes import LoopMonitor


class Metrics:
    """This replica's Prometheus metrics, in a registry of its own."""

    def __init__(self, monitor: LoopMonitor | None = None) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.monitor = monitor or LoopMonitor()
        Gauge(
            "jobs_scheduler_event_loop_lag_seconds",
            "how late the event loop runs a timer",
            registry=self.registry,
        ).set_function(self.monitor.lag)
        self.leader = Gauge(
            "jobs_scheduler_leader", "1 while this replica holds the leader lease", registry=self.registry
        )
        self.renewals = Counter(
            "jobs_scheduler_lease_renewals_total",
            "successful renewals of the leader lease",
            registry=self.registry,
        )
        self.elections = Counter(
            "jobs_scheduler_leader_elections_total",
            "times this replica became the leader",
            registry=self.registry,
        )
        self.fires = Counter(
            "jobs_scheduler_fires_total",
            "fire attempts by outcome (created, duplicate, overlap, exists, queue_full, paused, missed)",
            ["outcome"],
            registry=self.registry,
        )
        self.fenced = Counter(
            "jobs_scheduler_fenced_fires_total",
            "fires refused because this replica no longer held the lease",
            registry=self.registry,
        )


@dataclass
class ProbeState:
    """What the probes report; written by the replica loop."""

    role: str = "starting"  # starting | standby | leader | stopping
    redis_ok: bool = False
    last_tick: float = 0.0
