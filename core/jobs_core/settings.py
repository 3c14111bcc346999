"""Settings shared by every service, read from ``JOBS_*`` environment variables.

Each service defines one settings class that extends :class:`CoreSettings` and builds it once in ``main``;
the object is then passed explicitly (nothing below ``main`` reads ``os.environ``). A wrong value stops the
process with a one-line message naming the variable (:func:`load_settings`), never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated, Literal, TypeVar
from urllib.parse import quote

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_QUEUES = ("default", "high-priority", "low-priority", "scheduled")
QUEUE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

S = TypeVar("S", bound="CoreSettings")


def split_csv(value: object) -> object:
    """Accept ``a,b,c`` (how people write lists in environment variables) as well as a real list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class CoreSettings(BaseSettings):
    """Redis connection, key namespace, queues, logging and the job policy defaults of SPEC.md."""

    model_config = SettingsConfigDict(env_prefix="JOBS_", extra="ignore", case_sensitive=False)

    redis_url: SecretStr | None = None
    redis_host: str = "localhost"
    redis_port: int = Field(6379, ge=1, le=65535)
    redis_db: int = Field(2, ge=0, le=15)
    redis_username: str | None = Field(None, description="ACL user of the master (or in the URL)")
    redis_password: SecretStr | None = None
    # Sentinel: when JOBS_REDIS_SENTINELS is set, the master's address comes from the sentinels (it wins
    # over JOBS_REDIS_URL's host and JOBS_REDIS_HOST); user, password, db and TLS options still come from
    # the URL or the variables above. JOBS_REDIS_SENTINEL_PASSWORD is the sentinels' own requirepass.
    redis_sentinels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    redis_sentinel_master: str = Field("mymaster", min_length=1, max_length=128)
    redis_sentinel_username: str | None = None
    redis_sentinel_password: SecretStr | None = None
    # WAIT for this many replicas after an enqueue before answering 201 (0: do not wait).
    redis_min_replicas_ack: int = Field(0, ge=0, le=16)
    redis_replica_ack_timeout: int = Field(1000, ge=1, le=60_000, description="ms WAIT waits at most")
    key_prefix: str = Field("jobs", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    queues: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_QUEUES))
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"

    # Retry policy defaults (SPEC.md): JOBS_MAX_RETRIES is the default total number of tries (BullMQ's
    # "attempts"); JOBS_BACKOFF_DELAY is the base wait between tries; JOBS_RETRY_DELAY is kept for SPEC
    # compatibility and used as the base when JOBS_BACKOFF_DELAY is unset (0).
    max_retries: int = Field(3, ge=1, le=100)
    retry_delay: int = Field(5000, ge=0, le=86_400_000)
    retry_backoff: Literal["exponential", "fixed"] = "exponential"
    backoff_delay: int = Field(1000, ge=0, le=86_400_000)
    default_timeout: int = Field(300_000, ge=1, le=86_400_000)

    max_jobs_per_queue: int = Field(10_000, ge=1)
    keep_completed: int = Field(1000, ge=0, description="completed jobs kept per queue (newest)")
    keep_failed: int = Field(5000, ge=0, description="failed/cancelled jobs kept per queue (newest)")
    keep_completed_age: int = Field(86_400, ge=0, description="seconds a completed job is kept at most")
    keep_failed_age: int = Field(7 * 86_400, ge=0, description="seconds a failed job is kept at most")
    events_maxlen: int = Field(10_000, ge=100, description="approximate length of each queue's event stream")
    # The worker runs SPEC.md's six built-in job types; producers then refuse their bad payloads (400).
    builtin_processors: bool = True

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        """``WARNING``, ``Warning`` and ``warning`` are one level: people write all three."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("queues", "redis_sentinels", mode="before")
    @classmethod
    def _split_queues(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("redis_sentinels")
    @classmethod
    def _check_sentinels(cls, value: list[str]) -> list[str]:
        for item in value:
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{item!r} is not host:port")
        return value

    @field_validator("queues")
    @classmethod
    def _check_queues(cls, value: list[str]) -> list[str]:
        import re

        if not value:
            raise ValueError("at least one queue is needed")
        for name in value:
            if not re.match(QUEUE_NAME_PATTERN, name):
                raise ValueError(f"queue name {name!r} must match {QUEUE_NAME_PATTERN}")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _check_url(self) -> CoreSettings:
        if self.redis_url is not None:
            url = self.redis_url.get_secret_value()
            if not url.startswith(("redis://", "rediss://", "unix://")):
                raise ValueError("JOBS_REDIS_URL must start with redis://, rediss:// or unix://")
        return self

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """JOBS_REDIS_SENTINELS as (host, port) pairs; IPv6 hosts may be written in brackets."""
        pairs = [item.rpartition(":") for item in self.redis_sentinels]
        return [(host.strip("[]"), int(port)) for host, _, port in pairs]

    def redis_dsn(self) -> str:
        """The connection URL: JOBS_REDIS_URL when set, else built from host/port/db/password."""
        if self.redis_url is not None:
            return self.redis_url.get_secret_value()
        auth = ""
        if self.redis_password is not None and self.redis_password.get_secret_value():
            auth = ":" + quote(self.redis_password.get_secret_value(), safe="") + "@"
        if self.redis_username and auth:
            auth = quote(self.redis_username, safe="") + auth
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def redis_display(self) -> str:
        """The connection URL with any password masked, safe for logs (the sentinels when used)."""
        from urllib.parse import urlsplit, urlunsplit

        if self.redis_sentinels:
            return f"sentinel://{','.join(self.redis_sentinels)}/{self.redis_sentinel_master}"
        parts = urlsplit(self.redis_dsn())
        if parts.password:
            host = parts.hostname or ""
            netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
            parts = parts._replace(netloc=netloc)
        return urlunsplit(parts)


def describe_error(err: ValidationError, prefix: str = "JOBS_") -> str:
    """One line per wrong variable: ``JOBS_CONCURRENCY: Input should be a valid integer``."""
    lines = []
    for item in err.errors():
        field = ".".join(str(p) for p in item["loc"]) or "settings"
        name = (prefix + field).upper() if item["loc"] else "configuration"
        lines.append(f"{name}: {item['msg']}")
    return "; ".join(lines)


def load_settings(cls: type[S]) -> S:
    """Build the service's settings or exit(2) with a one-line message naming the bad variable."""
    try:
        return cls()
    except ValidationError as err:
        print(f"invalid configuration: {describe_error(err)}", file=sys.stderr)
        raise SystemExit(2) from None
