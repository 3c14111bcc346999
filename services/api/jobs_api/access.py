"""Who may call what: the master bearer token (``JOBS_API_TOKEN``) and job-scoped access tokens.

A job-scoped token is a JWT (HS256) naming one job, with an expiry (``JOBS_JOB_TOKEN_TTL``). It is what
a browser gets: it reads that one job (``GET /jobs/:id``) and follows its events (``GET /events?jobId=``),
through ``Authorization: Bearer`` or ``?token=`` (EventSource cannot set headers), and nothing else. The
master token is accepted only in the header, never in a URL, where logs and browser history keep it.

How it fails: no or a wrong credential → 401; a valid job token used for anything but reading its own
job → 403. Both answers name no job and no reason beyond that, so a token reveals nothing about others.
CORS preflights (``OPTIONS`` with ``Access-Control-Request-Method``) carry no credentials by design and
pass through to the CORS handler.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import jwt
from aiohttp import web
from aiohttp.typedefs import Middleware

from jobs_api.errors import Handler
from jobs_api.settings import ApiSettings
from jobs_core.errors import Forbidden, Unauthorized

OPEN_PATHS = frozenset({"/health", "/livez", "/readyz", "/metrics", "/openapi.json"})
AUDIENCE = "nchat-jobs"
SCOPE = "job:read"
# Domain separation: the derived key signs job tokens only, so no token can ever equal a hash of the
# master token that something else might use.
DERIVATION_LABEL = b"nchat-jobs job-scoped token key v1"


@dataclass(frozen=True)
class JobToken:
    token: str
    expires_at: int  # epoch seconds


class JobTokens:
    """Mints and verifies job-scoped tokens."""

    def __init__(self, key: bytes, ttl_s: int) -> None:
        self._key = key
        self.ttl_s = ttl_s

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> JobTokens | None:
        """None when the API is open (no JOBS_API_TOKEN): tokens would guard nothing."""
        master = settings.master_token
        if master is None:
            return None
        if settings.job_token_secret is not None and settings.job_token_secret.get_secret_value():
            key = settings.job_token_secret.get_secret_value().encode()
        else:
            key = hmac.new(master.encode(), DERIVATION_LABEL, hashlib.sha256).digest()
        return cls(key, settings.job_token_ttl)

    def mint(self, job_id: str) -> JobToken:
        now = int(time.time())
        claims = {"sub": job_id, "scope": SCOPE, "aud": AUDIENCE, "iat": now, "exp": now + self.ttl_s}
        return JobToken(jwt.encode(claims, self._key, algorithm="HS256"), now + self.ttl_s)

    def job_of(self, token: str) -> str | None:
        """The job a valid, unexpired token grants; None for anything else (altered, expired, foreign)."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.PyJWTError:
            return None
        if claims.get("scope") != SCOPE or not isinstance(claims.get("sub"), str):
            return None
        return str(claims["sub"])


def _is_preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _reads_own_job(request: web.Request, job_id: str) -> bool:
    """The two reads a job token allows: the job itself and its event stream."""
    if request.method not in ("GET", "HEAD"):
        return False
    if request.path == "/events":
        return request.query.get("jobId") == job_id
    route_job = request.match_info.get("job_id")
    return route_job == job_id and request.path == f"/jobs/{job_id}"


def auth_middleware(master: str, tokens: JobTokens) -> Middleware:
    expected = f"Bearer {master}".encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS or _is_preflight(request):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        if hmac.compare_digest(header.encode(), expected):
            return await handler(request)
        given = header[7:].strip() if header.startswith("Bearer ") else request.query.get("token", "")
        job_id = tokens.job_of(given) if given else None
        if job_id is None:
            raise Unauthorized("missing, wrong or expired token (Authorization: Bearer …)")
        if not _reads_own_job(request, job_id):
            raise Forbidden("this token only reads its own job: GET /jobs/{id} and GET /events?jobId={id}")
        return await handler(request)

    return check
