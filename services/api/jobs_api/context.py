"""Typed application keys: what ``create_app`` puts in the app and handlers read back."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from jobs_api.access import JobTokens
from jobs_api.settings import ApiSettings
from jobs_core.queues import QueueAdmin
from jobs_core.store import JobStore

SETTINGS = web.AppKey("settings", ApiSettings)
REDIS = web.AppKey("redis", Redis)
STORE = web.AppKey("store", JobStore)
QUEUES = web.AppKey("queues", QueueAdmin)
STARTED = web.AppKey("started", float)
# None when the API is open (no JOBS_API_TOKEN): then no job-scoped tokens are minted.
TOKENS: web.AppKey[JobTokens | None] = web.AppKey("job_tokens")
