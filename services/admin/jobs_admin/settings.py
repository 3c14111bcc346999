"""Settings of ``jobs-admin``: only the core's (Redis connection, key prefix, queues, retention), read
from the same ``JOBS_*`` variables as the services it inspects, so it points at the same deployment."""

from __future__ import annotations

from jobs_core.settings import CoreSettings


class AdminSettings(CoreSettings):
    """No variables of its own."""
