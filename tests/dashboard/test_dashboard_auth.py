"""Who gets in: login required, wrong password, throttling, CSRF on every POST, headers, auth off."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dashboard.dash_helpers import PASSWORD, csrf_of, dashboard_settings, log_in
from jobs_core.queues import QueueAdmin
from jobs_core.store import JobStore
from jobs_dashboard.app import create_app
from jobs_dashboard.auth import FREE_FAILURES, SESSION_COOKIE
from jobs_dashboard.middlewares import HEADERS
from support.redis_server import RedisServer

Client = TestClient[Any, Any]
PAGES = ["/", "/queues/default", "/queues/default/rows", "/jobs/x", "/jobs/x/live", "/schedules", "/audit"]


async def test_probes_are_open(anon: Client) -> None:
    assert (await anon.get("/livez")).status == 200
    response = await anon.get("/readyz")
    assert response.status == 200 and (await response.json())["status"] == "ready"


@pytest.mark.parametrize("path", PAGES)
async def test_pages_require_login(anon: Client, path: str) -> None:
    response = await anon.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")


async def test_events_and_actions_require_login(anon: Client) -> None:
    assert (await anon.get("/events")).status == 401
    response = await anon.post("/queues/default/pause", data={"_csrf": "x"})
    assert response.status == 401


async def test_wrong_password_is_refused(anon: Client) -> None:
    response = await log_in(anon, "wrong")
    assert response.status == 401
    assert "Wrong username or password" in await response.text()
    assert SESSION_COOKIE not in response.cookies
    assert (await anon.get("/", allow_redirects=False)).status == 303


async def test_right_password_logs_in_and_redirects_back(anon: Client) -> None:
    token = await csrf_of(anon, "/login?next=/audit")
    data = {"_csrf": token, "username": "admin", "password": PASSWORD, "next": "/audit"}
    response = await anon.post("/login", data=data, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/audit"
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert (await anon.get("/audit")).status == 200


async def test_login_never_redirects_off_site(anon: Client) -> None:
    token = await csrf_of(anon, "/login")
    data = {"_csrf": token, "username": "admin", "password": PASSWORD, "next": "//evil.example/"}
    response = await anon.post("/login", data=data, allow_redirects=False)
    assert response.headers["Location"] == "/"


async def test_login_without_csrf_token_is_refused(anon: Client) -> None:
    await anon.get("/login")
    data = {"username": "admin", "password": PASSWORD}
    response = await anon.post("/login", data=data, allow_redirects=False)
    assert response.status == 403
    assert SESSION_COOKIE not in response.cookies


async def test_repeated_failures_are_throttled(anon: Client) -> None:
    for _ in range(FREE_FAILURES):
        assert (await log_in(anon, "nope")).status == 401
    assert (await log_in(anon, "nope")).status == 401  # this one earns the lock
    locked = await log_in(anon)  # even the right password waits now
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) >= 1
    assert SESSION_COOKIE not in locked.cookies


async def test_forged_session_cookie_is_ignored(anon: Client) -> None:
    anon.session.cookie_jar.update_cookies({SESSION_COOKIE: "eyJ1IjoiYWRtaW4ifQ.forged"})
    assert (await anon.get("/", allow_redirects=False)).status == 303


async def test_logout_ends_the_session(client: Client) -> None:
    token = await csrf_of(client, "/")
    response = await client.post("/logout", data={"_csrf": token}, allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/", allow_redirects=False)).status == 303


@pytest.mark.parametrize(
    "path",
    ["/queues/default/pause", "/queues/default/drain", "/jobs/x/retry", "/schedules/s/delete", "/logout"],
)
async def test_post_without_csrf_token_is_refused(client: Client, store: JobStore, path: str) -> None:
    response = await client.post(path, data={"confirm": "yes"}, allow_redirects=False)
    assert response.status == 403
    response = await client.post(path, data={"_csrf": "forged", "confirm": "yes"}, allow_redirects=False)
    assert response.status == 403
    stats = await QueueAdmin(store).stats(["default"])
    assert not stats[0]["isPaused"]


async def test_csrf_token_of_another_session_is_refused(
    client: Client, settings: Any, store: JobStore
) -> None:
    async with TestClient(TestServer(create_app(settings))) as other:
        await log_in(other)
        foreign = await csrf_of(other, "/")
    response = await client.post("/queues/default/pause", data={"_csrf": foreign}, allow_redirects=False)
    assert response.status == 403


async def test_csrf_header_is_accepted(client: Client, store: JobStore) -> None:
    token = await csrf_of(client, "/")
    response = await client.post(
        "/queues/default/pause", headers={"X-CSRF-Token": token}, allow_redirects=False
    )
    assert response.status == 303
    assert (await QueueAdmin(store).stats(["default"]))[0]["isPaused"]


@pytest.mark.parametrize("path", ["/", "/login", "/static/style.css", "/queues/nope", "/livez"])
async def test_security_headers_everywhere(client: Client, path: str) -> None:
    response = await client.get(path)
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp


async def test_static_assets_are_served_locally(client: Client) -> None:
    page = await (await client.get("/")).text()
    assert "http://" not in page and "https://" not in page  # no CDN, works offline
    for asset in ("/static/app.js", "/static/style.css", "/static/favicon.svg"):
        assert (await client.get(asset)).status == 200


async def test_auth_off_lets_anyone_in_but_still_wants_csrf(redis_server: RedisServer, prefix: str) -> None:
    settings = dashboard_settings(
        redis_server.url, prefix, dashboard_auth_enabled=False, dashboard_password=None
    )
    async with TestClient(TestServer(create_app(settings))) as anon:
        page = await anon.get("/")
        assert page.status == 200 and "Log out" not in await page.text()
        assert (await anon.post("/queues/default/pause", data={}, allow_redirects=False)).status == 403
        token = await csrf_of(anon, "/")
        response = await anon.post("/queues/default/pause", data={"_csrf": token}, allow_redirects=False)
        assert response.status == 303
        log = await (await anon.get("/audit")).text()
        assert "anonymous" in log
