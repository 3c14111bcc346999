"""Email through SMTP (``JOBS_SMTP_URL``) with aiosmtplib: message composition and sending.

``smtp://`` upgrades with STARTTLS when the server offers it, ``smtps://`` is TLS from the start;
credentials come from the URL. Every message gets a Message-ID derived from the job id, so a mail sent
twice by a retried job can be recognised as one by the receiving side. Failures propagate as aiosmtplib's
exceptions (4xx and connection trouble are retried, 5xx fail the job: see ``failures``).
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

SMTP_TIMEOUT_S = 30


def message_id(job_id: str, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "nchat.local"
    return f"<jobs.{hashlib.sha256(job_id.encode()).hexdigest()[:32]}@{domain}>"


def compose(sender: str, to: str, *, subject: str, text: str, html: str | None, job_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(job_id, sender)
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


class Mailer:
    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        self.sender = sender
        self.host = parts.hostname or "localhost"
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    async def send(self, message: EmailMessage) -> str:
        """Sends; returns the server's reply to DATA (e.g. ``250 OK``)."""
        import aiosmtplib

        _refused, reply = await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.tls,
            start_tls=None if not self.tls else False,  # None: STARTTLS when the server offers it
            timeout=SMTP_TIMEOUT_S,
        )
        return reply
