"""Template filters and globals: times, durations, pretty JSON, byte sizes.

Filters never raise on odd stored values: they show them as they are (or a dash).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jinja2

from jobs_dashboard.settings import DashboardSettings


def when(value: Any) -> str:
    """ISO text or epoch ms → ``2026-02-03 12:00:05`` (UTC); empty → a dash."""
    if value in (None, "", 0, "0"):
        return "—"
    try:
        if isinstance(value, int | float) or str(value).isdigit():
            moment = datetime.fromtimestamp(int(value) / 1000, UTC)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def duration(value: Any) -> str:
    """Milliseconds → ``850 ms`` / ``2.4 s`` / ``3 min``; None → a dash."""
    if value is None or value == "":
        return "—"
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return str(value)
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms / 60_000:.1f} min"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def number(value: Any) -> str:
    try:
        return f"{int(value):,}".replace(",", " ")
    except (TypeError, ValueError):
        return str(value)


def log_extra(line: dict[str, Any]) -> dict[str, Any]:
    """A log line's own fields, without the ones every line has."""
    return {k: v for k, v in line.items() if k not in ("at", "attempt", "message")}


def install_filters(env: jinja2.Environment, settings: DashboardSettings) -> None:
    env.filters.update(
        {"when": when, "duration": duration, "pretty": pretty, "number": number, "log_extra": log_extra}
    )
    env.globals.update({"queue_names": list(settings.queues)})
