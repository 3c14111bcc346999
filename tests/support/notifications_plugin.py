"""A stand-in for nChat's notifications plugin speaking its real contract (nself-org/plugins,
free/notifications/ts/src/server.ts): ``POST /api/notifications/send`` with a snake_case body.

- ``user_id`` or ``channel`` missing → 400 ``{success: false, error: "user_id and channel are required"}``;
- no recipient for the channel (``to.email`` / ``to.phone`` / ``to.push_token``) and no template → 400
  ``{success: false, error: "Recipient required (email, phone, or push_token)"}``; the real server reads
  ``to.email`` before checking, so a body without ``to`` at all gets a 500, as here;
- otherwise 200 ``{success: true, notification_id, message: "Notification queued for delivery"}``.

``fail(n, status)`` answers the next ``n`` requests with that status (500 by default). Every request is
recorded with its headers. The server runs in its own thread and event loop, for the whole session.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from support.redis_server import free_port

PATH = "/api/notifications/send"
RECIPIENT = {"email": "email", "sms": "phone", "push": "push_token"}


@dataclass
class Request:
    headers: dict[str, str]
    body: Any
    status: int


class NotificationsPlugin:
    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[Request] = []
        self.failures: list[int] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post(PATH, self._send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def fail(self, times: int, status: int = 500) -> None:
        with self._lock:
            self.failures += [status] * times

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.failures.clear()

    def for_user(self, user_id: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if isinstance(r.body, dict) and r.body.get("user_id") == user_id]

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        status, answer = self._answer(body)
        with self._lock:
            self.requests.append(Request(dict(request.headers), body, status))
        return web.json_response(answer, status=status)

    def _answer(self, body: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.failures:
                return self.failures.pop(0), {"success": False, "error": "Internal error (injected)"}
        if not isinstance(body, dict) or not body.get("user_id") or not body.get("channel"):
            return 400, {"success": False, "error": "user_id and channel are required"}
        to = body.get("to")
        if not isinstance(to, dict):
            message = "Cannot read properties of undefined (reading 'email')"  # Fastify's error handler
            return 500, {"statusCode": 500, "error": "Internal Server Error", "message": message}
        if not to.get(RECIPIENT.get(body["channel"], "")) and not body.get("template"):
            return 400, {"success": False, "error": "Recipient required (email, phone, or push_token)"}
        notification_id = f"notif-{uuid.uuid4().hex[:12]}"
        return 200, {
            "success": True,
            "notification_id": notification_id,
            "message": "Notification queued for delivery",
        }
