"""How a stored job looks to clients (API and dashboard alike): SPEC.md's camelCase fields, ISO times.

Stored values are strings (Redis hashes); bad JSON in a stored result is shown as text, never raised.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def iso(ms: str | int | None) -> str | None:
    """Epoch milliseconds → ``2026-02-03T12:00:00.000Z``; empty and 0 → None."""
    if ms in (None, "", "0", 0):
        return None
    moment = datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stored_json(text: str | None) -> Any:
    """A stored JSON text as a value; empty is None, and text that is not JSON stays text."""
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        return default


def _progress(text: str | None) -> int | float:
    """0..100 as stored by the progress script: an integer, or a number with up to two decimals."""
    try:
        value = float(text) if text not in (None, "") else 0.0
    except ValueError:
        return 0
    return int(value) if value.is_integer() else value


def job_summary(rec: dict[str, str]) -> dict[str, Any]:
    """The short form used in lists."""
    return {
        "jobId": rec.get("id"),
        "type": rec.get("type"),
        "queue": rec.get("queue"),
        "status": rec.get("status"),
        "priority": rec.get("priority"),
        "progress": _progress(rec.get("progress")),
        "attempts": _int(rec.get("attempt")),
        "createdAt": iso(rec.get("createdAt")),
        "finishedAt": iso(rec.get("finishedAt")),
    }


def job_detail(rec: dict[str, str], dependents: list[str]) -> dict[str, Any]:
    """GET /jobs/:id: SPEC.md's fields plus payload, options, error and stack, timing, dependencies."""
    status = rec.get("status")
    view = job_summary(rec)
    view.update(
        {
            "payload": stored_json(rec.get("payload")) or {},
            "options": stored_json(rec.get("options")) or {},
            "result": stored_json(rec.get("result")),
            "error": rec.get("error") or None,  # the last failure, also after a later success
            "stack": rec.get("stack") or None,
            "runAt": iso(rec.get("runAt")) or iso(rec.get("createdAt")),
            "startedAt": iso(rec.get("startedAt")),
            "completedAt": iso(rec.get("finishedAt")) if status == "completed" else None,
            "failedAt": iso(rec.get("finishedAt")) if status == "failed" else None,
            "cancelledAt": iso(rec.get("finishedAt")) if status == "cancelled" else None,
            "maxAttempts": _int(rec.get("maxAttempts"), 1),
            "stalls": _int(rec.get("stalls")),
            "timeout": _int(rec.get("timeout")),
            "backoff": {"type": rec.get("backoff"), "delay": _int(rec.get("backoffDelay"))},
            "dependsOn": stored_json(rec.get("dependsOn")) or [],
            "dependents": sorted(dependents),
            "scheduleId": rec.get("scheduleId") or None,
            "worker": rec.get("worker") or None,
            "durationMs": _int(rec.get("duration")) if rec.get("duration") else None,
        }
    )
    return view
