"""Settings of a scheduler replica (``jobs-scheduler``), from ``JOBS_*`` variables; see README "Scheduling"."""

from __future__ import annotations

from pydantic import Field

from jobs_core.settings import CoreSettings


class SchedulerSettings(CoreSettings):
    leader_lease_ms: int = Field(10_000, ge=1000, le=300_000, description="leader lease; renewed lease/3")
    misfire_grace: float = Field(60.0, ge=0, le=86_400, description="seconds a missed fire is still run")
    probe_port: int = Field(0, ge=-1, le=65535, description="-1 off, 0 any free port, else fixed")
    probe_host: str = "0.0.0.0"

    cleanup_old_messages_enabled: bool = True
    cleanup_old_messages_schedule: str = "0 2 * * *"
    cleanup_old_messages_days: int = Field(90, ge=1, le=36_500)
    generate_analytics_enabled: bool = True
    generate_analytics_schedule: str = "0 0 * * *"
    backup_database_enabled: bool = True
    backup_database_schedule: str = "0 3 * * 0"
    send_email_digest_enabled: bool = True
    send_email_digest_schedule: str = "0 9 * * *"
