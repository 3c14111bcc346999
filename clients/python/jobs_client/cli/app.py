"""``run()``: the ``jobs`` command with its commands registered, and the one place where failures become
exit codes and one-line messages, never tracebacks.

Exit codes: 0 done; 1 the API refused or could not be reached, or a waited-for job failed or was
cancelled; 2 bad usage (unknown option, bad value, a destructive command without ``--yes`` off a
terminal); 124 ``wait`` timed out; 130 Ctrl-C; ``health`` has its own 0/1/2.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from jobs_client.cli import jobs_cmds, queue_cmds
from jobs_client.cli.base import NotConfirmed, UsageProblem, app
from jobs_client.cli.render import Output, Printer
from jobs_client.errors import JobsError

COMMANDS = (jobs_cmds, queue_cmds)  # imported for their @app.command registrations


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _log_to_stderr() -> None:
    """The SDK's retry and reconnect notices, as one dim line each on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    logger = logging.getLogger("jobs_client")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def _printer() -> Printer:
    return Printer.current or Printer(Output.table)


def run(argv: list[str] | None = None) -> int:
    _log_to_stderr()
    try:
        code = app(args=argv, prog_name="jobs", standalone_mode=False)
    except UsageProblem as err:
        _printer().error(err)
        return 2
    except NotConfirmed as err:
        _printer().error(err)
        return 1
    except typer.Abort:
        return 130
    except typer.TyperException as err:  # typer's own usage errors: unknown option, bad value
        message = err.format_message() if hasattr(err, "format_message") else str(err)
        context = getattr(err, "ctx", None)
        command = context.command_path if context is not None else "jobs"
        _printer().error(RuntimeError(f"{message} (see: {command} --help)"))
        return int(getattr(err, "exit_code", 2))
    except JobsError as err:
        _printer().error(err)
        return 1
    except Exception as err:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("JOBS_DEBUG"):
            raise
        _printer().error(RuntimeError(f"unexpected {type(err).__name__}: {err}"))
        return 1
    return code if isinstance(code, int) else 0
