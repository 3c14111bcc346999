"""The ``jobs`` application object, its global options (``--url``/``JOBS_URL``, ``--token``/``JOBS_TOKEN``,
``--timeout``) and what the commands share: the client, ``-o``, the ``--yes`` confirmation, and parsing
of durations, payloads and times into SDK values.

Bad values stop the command before any request with one line naming the option (``UsageProblem``, exit
2). A destructive command without ``--yes`` asks on a terminal and refuses when stdin is not one.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from jobs_client.cli.render import Output
from jobs_client.sync_client import JobsClient

app = typer.Typer(
    name="jobs",
    help="Operate nChat Jobs through its HTTP API (JOBS_URL, JOBS_TOKEN).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class UsageProblem(Exception):
    """A bad option value or a refused confirmation: exit 2, before any request."""


class NotConfirmed(Exception):
    """The user answered no: exit 1, nothing changed."""


OutputOption = Annotated[
    Output, typer.Option("--output", "-o", envvar="JOBS_OUTPUT", help="table for people, json for programs")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="do it without asking")]
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass
class State:
    url: str | None
    token: str | None
    timeout: float
    _client: JobsClient | None = None

    @property
    def client(self) -> JobsClient:
        if self._client is None:
            try:
                self._client = JobsClient(self.url, self.token, timeout=self.timeout)
            except ValueError as err:
                raise UsageProblem(f"--url: {err}") from None
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@app.callback()
def options(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(envvar="JOBS_URL", help="API address [default: http://localhost:3105]")
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="JOBS_TOKEN", help="bearer token", show_default=False)
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds per HTTP request")] = 10.0,
) -> None:
    state = State(url, token, timeout)
    ctx.obj = state
    ctx.call_on_close(state.close)


def client(ctx: typer.Context) -> JobsClient:
    state: State = ctx.find_object(State) or State(None, None, 10.0)
    return state.client


def confirm(yes: bool, question: str, action: str) -> None:
    """Goes on with ``--yes`` or a "y" typed on a terminal; stops otherwise (exit 2, or 1 on "no")."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageProblem(f"refusing to {action} without --yes (stdin is not a terminal to ask on)")
    if not typer.confirm(question, default=False, err=True):
        raise NotConfirmed("not confirmed: nothing was changed")


def duration(value: str | None, option: str) -> float | None:
    """``1500ms``, ``30s``, ``5m``, ``2h``, ``1d`` or plain seconds → seconds."""
    if value is None:
        return None
    found = DURATION.match(value)
    if not found:
        raise UsageProblem(f"{option}: {value!r} is not a duration such as 1500ms, 30s, 5m, 2h or 1d")
    return float(found.group(1)) * UNITS[found.group(2) or "s"]


def payload(value: str | None) -> dict[str, Any]:
    """``--payload``: a JSON object, or ``@file`` holding one."""
    if value is None:
        return {}
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as err:
            raise UsageProblem(f"--payload: cannot read {value[1:]!r}: {err.strerror}") from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageProblem(f"--payload: not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(parsed, dict):
        raise UsageProblem('--payload: must be a JSON object such as \'{"userId": "u1"}\'')
    return parsed


def moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise UsageProblem(f"{option}: {value!r} is not an ISO time such as 2026-02-03T12:00:00Z") from None
