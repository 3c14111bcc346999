"""A job's state timeline, rebuilt from its record and its per-try errors (no scan of the event stream).

The record keeps when the job was created, when it is due, when its latest try started and when it
ended; the errors list keeps each failed try with its time. Missing or bad fields are left out.
"""

from __future__ import annotations

from typing import Any

from jobs_core.views import iso


def _ms(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def timeline(record: dict[str, str], errors: list[Any]) -> list[dict[str, Any]]:
    """Entries ``{at (ISO), ms, label, state}``, oldest first."""
    status = record.get("status", "")
    created, run_at = _ms(record.get("createdAt")), _ms(record.get("runAt"))
    started, finished = _ms(record.get("startedAt")), _ms(record.get("finishedAt"))
    entries: list[tuple[int, str, str]] = [(created, "created", "created")]
    for err in errors:
        if isinstance(err, dict) and _ms(err.get("at")):
            entries.append((_ms(err["at"]), f"try {err.get('attempt', '?')} failed", "failed"))
    if started:
        entries.append((started, f"try {record.get('attempt', '?')} started", "active"))
    if finished and status in ("completed", "failed", "cancelled"):
        entries.append((finished, status, status))
    if status == "delayed" and run_at:
        entries.append((run_at, "due (delayed until)", "delayed"))
    elif status == "blocked":
        entries.append((created, "waiting for dependencies", "blocked"))
    entries.sort(key=lambda e: e[0])
    return [{"at": iso(ms), "ms": ms, "label": label, "state": state} for ms, label, state in entries]
