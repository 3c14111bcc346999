"""Creating Redis clients from settings, and turning connection failures into ``RedisUnavailable``.

Clients retry a failed command a few times with back-off (redis-py's Retry), so a Redis restart or a
Sentinel fail-over costs latency, not errors; past that, callers get ``RedisUnavailable`` (HTTP 503).
A Redis over ``maxmemory`` (noeviction) refuses writes with OOM: that becomes ``RedisFull`` (also 503),
and the long-running services treat it like an outage (wait, retry), never as a reason to exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

from jobs_core.errors import RedisFull, RedisUnavailable
from jobs_core.settings import CoreSettings

CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)
# What "Redis cannot serve us now" looks like to a caller: down (raw client errors, or them wrapped by a
# JobStore call) or full (OOM refusals, raw or wrapped as RedisFull, a RedisUnavailable). Both pass.
UNREACHABLE = (RedisUnavailable, *CONNECTION_ERRORS, OutOfMemoryError)
FULL_MESSAGE = (
    "Redis is full (used memory over maxmemory, policy noeviction): nothing was stored; "
    "retry later, or free memory (clean finished jobs, lower retention)"
)


def connect(settings: CoreSettings, *, retries: int = 3, timeout: float | None = 5.0) -> Redis:
    """A client for the configured Redis; ``timeout`` bounds each command (None for blocking pops)."""
    client: Redis = Redis.from_url(
        settings.redis_dsn(),
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=2.0,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return client


@asynccontextmanager
async def unavailable_as_error() -> AsyncIterator[None]:
    """Re-raises connection failures as ``RedisUnavailable`` and OOM refusals as ``RedisFull``."""
    try:
        yield
    except CONNECTION_ERRORS as err:
        raise RedisUnavailable(f"Redis is unreachable: {type(err).__name__}") from err
    except OutOfMemoryError as err:
        raise RedisFull(FULL_MESSAGE) from err
