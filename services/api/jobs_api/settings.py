"""Settings of the HTTP gateway (``jobs-api``), from ``JOBS_*`` variables; see README "Configuration"."""

from __future__ import annotations

from pydantic import Field, SecretStr

from jobs_core.settings import CoreSettings


class ApiSettings(CoreSettings):
    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = Field(3105, ge=1, le=65535)
    api_token: SecretStr | None = None
    max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)
    max_bulk_jobs: int = Field(1000, ge=1, le=10_000)
    metrics_enabled: bool = True
    health_check_interval: int = Field(30, ge=1, le=3600, description="seconds; see README Monitoring")
    shutdown_grace: float = Field(5.0, ge=0, le=300)
