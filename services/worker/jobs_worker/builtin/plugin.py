"""Client of nChat's notifications plugin (nself-org/plugins, free/notifications, TypeScript server):
``POST {JOBS_NOTIFICATIONS_URL}{JOBS_NOTIFICATIONS_PATH}`` with a snake_case body, answered by
``200 {success, notification_id, message}`` or ``4xx/5xx {success: false, error}``.

The job id goes along as ``Idempotency-Key`` so that a plugin (or a proxy) able to deduplicate can
recognise a retried send. How it fails: 400/404/422 (a request the plugin will never take: missing
recipient, unknown template) and 401/403 (the key is refused) raise ``UnrecoverableError`` with the
plugin's own message; 408, 429 and 5xx raise ``TargetUnavailable`` (retried), as do connection errors
and timeouts, which propagate from aiohttp.
"""

from __future__ import annotations

import json
from typing import Any

from jobs_worker.builtin.failures import TargetUnavailable
from jobs_worker.builtin.targets import Targets
from jobs_worker.job import UnrecoverableError

RETRYABLE_STATUS = {408, 425, 429}
ERROR_TEXT_LIMIT = 500


def request_body(
    user_id: str,
    channel: str,
    to: dict[str, str] | None,
    content: dict[str, str],
    *,
    category: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # "to" is always sent: the plugin reads to.email (and so on) before any check, so without it the
    # answer would be a 500 (retried) instead of its 400 "Recipient required".
    body: dict[str, Any] = {"user_id": user_id, "channel": channel, "to": to or {}, "content": content}
    if category:
        body["category"] = category
    if metadata:
        body["metadata"] = metadata
    return body


async def send(targets: Targets, job_id: str, body: dict[str, Any]) -> str:
    """POSTs one notification; returns the plugin's notification id."""
    url, headers = targets.notifications_endpoint()
    session = await targets.http()
    async with session.post(url, json=body, headers={**headers, "Idempotency-Key": job_id}) as response:
        text = await response.text()
        status = response.status
    answer = _json(text)
    if 200 <= status < 300:
        if answer.get("success") is False:
            raise UnrecoverableError(f"notifications plugin refused the notification: {_error(answer, text)}")
        notification_id = answer.get("notification_id") or answer.get("id")
        if not notification_id:
            raise UnrecoverableError(f"notifications plugin answered {status} without a notification_id")
        return str(notification_id)
    message = f"notifications plugin answered {status}: {_error(answer, text)}"
    if status >= 500 or status in RETRYABLE_STATUS:
        raise TargetUnavailable(message)
    if status in (401, 403):
        raise UnrecoverableError(f"{message} (check JOBS_NOTIFICATIONS_API_KEY)")
    raise UnrecoverableError(message)


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error(answer: dict[str, Any], text: str) -> str:
    error = answer.get("error") or answer.get("message") or text or "(empty body)"
    return str(error)[:ERROR_TEXT_LIMIT]
