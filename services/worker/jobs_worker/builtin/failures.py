"""One place that decides whether a built-in job's failure is worth retrying.

Transient (the job's retry policy applies): connection refused or reset, timeouts, HTTP 5xx/429, SMTP
4xx, PostgreSQL connection loss, deadlocks and serialization failures, S3 throttling and 5xx.
Permanent (``UnrecoverableError``: the job fails at once): bad requests the plugin refuses, SMTP 5xx,
PostgreSQL errors that a retry cannot fix (schema mismatch, missing privilege, failed login), S3 access
refused or missing bucket. Either way the message is scrubbed of every configured secret and the original
exception is not chained, so nothing secret reaches the job's stored error, its stack or the logs.
"""

from __future__ import annotations

from collections.abc import Callable

from jobs_worker.job import UnrecoverableError


class TargetUnavailable(Exception):
    """A transient failure of a target; retried per the job's policy."""


# SQLSTATE classes a retry cannot fix: 28 auth, 3D no database, 42 schema or privilege, 22 bad data,
# 23 constraint violated.
PERMANENT_SQLSTATE_CLASSES = ("28", "3D", "42", "22", "23")
PERMANENT_S3_CODES = {
    "AccessDenied",
    "NoSuchBucket",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidBucketName",
}


def classify(err: Exception, scrub: Callable[[str], str]) -> Exception:
    """The exception to raise instead of ``err``: UnrecoverableError or TargetUnavailable."""
    if isinstance(err, UnrecoverableError):
        return UnrecoverableError(scrub(str(err)))
    if isinstance(err, TargetUnavailable):
        return TargetUnavailable(scrub(str(err)))
    text = scrub(_describe(err))
    if _permanent(err):
        return UnrecoverableError(text)
    return TargetUnavailable(text)


def _describe(err: Exception) -> str:
    text = str(err)
    name = type(err).__name__
    return f"{name}: {text}" if text else name


def _permanent(err: Exception) -> bool:
    return _postgres_permanent(err) or _smtp_permanent(err) or _s3_permanent(err)


def _postgres_permanent(err: Exception) -> bool:
    sqlstate = getattr(err, "sqlstate", None)
    if not isinstance(sqlstate, str) or type(err).__module__.split(".")[0] != "asyncpg":
        return False
    return sqlstate[:2] in PERMANENT_SQLSTATE_CLASSES


def _smtp_permanent(err: Exception) -> bool:
    """SMTP replies 5xx are permanent (RFC 5321 §4.2.1); 4xx and connection trouble are not."""
    if type(err).__module__.split(".")[0] != "aiosmtplib":
        return False
    recipients = getattr(err, "recipients", None)
    if recipients:  # SMTPRecipientsRefused: permanent only when every refusal is
        return all(getattr(r, "code", 0) >= 500 for r in recipients)
    code = getattr(err, "code", 0)
    return isinstance(code, int) and 500 <= code < 600


def _s3_permanent(err: Exception) -> bool:
    response = getattr(err, "response", None)
    if not isinstance(response, dict) or type(err).__module__.split(".")[0] != "botocore":
        return False
    return response.get("Error", {}).get("Code") in PERMANENT_S3_CODES
