"""The side-effect log: one append-only file per worker process, one line per step of a try.

Why files and not Redis: the log must survive every fault the run injects. Redis is restarted and
SIGKILLed, so a list in it could lose the very lines that prove a duplicate; a second Redis would be one
more process to keep alive. Each line is one ``write(2)`` on a descriptor opened with ``O_APPEND``:
once the call returns the line is in the kernel's page cache, so a SIGKILL of the worker right after
cannot lose it (only a machine crash could, and the run crashes none). A line is short (< 200 bytes), so
the append is atomic and lines of concurrent tries never interleave.

Line format (tab-separated): ``step  job_id  attempt  token  unix_ms``; ``step`` is ``start`` (the
processor began) or ``effect`` (the job's one visible effect happened; written just before returning).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ENV_DIR = "CHAOS_EFFECTS_DIR"


class EffectLog:
    """The writer of one worker process (opened lazily, at its first line)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._fd: int | None = None

    def write(self, step: str, job_id: str, attempt: int, token: str) -> None:
        if self._fd is None:
            path = os.path.join(self.folder, f"effects-{os.getpid()}.log")
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        line = f"{step}\t{job_id}\t{attempt}\t{token}\t{time.time() * 1000:.3f}\n"
        os.write(self._fd, line.encode())


@dataclass(frozen=True)
class Step:
    step: str
    job_id: str
    attempt: int
    token: str
    at_ms: float


@dataclass
class Effects:
    """Every line of every worker, grouped by job."""

    starts: dict[str, list[Step]] = field(default_factory=lambda: defaultdict(list))
    effects: dict[str, list[Step]] = field(default_factory=lambda: defaultdict(list))

    def effect_count(self, job_id: str) -> int:
        return len(self.effects.get(job_id, ()))

    def started_between(self, since_ms: float, until_ms: float) -> set[str]:
        """Jobs with a try that began in the window (a claim made just before a Redis fault)."""
        return {
            job_id
            for job_id, steps in self.starts.items()
            if any(since_ms <= s.at_ms <= until_ms for s in steps)
        }


def read_effects(folder: Path) -> Effects:
    out = Effects()
    for path in sorted(folder.glob("effects-*.log")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            step, job_id, attempt, token, at = raw.split("\t")
            item = Step(step, job_id, int(attempt), token, float(at))
            (out.starts if step == "start" else out.effects)[job_id].append(item)
    return out
