"""The worker's target variables (issue 10): nChat's PostgreSQL, the notifications plugin, SMTP, and the
backup destinations. All optional; a job whose target is unset fails at once naming the variable.

A malformed value stops the worker at start with one line naming the variable (pydantic-settings, through
``load_settings``); the messages never repeat the value, since most of these carry credentials.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from jobs_core.settings import CoreSettings

BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _split(url: str, schemes: tuple[str, ...], example: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        raise ValueError(f"not a valid URL; expected {example}") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"must look like {example}")
    if port == 0:
        raise ValueError(f"port 0 is not valid; expected {example}")
    return parts


class TargetSettings(CoreSettings):
    database_url: SecretStr | None = None
    notifications_url: str | None = None
    notifications_path: str = "/api/notifications/send"
    notifications_api_key: SecretStr | None = None
    smtp_url: SecretStr | None = None
    smtp_from: str = Field("nChat <noreply@nchat.local>", max_length=320)
    backup_dir: Path | None = None
    backup_s3_bucket: str | None = None
    backup_s3_prefix: str = Field("nself-backups/", max_length=512)
    backup_s3_endpoint: str | None = None
    backup_s3_region: str = Field("us-east-1", pattern=r"^[a-z0-9-]{1,32}$")
    backup_s3_access_key: SecretStr | None = None
    backup_s3_secret_key: SecretStr | None = None

    @field_validator(
        "database_url",
        "notifications_url",
        "notifications_api_key",
        "smtp_url",
        "backup_dir",
        "backup_s3_bucket",
        "backup_s3_endpoint",
        "backup_s3_access_key",
        "backup_s3_secret_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """compose and Helm pass unset variables as empty strings."""
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = _split(
                value.get_secret_value(), ("postgresql", "postgres"), "postgresql://user:pass@host:5432/db"
            )
            if not parts.path.strip("/"):
                raise ValueError("names no database; expected postgresql://user:pass@host:5432/db")
        return value

    @field_validator("notifications_url", "backup_s3_endpoint")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None:
            _split(value, ("http", "https"), "http://host:port")
            return value.rstrip("/")
        return value

    @field_validator("notifications_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError("must be a URL path starting with / (e.g. /api/notifications/send)")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _split(value.get_secret_value(), ("smtp", "smtps"), "smtp://[user:pass@]host:port or smtps://…")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        from email.utils import parseaddr

        if "@" not in parseaddr(value)[1]:
            raise ValueError("must be an address, e.g. 'nChat <noreply@example.org>'")
        return value

    @field_validator("backup_s3_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and not BUCKET.match(value):
            raise ValueError("not a valid bucket name (3-63 of a-z, 0-9, '.', '-')")
        return value

    @field_validator("backup_s3_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.lstrip("/")
        return value if not value or value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _key_pair(self) -> TargetSettings:
        if (self.backup_s3_access_key is None) != (self.backup_s3_secret_key is None):
            raise ValueError(
                "JOBS_BACKUP_S3_ACCESS_KEY and JOBS_BACKUP_S3_SECRET_KEY go together: set both or neither"
            )
        return self
