"""Settings of the dashboard (``jobs-dashboard``), from ``JOBS_*`` variables; see README "Dashboard"."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from jobs_core.settings import CoreSettings


class DashboardSettings(CoreSettings):
    dashboard_enabled: bool = True
    dashboard_host: str = "0.0.0.0"
    dashboard_port: int = Field(4200, ge=1, le=65535)
    dashboard_auth_enabled: bool = True
    dashboard_username: str = "admin"
    dashboard_password: SecretStr | None = None

    @model_validator(mode="after")
    def _password_when_auth(self) -> DashboardSettings:
        if self.dashboard_auth_enabled and not (
            self.dashboard_password and self.dashboard_password.get_secret_value()
        ):
            raise ValueError("JOBS_DASHBOARD_PASSWORD must be set while JOBS_DASHBOARD_AUTH_ENABLED is true")
        return self
