"""Payloads of SPEC.md's six built-in job types, shared by every producer and by the worker.

Producers (``build_spec``: the API, bulk, recurring schedules, the scheduler's fires) refuse a bad
payload of a built-in type with ``InvalidInput`` naming the field (``payload.content.body: Field
required``) before anything is stored; the worker validates again with :func:`parse_payload` and fails
such a job at once. Field names are SPEC.md's (camelCase); unknown fields are refused, so a typo never
passes silently. Types that are not built in are not looked at.
"""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from jobs_core.errors import InvalidInput

# An id as nChat or a client writes it: a UUID, a username, a slug; no spaces or control characters.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\x00-\x1f]+$")]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
ANALYTICS_METRICS = ("messages", "users", "channels")
CLEANUP_TARGETS = ("messages", "notifications", "jobs")


class Payload(BaseModel):
    """camelCase on the wire, no coercion ("5" is not 5), no unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", strict=True, frozen=True
    )


class Recipient(Payload):
    email: Email | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()./-]{5,32}$")] | None = None
    push_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None


class Content(Payload):
    subject: Annotated[str, StringConstraints(max_length=998)] | None = None
    body: Text
    html: Annotated[str, StringConstraints(max_length=500_000)] | None = None


RECIPIENT_FIELD = {"email": "email", "sms": "phone", "push": "push_token"}


class SendNotification(Payload):
    """One notification through nChat's notifications plugin, or an email through SMTP."""

    user_id: Identifier
    channel: Literal["email", "push", "sms"]
    to: Recipient | None = None
    content: Content
    category: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _recipient_fits_channel(self) -> SendNotification:
        wanted = RECIPIENT_FIELD[self.channel]
        if self.to is not None and getattr(self.to, wanted) is None:
            raise ValueError(f"to.{to_camel(wanted)} is required for channel {self.channel!r}")
        return self


class SendEmailDigest(Payload):
    """One user's digest (``userId``), or the fan-out to every user of that frequency (no ``userId``)."""

    user_id: Identifier | None = None
    frequency: Literal["daily", "weekly"] = "daily"
    since: Annotated[AwareDatetime, Field(strict=False)] | None = None


class CleanupExpired(Payload):
    target_type: Literal["messages", "notifications", "jobs"]
    older_than: int = Field(ge=1, le=36_500, description="days")
    batch_size: int = Field(1000, ge=1, le=10_000)
    dry_run: bool = False


class GenerateAnalytics(Payload):
    date: Annotated[Date, Field(strict=False)] | None = None
    metrics: list[Literal["messages", "users", "channels"]] | None = Field(None, min_length=1, max_length=3)

    @model_validator(mode="after")
    def _distinct(self) -> GenerateAnalytics:
        if self.metrics is not None and len(set(self.metrics)) != len(self.metrics):
            raise ValueError("metrics: each metric at most once")
        return self


class BackupDatabase(Payload):
    """``destination`` absent: s3 when JOBS_BACKUP_S3_BUCKET is set on the worker, else local."""

    destination: Literal["s3", "local"] | None = None
    retention: int = Field(30, ge=1, le=3650, description="days")


class ScheduledMessage(Payload):
    scheduled_message_id: Identifier
    channel_id: Identifier
    user_id: Identifier
    content: Text


BUILTIN_PAYLOADS: dict[str, type[Payload]] = {
    "send-notification": SendNotification,
    "send-email-digest": SendEmailDigest,
    "cleanup-expired": CleanupExpired,
    "generate-analytics": GenerateAnalytics,
    "backup-database": BackupDatabase,
    "scheduled-message": ScheduledMessage,
}


def parse_payload(job_type: str, payload: Any) -> Payload:
    """The typed payload of a built-in type; raises ``ValidationError`` (see :func:`field_errors`)."""
    return BUILTIN_PAYLOADS[job_type].model_validate(payload)


def field_errors(err: ValidationError, where: str = "payload") -> list[dict[str, str]]:
    """``[{"field": "payload.content.body", "message": "Field required"}]``."""
    out = []
    for item in err.errors(include_url=False):
        path = ".".join(str(p) for p in item["loc"])
        field = f"{where}.{path}" if path else where
        out.append({"field": field, "message": str(item["msg"]).removeprefix("Value error, ")})
    return out


def describe(details: list[dict[str, str]]) -> str:
    return "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])


def check_payload(job_type: str, payload: Any, where: str = "") -> None:
    """Raise ``InvalidInput`` naming each bad field when ``job_type`` is built in and its payload is not
    valid; ``where`` prefixes the field names (``jobs.3`` in a bulk request)."""
    if job_type not in BUILTIN_PAYLOADS:
        return
    try:
        parse_payload(job_type, payload)
    except ValidationError as err:
        details = field_errors(err, f"{where}.payload" if where else "payload")
        raise InvalidInput(describe(details), details) from None
