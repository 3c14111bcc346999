"""Settings of the HTTP gateway (``jobs-api``), from ``JOBS_*`` variables; see README "Configuration".

A malformed origin in JOBS_CORS_ORIGINS, or a job-token TTL below one second, stops the process at
start with one line naming the variable (``load_settings``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from jobs_core.settings import CoreSettings, split_csv

# scheme://host[:port], nothing after: what browsers send in the Origin header.
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


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
    api_processes: int = Field(
        1, ge=1, le=64, description="processes serving the port together (SO_REUSEPORT)"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="browser origins allowed to call the API; empty: CORS off"
    )
    job_token_secret: SecretStr | None = Field(
        None,
        min_length=32,  # HS256 wants a key of at least its hash size (RFC 7518 §3.2)
        description="signs job-scoped tokens; default: a key derived from JOBS_API_TOKEN",
    )
    job_token_ttl: int = Field(3600, ge=1, description="seconds a job-scoped token stays valid")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*" or not ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin such as https://chat.example.com or "
                    "http://localhost:3000 (scheme, host and port only; '*' is not allowed)"
                )
        return list(dict.fromkeys(o.rstrip("/") for o in value))

    @property
    def master_token(self) -> str | None:
        """JOBS_API_TOKEN when set and not empty: the API then wants a bearer token."""
        if self.api_token is None or not self.api_token.get_secret_value():
            return None
        return self.api_token.get_secret_value()
