"""Redis and the service processes of a chaos run: the real console scripts, started, killed, replaced.

Redis runs with AOF (``everysec`` unless a fault asks for ``always``) in one folder and on one port for
the whole run, so a restart loads what the AOF kept, as a production restart would. Readiness is read
from the processes themselves: Redis's "Ready to accept connections" line, the services' ``service_ready``.
Every process ever started stays in ``spawned``, so that the log lines of killed ones can still be read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from chaos.effects import ENV_DIR
from chaos.scenario import Scenario
from support.processes import Service
from support.redis_server import free_port, redis_binary

TESTS = Path(__file__).resolve().parent.parent
PREFIX = "chaos"


class ChaosRedis:
    """One redis-server, restartable on the same port and folder (its AOF)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, fsync: str = "everysec", timeout: float = 60.0) -> None:
        """Starts it and returns once it has loaded its AOF and accepts connections."""
        self.folder.mkdir(parents=True, exist_ok=True)
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        args += ["--appendonly", "yes", "--appendfsync", fsync, "--save", ""]
        args += ["--maxmemory-policy", "noeviction", "--loglevel", "notice"]
        proc = subprocess.Popen(
            [redis_binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.proc = proc
        ready = threading.Event()  # one per start: the reader of a killed process must not set it
        threading.Thread(target=_follow, args=(proc, ready), daemon=True).start()
        if not ready.wait(timeout) or proc.poll() is not None:
            raise RuntimeError(f"redis-server on port {self.port} not ready (exit code {proc.poll()})")

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything that was not written yet."""
        self._end(signal.SIGKILL)

    def shutdown(self) -> None:
        """SIGTERM: Redis writes and fsyncs its AOF, then exits."""
        self._end(signal.SIGTERM)

    def _end(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(60)
        self.proc = None

    async def set_fsync(self, mode: str) -> None:
        client = Redis.from_url(self.url)
        try:
            await client.config_set("appendfsync", mode)
        finally:
            await client.aclose()


def _follow(proc: subprocess.Popen[str], ready: threading.Event) -> None:
    """Reads redis-server's output; sets ``ready`` at its ready line, or when it exits."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Ready to accept connections" in line:
            ready.set()
    ready.set()


class Cluster:
    """The processes of one run and the environment they share."""

    def __init__(self, scenario: Scenario, folder: Path) -> None:
        self.scenario = scenario
        self.folder = folder
        self.effects_dir = folder / "effects"
        self.effects_dir.mkdir(parents=True, exist_ok=True)
        self.redis = ChaosRedis(folder / "redis")
        self.apis: list[tuple[Service, int]] = []
        self.workers: dict[str, Service] = {}  # worker id -> live process
        self.schedulers: list[Service] = []
        self.spawned: list[Service] = []  # every process ever started, killed and stopped ones included

    def env(self) -> dict[str, str]:
        s = self.scenario
        return {
            "JOBS_REDIS_URL": self.redis.url,
            "JOBS_KEY_PREFIX": PREFIX,
            "JOBS_LOG_FORMAT": "json",
            "JOBS_LOG_LEVEL": "info",
            "JOBS_PROBE_PORT": "0",
            "JOBS_PROCESSOR_MODULES": "chaos.processors",
            "JOBS_LOG_COMPLETED": "false",
            "JOBS_CONCURRENCY": str(s.concurrency),
            "JOBS_LEASE_MS": str(s.lease_ms),
            "JOBS_MAX_STALLS": str(s.max_stalls),
            "JOBS_SHUTDOWN_GRACE": str(s.shutdown_grace_s),
            "JOBS_LEADER_LEASE_MS": str(s.leader_lease_ms),
            "JOBS_MISFIRE_GRACE": str(s.misfire_grace_s),
            "JOBS_EVENTS_MAXLEN": str(s.events_maxlen),
            # Retention must not hide a single record from the checker.
            "JOBS_KEEP_COMPLETED": "10000000",
            "JOBS_KEEP_FAILED": "10000000",
            "JOBS_CLEANUP_OLD_MESSAGES_ENABLED": "false",
            "JOBS_GENERATE_ANALYTICS_ENABLED": "false",
            "JOBS_BACKUP_DATABASE_ENABLED": "false",
            "JOBS_SEND_EMAIL_DIGEST_ENABLED": "false",
            ENV_DIR: str(self.effects_dir),
            "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        }

    def _spawn(self, command: str, **extra: str) -> Service:
        name = f"{command.removeprefix('jobs-')}#{len(self.spawned) + 1}"
        service = Service(command, {**self.env(), **extra}, name=name)
        self.spawned.append(service)
        return service

    # --- starting -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Redis, then every service at once (they start in parallel; each is awaited on its line)."""
        self.redis.start()
        apis = [self._spawn("jobs-api", JOBS_PORT=str(free_port())) for _ in range(self.scenario.apis)]
        workers = [self._spawn("jobs-worker") for _ in range(self.scenario.workers)]
        schedulers = [self._spawn("jobs-scheduler") for _ in range(self.scenario.schedulers)]
        for service in apis:
            ready = await ready_line(service)
            self.apis.append((service, int(ready["port"])))
        for service in workers:
            self.workers[(await ready_line(service))["worker_id"]] = service
        for service in schedulers:
            await ready_line(service)
            self.schedulers.append(service)

    async def add_worker(self) -> Service:
        service = self._spawn("jobs-worker")
        self.workers[(await ready_line(service))["worker_id"]] = service
        return service

    async def add_scheduler(self) -> Service:
        service = self._spawn("jobs-scheduler")
        await ready_line(service)
        self.schedulers.append(service)
        return service

    # --- retiring -------------------------------------------------------------------------------------
    def retire_worker(self, worker_id: str) -> Service:
        """Takes a worker off the live list (before the run kills or stops it)."""
        return self.workers.pop(worker_id)

    def retire_scheduler(self, service: Service) -> None:
        self.schedulers.remove(service)

    def scheduler_by_pid(self, pid: int) -> Service | None:
        return next((s for s in self.schedulers if s.proc.pid == pid), None)

    def every_process(self) -> list[Service]:
        return list(self.spawned)

    def dead_unexpectedly(self) -> list[str]:
        """Live-listed processes that exited although nobody stopped them."""
        live = [s for s, _ in self.apis] + list(self.workers.values()) + self.schedulers
        return [f"{s.name} exited {s.proc.poll()}" for s in live if s.proc.poll() is not None]

    def save_logs(self, folder: Path) -> None:
        """Every process's output, one file each (the run folder is kept with ``--keep``)."""
        folder.mkdir(parents=True, exist_ok=True)
        for service in self.every_process():
            (folder / f"{service.name}.log").write_text("".join(service.raw), encoding="utf-8")

    def stop(self) -> None:
        for service in self.spawned:
            service.signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for service in self.every_process():
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.proc.wait(max(deadline - time.monotonic(), 0.1))
            if service.proc.poll() is None:
                service.kill()
        self.redis.shutdown()


async def ready_line(service: Service, timeout: float = 60.0) -> dict[str, Any]:
    """The process's ``service_ready`` log line, awaited without blocking the event loop."""
    return await asyncio.to_thread(service.wait_for, "service_ready", timeout)
