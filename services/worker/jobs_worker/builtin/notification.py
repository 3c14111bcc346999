"""send-notification, and the email delivery the digest shares with it.

With ``JOBS_NOTIFICATIONS_URL`` every channel goes to the notifications plugin; without it, channel
``email`` goes out through ``JOBS_SMTP_URL`` and the others fail at once (SMTP carries only email).
When ``to`` is absent the recipient is the user's address in ``nchat_users`` (found by id, or by
username for an id that is not a UUID), which needs ``JOBS_DATABASE_URL``; without a database the plugin
gets the request as it is and decides (the real plugin answers 400 for a missing recipient).
"""

from __future__ import annotations

from typing import Any

from jobs_core.builtin_payloads import SendNotification
from jobs_worker.builtin import plugin
from jobs_worker.builtin.mail import compose
from jobs_worker.builtin.nchat import User, find_user
from jobs_worker.builtin.targets import MissingTarget, Targets
from jobs_worker.job import Job

DEFAULT_SUBJECT = "Notification from nChat"


async def send_notification(job: Job, p: SendNotification, targets: Targets) -> dict[str, Any]:
    if targets.has_notifications:
        return await _via_plugin(job, p, targets)
    if p.channel != "email":
        raise MissingTarget(
            "JOBS_NOTIFICATIONS_URL",
            f"channel {p.channel!r} needs the notifications plugin (SMTP carries email only)",
        )
    mailer = targets.mailer("send-notification")
    address = p.to.email if p.to is not None and p.to.email else (await _user(targets, p.user_id)).email
    subject = p.content.subject or DEFAULT_SUBJECT
    message = compose(
        mailer.sender, address, subject=subject, text=p.content.body, html=p.content.html, job_id=job.id
    )
    await mailer.send(message)
    return {
        "success": True,
        "notificationId": message["Message-ID"],
        "via": "smtp",
        "channel": "email",
        "to": address,
    }


async def _via_plugin(job: Job, p: SendNotification, targets: Targets) -> dict[str, Any]:
    user_id = p.user_id
    to = p.to.model_dump(exclude_none=True) if p.to is not None else None
    if to is None and targets.settings.database_url is not None:
        user = await _user(targets, p.user_id)
        user_id = str(user.id)
        if p.channel == "email":
            to = {"email": user.email}
    content = p.content.model_dump(exclude_none=True)
    body = plugin.request_body(user_id, p.channel, to, content, category=p.category, metadata=p.metadata)
    notification_id = await plugin.send(targets, job.id, body)
    return {
        "success": True,
        "notificationId": notification_id,
        "via": "notifications-plugin",
        "channel": p.channel,
        "userId": user_id,
    }


async def _user(targets: Targets, ref: str) -> User:
    pool = await targets.database(f"finding the address of user {ref!r}")
    async with pool.acquire() as conn:
        return await find_user(conn, ref)


def check_email_route(targets: Targets, purpose: str) -> None:
    """Fails at once when neither the plugin nor SMTP is configured."""
    if not targets.has_notifications:
        targets.mailer(purpose)


async def deliver_email(
    targets: Targets, job_id: str, user: User, *, subject: str, text: str, html: str | None, category: str
) -> dict[str, Any]:
    """One email to a user, through the plugin when configured, else SMTP: ``{via, notificationId}``."""
    if targets.has_notifications:
        content = {"subject": subject, "body": text, **({"html": html} if html else {})}
        body = plugin.request_body(str(user.id), "email", {"email": user.email}, content, category=category)
        return {"via": "notifications-plugin", "notificationId": await plugin.send(targets, job_id, body)}
    mailer = targets.mailer(f"{category} email")
    message = compose(mailer.sender, user.email, subject=subject, text=text, html=html, job_id=job_id)
    await mailer.send(message)
    return {"via": "smtp", "notificationId": message["Message-ID"]}
