"""structlog set-up for every service: JSON lines in production, readable console locally.

Each line carries timestamp, level, service and whatever context is bound (job_id, queue, type, attempt
for job lines). Values that look like secrets are masked by :func:`redact` before rendering, so a
password in a Redis URL or a token never reaches a log line.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from typing import Any

import structlog

from jobs_core.log_output import LineWriter

_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+@")
_SECRET_KEYS = ("password", "token", "secret", "authorization")


@functools.lru_cache(maxsize=4096)
def _is_secret(key: str) -> bool:
    """Cached: a service logs the same few dozen field names over and over, and this test ran for
    every field of every line (about half of the cost of the api's access line)."""
    lowered = key.lower()
    return any(s in lowered for s in _SECRET_KEYS)


def redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(event.items()):
        if _is_secret(key):
            event[key] = "***"
        elif isinstance(value, str) and "://" in value:
            event[key] = _URL_PASSWORD.sub(r"\1***@", value)
    return event


def configure(
    service: str, level: str = "info", fmt: str = "json", batched: frozenset[str] = frozenset()
) -> None:
    """Routes structlog and the standard library (aiohttp, arq, apscheduler) through one renderer.

    Lines of the structlog loggers named in ``batched`` are written in batches (:mod:`log_output`)."""
    writer = LineWriter(sys.stdout)

    def factory(*args: Any) -> Any:
        return writer.logger(batched=bool(args) and args[0] in batched)

    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # arq and aiohttp.access are chatty at INFO; our own lines say what matters.
    logging.getLogger("arq").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
