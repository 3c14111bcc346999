"""Typed application keys of the dashboard: what ``create_app`` puts into the app and handlers read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from redis.asyncio import Redis

from jobs_core.admin import Admin
from jobs_core.insights import Insights
from jobs_core.queues import QueueAdmin
from jobs_core.schedules import ScheduleStore
from jobs_core.store import JobStore
from jobs_dashboard.settings import DashboardSettings

if TYPE_CHECKING:
    from jobs_dashboard.auth import Sessions, Throttle
    from jobs_dashboard.hub import EventHub

SETTINGS = web.AppKey("settings", DashboardSettings)
REDIS = web.AppKey("redis", Redis)
STORE = web.AppKey("store", JobStore)
QUEUES = web.AppKey("queues", QueueAdmin)
ADMIN = web.AppKey("admin", Admin)
INSIGHTS = web.AppKey("insights", Insights)
SCHEDULES = web.AppKey("schedules", ScheduleStore)
SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions")
THROTTLE: web.AppKey[Throttle] = web.AppKey("throttle")
HUB: web.AppKey[EventHub] = web.AppKey("hub")
