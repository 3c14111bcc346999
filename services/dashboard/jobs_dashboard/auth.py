"""Who may use the dashboard: a login form, a signed session cookie, CSRF tokens and a failure throttle.

* Credentials are SPEC.md's ``JOBS_DASHBOARD_USERNAME`` / ``JOBS_DASHBOARD_PASSWORD``, compared in
  constant time (``hmac.compare_digest`` on both, never short-circuited).
* The session cookie is ``base64(json{user, nonce, exp}).hmac``; its key derives from the password, so
  every replica accepts it without shared state and changing the password logs everybody out.
  With auth off, visitors get an ``anonymous`` session anyway: the CSRF token needs one.
* The CSRF token of a session is an HMAC of its nonce; every POST must carry it (form field ``_csrf``
  or header ``X-CSRF-Token``). The login form has one too, tied to a pre-login cookie.
* Repeated failed logins from one client address are refused for a growing time (429 + Retry-After).
  The throttle is per process and keyed by the peer address, not X-Forwarded-For (which anyone can set).

How it fails: a bad or expired cookie counts as no session (login again); a missing or wrong CSRF token
is a 403 and nothing is done.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass

from jobs_dashboard.settings import DashboardSettings

SESSION_COOKIE = "jd_session"
PRE_COOKIE = "jd_pre"
SESSION_TTL_S = 12 * 3600
# Throttle: FREE_FAILURES wrong passwords per WINDOW_S are free; each one after that doubles the lock,
# up to MAX_LOCK_S. Enough for a person who mistypes, useless for guessing.
FREE_FAILURES = 5
WINDOW_S = 600.0
MAX_LOCK_S = 300.0


@dataclass(frozen=True)
class Session:
    user: str
    nonce: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Signs and checks session cookies and CSRF tokens; checks credentials."""

    def __init__(self, settings: DashboardSettings) -> None:
        self.enabled = settings.dashboard_auth_enabled
        self.username = settings.dashboard_username.encode()
        password = settings.dashboard_password.get_secret_value() if settings.dashboard_password else ""
        self.password = password.encode()
        if self.enabled:
            seed = b"jobs-dashboard-session\0" + self.username + b"\0" + self.password
            self.key = hashlib.sha256(seed + settings.key_prefix.encode()).digest()
        else:
            self.key = secrets.token_bytes(32)  # sessions only carry CSRF tokens then

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.key, payload.encode(), hashlib.sha256).digest())

    def issue(self, user: str) -> tuple[Session, str]:
        session = Session(user, secrets.token_urlsafe(16), int(time.time()) + SESSION_TTL_S)
        payload = _b64(json.dumps({"u": session.user, "n": session.nonce, "e": session.expires}).encode())
        return session, f"{payload}.{self._sign(payload)}"

    def read(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["u"]), str(data["n"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def csrf_token(self, nonce: str) -> str:
        return self._sign("csrf:" + nonce)

    def csrf_ok(self, nonce: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf_token(nonce).encode(), str(given).encode())

    def credentials_ok(self, username: str, password: str) -> bool:
        user_ok = hmac.compare_digest(username.encode(), self.username)
        password_ok = hmac.compare_digest(password.encode(), self.password)
        return user_ok & password_ok


class Throttle:
    """Failed logins per client address; ``wait(addr)`` is how long that address must wait (0 = go)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def wait(self, addr: str) -> float:
        return max(self._locked_until.get(addr, 0.0) - time.monotonic(), 0.0)

    def failed(self, addr: str) -> float:
        """Records a failure; returns the lock it earned (seconds, 0 while failures are free)."""
        now = time.monotonic()
        recent = self._failures.setdefault(addr, deque())
        recent.append(now)
        while recent and recent[0] < now - WINDOW_S:
            recent.popleft()
        over = len(recent) - FREE_FAILURES
        if over <= 0:
            return 0.0
        lock = min(2.0**over, MAX_LOCK_S)  # 2 s, 4 s, 8 s … for the 6th, 7th, 8th failure
        self._locked_until[addr] = now + lock
        if len(self._failures) > 10_000:  # bound memory under a spray from many addresses
            self._failures.pop(next(iter(self._failures)))
        return lock

    def succeeded(self, addr: str) -> None:
        self._failures.pop(addr, None)
        self._locked_until.pop(addr, None)
