"""jobs_worker: arq-based workers that run built-in and custom job processors.

Public API for processor modules: ``register_job_processor``, ``UnrecoverableError`` and ``Job``.
"""

from jobs_worker.job import Job, UnrecoverableError
from jobs_worker.processors import register_job_processor

__all__ = ["Job", "UnrecoverableError", "register_job_processor"]
