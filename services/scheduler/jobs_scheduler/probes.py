"""Probe and metrics HTTP server of a scheduler replica (Kubernetes probes, Prometheus scrapes).

``/livez``: the replica's loop ticked recently (a wedged event loop or loop fails it).
``/readyz``: Redis answered the last tick; leader and standby both count as ready, since a standby is
doing its job by standing by. ``/metrics``: this replica's counters in Prometheus text format.

How it fails: a port that cannot be bound stops the process at start with one line (exit 2); the
server never touches Redis, so probes stay cheap and answer even while Redis is down.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    ProcessCollector,
    generate_latest,
)


class Metrics:
    """This replica's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
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


async def start_probes(
    host: str, port: int, metrics: Metrics, status: Callable[[], dict[str, Any]]
) -> tuple[web.AppRunner, int]:
    """Serve the probes; returns the runner (cleanup on exit) and the bound port (for port 0)."""

    async def livez(_: web.Request) -> web.Response:
        body = status()
        return web.json_response(body, status=200 if body["alive"] else 503)

    async def readyz(_: web.Request) -> web.Response:
        body = status()
        return web.json_response(body, status=200 if body["ready"] else 503)

    async def metrics_text(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(metrics.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.add_routes([web.get("/livez", livez), web.get("/readyz", readyz), web.get("/metrics", metrics_text)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as err:
        print(f"cannot listen on {host}:{port} (JOBS_PROBE_PORT): {err.strerror}", file=sys.stderr)
        await runner.cleanup()
        raise SystemExit(2) from None
    return runner, int(runner.addresses[0][1])
