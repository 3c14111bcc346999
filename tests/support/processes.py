"""Starting the real console scripts as processes and following their JSON log lines.

``Service.wait_for(event)`` blocks until a log line with that ``event`` arrives (the services log
``service_ready`` once they listen), so tests synchronise on what the process says, not on sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


class Service:
    def __init__(self, command: str, env: dict[str, str], name: str) -> None:
        self.name = name
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.proc = subprocess.Popen(
            [str(BIN / command)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                self.lines.append(item)
                self._queue.put(item)

    def wait_for(self, event: str, timeout: float = 15.0, **match: Any) -> dict[str, Any]:
        """The first log line (already seen or coming) with this event and fields."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for item in self.lines[seen:]:
                seen += 1
                if item.get("event") == event and all(item.get(k) == v for k, v in match.items()):
                    return item
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.proc.poll() is not None and self._queue.empty()):
                tail = "".join(self.raw[-30:])
                raise TimeoutError(f"{self.name}: no {event!r} log line; exit={self.proc.poll()}\n{tail}")
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=min(remaining, 0.5))

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
