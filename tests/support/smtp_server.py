"""A real SMTP server (aiosmtpd, in its own thread) that keeps what it receives: for the tests, and as
`make run`'s mail sink, where each message is also written as ``<folder>/<time>-<n>.eml``.

It offers AUTH (PLAIN, LOGIN; without TLS, on 127.0.0.1 only) and accepts ``USER``/``PASSWORD`` below, so
workers can be given an ``smtp://user:password@…`` URL as in production; mail without AUTH is accepted too.
``refuse(n, code)`` makes the next ``n`` messages be answered with that reply code at DATA (451: a
transient failure the sender must retry; 550: a permanent one), so tests can drive the worker's retries.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from support.redis_server import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


USER = "jobs-mailer"
PASSWORD = "smtp-Secr3t-pw"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        return self.server.accept(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))


class SmtpServer:
    def __init__(self, folder: Path | None = None, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.received: list[Received] = []
        self.refusals: list[int] = []  # reply codes for the next messages
        self.refused = 0
        self._lock = threading.Lock()
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            auth_require_tls=False,
            authenticator=_authenticate,
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"smtp://{USER}:{PASSWORD}@127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def refuse(self, times: int, code: int = 451) -> None:
        with self._lock:
            self.refusals += [code] * times

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.refusals.clear()
            self.refused = 0

    def accept(self, sender: str, recipients: list[str], data: bytes) -> str:
        with self._lock:
            if self.refusals:
                code = self.refusals.pop(0)
                self.refused += 1
                return f"{code} {'try again later' if code < 500 else 'mailbox unavailable'}"
            self.received.append(Received(sender, recipients, data))
            count = len(self.received)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%dT%H%M%S")
            (self.folder / f"{stamp}-{count:04d}-{uuid.uuid4().hex[:6]}.eml").write_bytes(data)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.recipients]
