"""Settings of a scheduler replica (``jobs-scheduler``), from ``JOBS_*`` variables; see docs/scheduling.md.

A built-in schedule with a bad cron expression, or an unknown time zone, stops the process at start with
one line naming the variable (through :func:`jobs_core.settings.load_settings`).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from jobs_core.cron import parse_cron, validate_timezone
from jobs_core.settings import CoreSettings


class SchedulerSettings(CoreSettings):
    leader_lease_ms: int = Field(10_000, ge=1000, le=300_000, description="leader lease; renewed lease/3")
    misfire_grace: float = Field(60.0, ge=0, le=86_400, description="seconds a missed fire is still run")
    probe_port: int = Field(0, ge=-1, le=65535, description="-1 off, 0 any free port, else fixed")
    probe_host: str = "0.0.0.0"
    builtin_timezone: str = Field("UTC", description="IANA zone of the four built-in schedules")

    cleanup_old_messages_enabled: bool = True
    cleanup_old_messages_schedule: str = "0 2 * * *"
    cleanup_old_messages_days: int = Field(90, ge=1, le=36_500)
    generate_analytics_enabled: bool = True
    generate_analytics_schedule: str = "0 0 * * *"
    backup_database_enabled: bool = True
    backup_database_schedule: str = "0 3 * * 0"
    send_email_digest_enabled: bool = True
    send_email_digest_schedule: str = "0 9 * * *"

    @field_validator(
        "cleanup_old_messages_schedule",
        "generate_analytics_schedule",
        "backup_database_schedule",
        "send_email_digest_schedule",
    )
    @classmethod
    def _cron(cls, value: str) -> str:
        return parse_cron(value).expression  # CronError is a ValueError: pydantic names the variable

    @field_validator("builtin_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        validate_timezone(value)
        return value
