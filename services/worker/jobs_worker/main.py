"""``jobs-worker``: load settings and processors, run the worker until SIGTERM/SIGINT, exit 0.

The built-in processors are registered first (JOBS_BUILTIN_PROCESSORS), then JOBS_PROCESSOR_MODULES are
imported, so that a custom processor replaces a built-in one of the same type. A bad setting, an
unimportable processor module or a probe port in use (JOBS_PROBE_PORT) stops the process at once with
one clear line.
"""

from __future__ import annotations

import asyncio
import contextlib

from jobs_core.logging import configure, get_logger
from jobs_core.settings import load_settings
from jobs_worker.builtin.targets import Targets
from jobs_worker.processors import load_modules, processors
from jobs_worker.settings import WorkerSettings


async def serve(settings: WorkerSettings, targets: Targets | None = None) -> None:
    from jobs_worker.probes import WorkerProbes
    from jobs_worker.worker import JobsWorker

    log = get_logger("jobs_worker")
    registered = processors()
    if not registered:
        log.warning("no_processors", hint="set JOBS_PROCESSOR_MODULES; every job will fail")
    worker = JobsWorker(settings, registered)
    # Probes listen before service_ready (JOBS_PROBE_PORT: -1 off, 0 any free port, logged as probe_port).
    probes = WorkerProbes(worker)
    worker.probe_port = probes.start()
    lag_monitor = asyncio.get_running_loop().create_task(probes.monitor.run())
    log.info("worker_starting", redis=settings.redis_display(), queues=worker.queues)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await worker.async_run()
    finally:
        await worker.close()
        if targets is not None:
            await targets.close()
        lag_monitor.cancel()
        probes.stop()


def main() -> None:
    settings = load_settings(WorkerSettings)
    configure("worker", settings.log_level, settings.log_format)
    targets = None
    if settings.builtin_processors:
        from jobs_worker.builtin import register_builtins

        targets = register_builtins(settings, min(settings.concurrency, settings.max_jobs_per_worker))
    load_modules(settings.processor_modules)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(settings, targets))


if __name__ == "__main__":
    main()
