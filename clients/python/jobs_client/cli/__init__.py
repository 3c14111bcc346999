"""The ``jobs`` console script. Its commands need the ``cli`` extra (typer, rich); without it the script
says how to install them instead of failing with an import error.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from jobs_client.cli.app import run
    except ImportError as err:  # the SDK alone was installed
        sys.stderr.write(
            f"error: the jobs command needs the cli extra ({err.name} is missing): "
            "pip install 'nchat-jobs-client[cli]'\n"
        )
        sys.exit(2)
    sys.exit(run())
