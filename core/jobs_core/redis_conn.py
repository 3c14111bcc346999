"""Creating Redis clients from settings (the one place every service and tool gets its clients), and
turning connection failures into ``RedisUnavailable``.

Three deployments: a plain server (``JOBS_REDIS_URL``, or host/port/db/username/password), TLS
(``rediss://`` URLs; redis-py's query parameters such as ``ssl_ca_certs``, ``ssl_certfile``,
``ssl_cert_reqs`` pass through), and Sentinel (``JOBS_REDIS_SENTINELS``): the master's address is asked
of the sentinels at every (re)connection, so a fail-over needs no restart; a connection still open to a
demoted master fails with READONLY, is dropped and retried against the new one.

Clients retry a failed command a few times with back-off (redis-py's Retry), so a Redis restart or a
Sentinel fail-over costs latency, not errors; past that, callers get ``RedisUnavailable`` (HTTP 503).
A Redis over ``maxmemory`` (noeviction) refuses writes with OOM: that becomes ``RedisFull`` (also 503),
and the long-running services treat it like an outage (wait, retry), never as a reason to exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar, overload

from redis.asyncio import Redis
from redis.asyncio.connection import SSLConnection, parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
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


R = TypeVar("R", bound=Redis)


@overload
def connect(settings: CoreSettings, *, retries: int = 3, timeout: float | None = 5.0) -> Redis: ...


@overload
def connect(
    settings: CoreSettings, *, retries: int = 3, timeout: float | None = 5.0, client_class: type[R]
) -> R: ...


def connect(
    settings: CoreSettings,
    *,
    retries: int = 3,
    timeout: float | None = 5.0,
    client_class: type[Redis] = Redis,
) -> Redis:
    """A client for the configured Redis; ``timeout`` bounds each command (None for blocking pops).
    ``client_class`` lets the worker get arq's ``ArqRedis`` through the same path."""
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": 2.0,
        "health_check_interval": 15,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }
    if settings.redis_sentinels:
        return _via_sentinels(settings, client_class, options)
    client: Redis = client_class.from_url(settings.redis_dsn(), **options)
    return client


def _via_sentinels(settings: CoreSettings, client_class: type[Redis], options: dict[str, Any]) -> Redis:
    """A client of the master the sentinels name now (and after every fail-over)."""
    master = _master_options(settings)
    sentinel_auth: dict[str, Any] = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
    if settings.redis_sentinel_password is not None:
        sentinel_auth["password"] = settings.redis_sentinel_password.get_secret_value()
    if settings.redis_sentinel_username:
        sentinel_auth["username"] = settings.redis_sentinel_username
    sentinel = Sentinel(settings.sentinel_addresses(), sentinel_kwargs=sentinel_auth, **master)  # type: ignore[no-untyped-call]
    client: Redis = sentinel.master_for(settings.redis_sentinel_master, redis_class=client_class, **options)
    return client


def _master_options(settings: CoreSettings) -> dict[str, Any]:
    """Credentials, db and TLS options for the master, from JOBS_REDIS_URL (its host is ignored; the
    variables fill in a user or password it lacks) or from JOBS_REDIS_USERNAME / _PASSWORD / _DB."""
    if settings.redis_url is None:
        password = settings.redis_password.get_secret_value() if settings.redis_password else None
        out: dict[str, Any] = {"db": settings.redis_db, "password": password or None}
        if settings.redis_username:
            out["username"] = settings.redis_username
        return out
    parsed = dict(parse_url(settings.redis_url.get_secret_value()))
    for key in ("host", "port", "path"):
        parsed.pop(key, None)
    if "password" not in parsed and settings.redis_password is not None:
        parsed["password"] = settings.redis_password.get_secret_value()
    if "username" not in parsed and settings.redis_username:
        parsed["username"] = settings.redis_username
    if parsed.pop("connection_class", None) is SSLConnection:
        parsed["ssl"] = True  # the sentinel pool picks its own TLS connection class
    return parsed


@asynccontextmanager
async def unavailable_as_error() -> AsyncIterator[None]:
    """Re-raises connection failures as ``RedisUnavailable`` and OOM refusals as ``RedisFull``."""
    try:
        yield
    except CONNECTION_ERRORS as err:
        raise RedisUnavailable(f"Redis is unreachable: {type(err).__name__}") from err
    except OutOfMemoryError as err:
        raise RedisFull(FULL_MESSAGE) from err
