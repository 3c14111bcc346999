"""``jobs-scheduler``: one replica of the cron scheduler. Run as many as you like; one of them fires.

Start-up: settings (a bad one exits 2 with a line naming the variable), logging, the probe server
(JOBS_PROBE_PORT: 0 picks a free port, -1 disables it), Redis (waited for, not required at start), the
built-in schedules, then ``service_ready`` with the bound probe port, then the election loop.
SIGTERM/SIGINT: stop firing, release the lease, exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from jobs_core.logging import configure, get_logger
from jobs_core.probes import ProbeServer, Verdict
from jobs_core.redis_conn import connect
from jobs_core.settings import load_settings
from jobs_scheduler.probes import Metrics
from jobs_scheduler.replica import Replica
from jobs_scheduler.settings import SchedulerSettings

log = get_logger("jobs_scheduler")


def probe_status(replica: Replica) -> Verdict:
    """Read from the probe server's thread: plain attributes only, nothing awaited."""
    state = replica.state
    # A loop that has not ticked for several periods is wedged; Redis being down does not count.
    stalled = time.monotonic() - state.last_tick > max(5 * replica.interval, 10.0)
    return Verdict(
        alive=state.role == "starting" or not stalled,
        ready=state.redis_ok and state.role in ("standby", "leader"),
        details={
            "role": state.role,
            "redis": "connected" if state.redis_ok else "disconnected",
            "epoch": replica.lease.epoch,
        },
    )


async def serve(settings: SchedulerSettings) -> None:
    # Commands must answer well within a lease, or a hung call would outlive the self-fence deadline.
    redis = connect(settings, retries=1, timeout=max(settings.leader_lease_ms / 4000, 0.25))
    metrics = Metrics()
    replica = Replica(settings, redis, metrics)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, replica.request_stop)
    probes = ProbeServer(
        settings.probe_host, settings.probe_port, metrics.registry, lambda: probe_status(replica)
    )
    port = probes.start()
    lag_monitor = loop.create_task(metrics.monitor.run())
    try:
        if await replica.prepare():
            log.info(
                "service_ready",
                probe_port=port,
                replica=replica.lease.token,
                lease_ms=settings.leader_lease_ms,
                misfire_grace_s=settings.misfire_grace,
                redis=settings.redis_display(),
            )
            await replica.run()
    finally:
        lag_monitor.cancel()
        probes.stop()
        await redis.aclose()
    log.info("service_stopped")


def main() -> None:
    settings = load_settings(SchedulerSettings)
    configure("scheduler", settings.log_level, settings.log_format)
    # APScheduler logs every job it adds and runs; our own lines say what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
