"""The processor registry: ``@register_job_processor("type")`` and loading ``JOBS_PROCESSOR_MODULES``.

Processors are registered by importing their modules; a module that fails to import stops the worker
at start with the module name and the error (a worker that silently lacks processors would fail every
job of those types instead). Sync functions are wrapped to run in the default thread pool.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

Processor = Callable[[Any], Awaitable[Any]]

_registry: dict[str, Processor] = {}
_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def register_job_processor(job_type: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the function processes jobs of ``job_type``; it gets the job and returns JSON."""
    if not _TYPE.match(job_type):
        raise ValueError(f"invalid job type {job_type!r}: letters, digits and _.:- only")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(fn):
            _registry[job_type] = fn
        else:

            @functools.wraps(fn)
            async def in_thread(job: Any) -> Any:
                return await asyncio.to_thread(fn, job)

            _registry[job_type] = in_thread
        return fn

    return register


def processors() -> dict[str, Processor]:
    return dict(_registry)


def load_modules(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as err:  # any import failure must stop start-up with a clear line
            raise SystemExit(f"cannot import processor module {name!r}: {type(err).__name__}: {err}") from err
