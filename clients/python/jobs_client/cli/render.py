"""How the CLI prints: rich tables for people (``-o table``, the default) or JSON for programs
(``-o json``: the API's own field names, one document per line, nothing else on stdout).

Messages about the run (subscribed, reconnecting, errors) go to stderr, so stdout stays parseable.
Errors are one line: ``error: …`` for people, ``{"error": {…}}`` in JSON mode.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from jobs_client.errors import ApiError, JobCancelled, JobFailed, JobsError, WaitTimeout
from jobs_client.models import ApiModel, Event

STATUS_STYLE = {
    "completed": "green",
    "healthy": "green",
    "active": "cyan",
    "waiting": "blue",
    "delayed": "magenta",
    "blocked": "yellow",
    "degraded": "yellow",
    "paused": "yellow",
    "failed": "red",
    "cancelled": "red",
    "removed": "red",
    "unhealthy": "red",
}


class Output(StrEnum):
    table = "table"
    json = "json"


class Printer:
    """The output of one command run."""

    current: Printer | None = None

    def __init__(self, output: Output) -> None:
        self.json = output is Output.json
        width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS") or 200)
        self.console = Console(width=width, highlight=False, soft_wrap=False)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        Printer.current = self

    def data(self, value: ApiModel | dict[str, Any] | list[Any]) -> None:
        """One JSON document on one line."""
        body = value.to_json() if isinstance(value, ApiModel) else value
        sys.stdout.write(json.dumps(body, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()

    def show(self, renderable: Any) -> None:
        self.console.print(renderable)

    def note(self, message: str) -> None:
        self.err.print(message, style="dim", markup=False)

    def error(self, error: BaseException) -> None:
        if self.json:
            sys.stderr.write(json.dumps({"error": error_json(error)}, default=str) + "\n")
        else:
            self.err.print(Text(f"error: {one_line(error)}", style="red"))


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def error_json(error: BaseException) -> dict[str, Any]:
    if isinstance(error, ApiError):
        return error.to_dict()
    body: dict[str, Any] = {"code": "error", "message": one_line(error)}
    if isinstance(error, JobFailed | JobCancelled | WaitTimeout):
        body["jobId"] = error.job_id
        kinds = {JobFailed: "job_failed", JobCancelled: "job_cancelled", WaitTimeout: "wait_timeout"}
        body["code"] = kinds[type(error)]
        body["status"] = getattr(error, "status", "failed")
    elif isinstance(error, JobsError):
        body["code"] = "client_error"
    return body


def styled(status: str | None) -> Text:
    text = status or "-"
    return Text(text, style=STATUS_STYLE.get(text, ""))


def when(value: Any, short: bool = False) -> str:
    """A time in the local zone: ``2026-02-03 12:00:00``, or ``02-03 12:00:00`` where space is short."""
    if value is None:
        return "-"
    if not isinstance(value, datetime):
        return str(value)
    return value.astimezone().strftime("%m-%d %H:%M:%S" if short else "%Y-%m-%d %H:%M:%S")


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> Table:
    """When the terminal is narrow the other columns wrap or shrink; the first (an id to copy) stays whole."""
    grid = Table(title=title, title_justify="left", header_style="bold")
    grid.add_column(columns[0], no_wrap=True)
    for name in columns[1:]:
        grid.add_column(name)
    for row in rows:
        grid.add_row(*(cell if isinstance(cell, Text) else Text(str(cell)) for cell in row))
    return grid


def fields(pairs: Sequence[tuple[str, Any]]) -> Table:
    """A two-column key/value table (``jobs show``)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in pairs:
        shown = value if isinstance(value, Text) else Text(compact(value))
        grid.add_row(key, shown)
    return grid


def compact(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return when(value) if isinstance(value, datetime) else str(value)


def event_line(event: Event) -> Text:
    """``12:00:00.123  default  job-1  waiting → active  attempt 1``."""
    moment = event.at.strftime("%H:%M:%S.%f")[:-3] if event.at else "-"
    line = Text(f"{moment}  {event.queue or '-'}  {event.job_id or '(queue)'}  {event.from_state or '∅'} → ")
    line.append_text(styled(event.to_state))
    extras = [
        f"attempt {event.attempt}" if event.attempt else "",
        f"progress {event.progress}" if event.progress is not None else "",
        f"type {event.type}" if event.type else "",
        f"error: {event.error}" if event.error else "",
        f"[{event.id}]" if event.id else "",
    ]
    line.append("  " + "  ".join(e for e in extras if e))
    return line
