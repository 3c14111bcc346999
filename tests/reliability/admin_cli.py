"""Running ``jobs-admin`` as the real console script and reading its JSON answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def admin_check(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    """Exit code and parsed ``-o json`` report of ``jobs-admin check``."""
    command = [str(BIN / "jobs-admin"), "check", "-o", "json", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def kinds(report: dict[str, Any]) -> set[str]:
    return set(report["counts"])
