"""Settings of a worker process (``jobs-worker``), from ``JOBS_*`` variables; see README "Configuration".

The built-in processors' targets (database, notifications, SMTP, backups) are in
:mod:`jobs_worker.builtin.settings`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from jobs_core.settings import split_csv
from jobs_worker.builtin.settings import TargetSettings


class WorkerSettings(TargetSettings):
    concurrency: int = Field(5, ge=1, le=1000, description="jobs run at once by one process")
    worker_queues: Annotated[list[str], NoDecode] = Field(default_factory=list, description="default: all")
    processor_modules: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_jobs_per_worker: int = Field(
        100, ge=1, le=10_000, description="jobs one process holds at once; caps JOBS_CONCURRENCY"
    )
    prefetch: int = Field(
        50, ge=0, le=10_000, description="tries claimed ahead of free slots while jobs are short; 0 off"
    )
    lease_ms: int = Field(30_000, ge=500, le=600_000, description="lease of a running job, renewed lease/3")
    max_stalls: int = Field(3, ge=0, le=100, description="lease losses (crashes) before a job fails")
    shutdown_grace: float = Field(25.0, ge=0, le=3600, description="seconds running jobs get on SIGTERM")
    poll_interval: float = Field(1.0, ge=0.05, le=60, description="fallback poll when no wake-up arrives")
    probe_port: int = Field(0, ge=-1, le=65535, description="-1 off, 0 any free port, else fixed")
    probe_host: str = "0.0.0.0"
    probe_max_lag: float = Field(5.0, ge=0.05, le=3600, description="event-loop lag (s) that fails /livez")
    log_completed: bool = Field(True, description="log a line per completed job (failures always)")

    @field_validator("worker_queues", "processor_modules", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_csv(value)

    @model_validator(mode="after")
    def _known_queues(self) -> WorkerSettings:
        unknown = [q for q in self.worker_queues if q not in self.queues]
        if unknown:
            raise ValueError(f"JOBS_WORKER_QUEUES names queues not in JOBS_QUEUES: {', '.join(unknown)}")
        return self

    @property
    def served_queues(self) -> list[str]:
        return self.worker_queues or list(self.queues)
