"""Where rendered log lines go: stdout, one write per line, except for the loggers named as batched
(the api's access log), whose lines wait in memory up to ``BATCH_S`` and are written together.

Why: writing and flushing a line is a system call, which cost the api about a tenth of its CPU per
request, one access line each. Batched, one write carries every line of ``BATCH_S``.

How it fails: lines still waiting when the process is killed (SIGKILL, OOM) are lost, at most
``BATCH_S`` of access lines; a normal exit writes them (atexit), and any other line written first
writes the waiting ones before it, so the order of lines is kept. Outside a running event loop nothing
waits.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from typing import Any, TextIO

# Long enough to gather many requests' lines under load, short enough that `tail -f` shows them at once.
BATCH_S = 0.05


class LineWriter:
    """One per output stream; hands out structlog loggers that write through it."""

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._lock = threading.Lock()  # workers and schedulers also log from their probe threads
        self._waiting: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        atexit.register(self.flush)

    def logger(self, batched: bool) -> Any:
        return _Logger(self.batch if batched else self.write)

    def write(self, line: str) -> None:
        with self._lock:
            self._waiting.append(line)
            self._write_waiting()

    def batch(self, line: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.write(line)
            return
        with self._lock:
            self._waiting.append(line)
            if self._timer is None:
                self._timer = loop.call_later(BATCH_S, self.flush)

    def flush(self) -> None:
        with self._lock:
            self._write_waiting()

    def _write_waiting(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiting:
            text = "\n".join(self._waiting) + "\n"
            self._waiting.clear()
            self._file.write(text)
            self._file.flush()


class _Logger:
    """What structlog's bound loggers call with the rendered line, whatever the level."""

    def __init__(self, out: Any) -> None:
        self.msg = out

    def __getattr__(self, name: str) -> Any:  # info, warning, error, exception, critical …
        return self.msg
