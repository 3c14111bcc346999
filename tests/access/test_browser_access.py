"""Browser access to the API: CORS for the configured origins, and job-scoped tokens that read one job.

Every refusal the issue lists is checked against a real ``jobs-api`` process: another job, an expired,
altered or foreign token, a write attempt, the master token in a URL, an unknown origin.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import jwt
import pytest

from support.api import ApiClient
from support.processes import Service

pytestmark = pytest.mark.timeout(60)
MASTER = "master-token-for-tests-at-least-32-bytes"
SECRET = "job-token-secret-for-tests-32-bytes-or-more"
APP = "http://app.example:3000"


@pytest.fixture
async def secured(spawn: Callable[..., Service]) -> AsyncIterator[ApiClient]:
    """An api wanting the master token, signing job tokens with SECRET, open to APP's origin."""
    service = spawn("jobs-api", JOBS_API_TOKEN=MASTER, JOBS_JOB_TOKEN_SECRET=SECRET, JOBS_CORS_ORIGINS=APP)
    client = ApiClient(int(service.wait_for("service_ready")["port"]), token=MASTER)
    yield client
    await client.close()


async def anonymous(client: ApiClient, method: str, path: str, **headers: str) -> tuple[int, Any, Any]:
    """A request without the master token (a browser holding at most a job token)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, client.base + path, headers=headers) as reply,
    ):
        body = await reply.json(content_type=None) if reply.content_type == "application/json" else None
        return reply.status, body, reply.headers


async def test_schedule_answers_carry_a_token_that_reads_that_job(secured: ApiClient) -> None:
    status, made, _ = await secured.call("POST", "/schedule", json={"type": "x", "options": {"jobId": "a"}})
    assert status == 201 and made["accessToken"] and made["accessTokenExpiresAt"].endswith("Z")
    token = made["accessToken"]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="nchat-jobs")
    assert claims["sub"] == "a" and claims["exp"] - claims["iat"] == 3600
    by_header = await anonymous(secured, "GET", "/jobs/a", Authorization=f"Bearer {token}")
    by_query = await anonymous(secured, "GET", f"/jobs/a?token={token}")
    assert by_header[0] == by_query[0] == 200 and by_header[1]["jobId"] == by_query[1]["jobId"] == "a"
    bulk = await secured.call("POST", "/schedule/bulk", json={"jobs": [{"type": "x"}, {"type": "y"}]})
    assert bulk[0] == 201 and all(job["accessToken"] for job in bulk[1]["jobs"])
    again = await secured.call("POST", "/schedule", json={"type": "x", "options": {"jobId": "a"}})
    assert again[0] == 200 and again[1]["accessToken"]  # an idempotent add hands out a token too


async def test_a_job_token_reads_nothing_else(secured: ApiClient) -> None:
    token = (await secured.schedule({"type": "x", "options": {"jobId": "mine"}}))["accessToken"]
    await secured.schedule({"type": "x", "options": {"jobId": "theirs"}})
    bearer = {"Authorization": f"Bearer {token}"}
    refused = [
        ("GET", "/jobs/theirs"),
        ("GET", "/jobs/mine/logs"),
        ("DELETE", "/jobs/mine"),
        ("POST", "/jobs/mine/retry"),
        ("POST", "/jobs/mine/token"),
        ("POST", "/schedule"),
        ("GET", "/jobs"),
        ("GET", "/queues"),
        ("POST", "/queues/default/pause"),
        ("GET", "/schedules"),
        ("GET", "/events"),
        ("GET", "/events?jobId=theirs"),
        ("GET", "/events?queue=default"),
    ]
    for method, path in refused:
        status, body, _ = await anonymous(secured, method, path, **bearer)
        assert status == 403 and body["error"]["code"] == "forbidden", (method, path, status)
        assert "theirs" not in body["error"]["message"]
    assert (await secured.job("mine"))["status"] == "waiting"  # the write attempts changed nothing
    assert (await secured.call("GET", "/queues/default"))[1]["isPaused"] is False


@pytest.mark.parametrize(
    "forge",
    [
        "altered-signature",
        "altered-claims",
        "expired",
        "other-secret",
        "other-audience",
        "master-in-url",
        "none",
    ],
)
async def test_bad_tokens_are_refused(secured: ApiClient, forge: str) -> None:
    token = (await secured.schedule({"type": "x", "options": {"jobId": "j"}}))["accessToken"]
    now = int(time.time())
    claims = {"sub": "j", "scope": "job:read", "aud": "nchat-jobs", "iat": now - 10, "exp": now + 60}
    forged = {
        "altered-signature": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "altered-claims": _swap_claims(token, {**claims, "sub": "j", "exp": now + 10**8}),
        "expired": jwt.encode({**claims, "exp": now - 1}, SECRET, algorithm="HS256"),
        "other-secret": jwt.encode(claims, "not-the-secret-but-as-long-as-one", algorithm="HS256"),
        "other-audience": jwt.encode({**claims, "aud": "elsewhere"}, SECRET, algorithm="HS256"),
        "master-in-url": MASTER,
        "none": jwt.encode(claims, None, algorithm="none"),
    }[forge]
    status, body, _ = await anonymous(secured, "GET", f"/jobs/j?token={forged}")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    if forge != "master-in-url":  # the master token is welcome in the header, never in a URL
        status, _, _ = await anonymous(secured, "GET", "/jobs/j", Authorization=f"Bearer {forged}")
        assert status == 401


def _swap_claims(token: str, claims: dict[str, Any]) -> str:
    """The token's header and signature around other claims: what tampering in transit looks like."""
    header, _, signature = token.split(".")
    body = jwt.encode(claims, "any-key-the-attacker-likes-32-bytes", algorithm="HS256").split(".")[1]
    return f"{header}.{body}.{signature}"


async def test_minting_a_token_for_an_existing_job(secured: ApiClient) -> None:
    await secured.schedule({"type": "x", "options": {"jobId": "old"}})
    status, body, _ = await secured.call("POST", "/jobs/old/token")
    assert status == 200 and body["jobId"] == "old" and body["accessTokenExpiresAt"]
    assert (await anonymous(secured, "GET", f"/jobs/old?token={body['accessToken']}"))[0] == 200
    assert (await secured.call("POST", "/jobs/ghost/token"))[0] == 404


async def test_a_job_token_follows_its_events(secured: ApiClient, spawn: Callable[..., Service]) -> None:
    spawn("jobs-worker")
    token = (await secured.schedule({"type": "sleep", "payload": {"ms": 300}, "options": {"jobId": "ev"}}))[
        "accessToken"
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{secured.base}/events?jobId=ev&token={token}", headers={"Origin": APP}) as stream,
    ):
        assert stream.status == 200 and stream.headers["Access-Control-Allow-Origin"] == APP
        seen = []
        async for line in stream.content:
            if line.startswith(b"data: "):
                seen.append(line)
                if b'"to":"completed"' in line:
                    break
    assert b'"jobId":"ev"' in seen[-1] and b'"result":{"slept":0.3}' in seen[-1]


async def test_default_key_is_derived_from_the_master_token(spawn: Callable[..., Service]) -> None:
    """Without JOBS_JOB_TOKEN_SECRET tokens work, and a token of one deployment fails on another."""
    one = spawn("jobs-api", JOBS_API_TOKEN=MASTER)
    two = spawn("jobs-api", JOBS_API_TOKEN="another-master")
    a = ApiClient(int(one.wait_for("service_ready")["port"]), token=MASTER)
    b = ApiClient(int(two.wait_for("service_ready")["port"]), token="another-master")
    try:
        token = (await a.schedule({"type": "x", "options": {"jobId": "shared-id"}}))["accessToken"]
        with pytest.raises(jwt.InvalidSignatureError):  # not signed with the master token itself
            jwt.decode(token, MASTER, algorithms=["HS256"], audience="nchat-jobs")
        assert (await anonymous(a, "GET", f"/jobs/shared-id?token={token}"))[0] == 200
        assert (await anonymous(b, "GET", f"/jobs/shared-id?token={token}"))[0] == 401
    finally:
        await a.close()
        await b.close()


async def test_an_open_api_hands_out_no_tokens(api: ApiClient) -> None:
    made = await api.schedule({"type": "x", "options": {"jobId": "open"}})
    assert "accessToken" not in made
    status, body, _ = await api.call("POST", "/jobs/open/token")
    assert status == 409 and "JOBS_API_TOKEN" in body["error"]["message"]


async def test_cors_preflight_needs_no_token_and_names_the_headers(secured: ApiClient) -> None:
    status, _, headers = await anonymous(
        secured,
        "OPTIONS",
        "/schedule",
        Origin=APP,
        **{
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert status == 200 and headers["Access-Control-Allow-Origin"] == APP
    assert "POST" in headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed and "Access-Control-Allow-Credentials" not in headers


async def test_cors_answers_allowed_origins_only(secured: ApiClient) -> None:
    token = (await secured.schedule({"type": "x", "options": {"jobId": "c"}}))["accessToken"]
    ok = await anonymous(secured, "GET", f"/jobs/c?token={token}", Origin=APP)
    assert ok[0] == 200 and ok[2]["Access-Control-Allow-Origin"] == APP and ok[2]["Vary"] == "Origin"
    assert "X-Request-ID" in ok[2]["Access-Control-Expose-Headers"]
    refused = await anonymous(secured, "GET", "/jobs/c", Origin=APP)  # no token: the error is readable
    assert refused[0] == 401 and refused[2]["Access-Control-Allow-Origin"] == APP
    evil = await anonymous(secured, "GET", f"/jobs/c?token={token}", Origin="http://evil.example")
    assert "Access-Control-Allow-Origin" not in evil[2]
    preflight = await anonymous(
        secured,
        "OPTIONS",
        "/jobs/c",
        Origin="http://evil.example",
        **{"Access-Control-Request-Method": "GET"},
    )
    assert preflight[0] == 403 and "Access-Control-Allow-Origin" not in preflight[2]


async def test_cors_is_off_without_origins(api: ApiClient) -> None:
    await api.schedule({"type": "x", "options": {"jobId": "plain"}})
    _, _, headers = await anonymous(api, "GET", "/jobs/plain", Origin=APP)
    assert "Access-Control-Allow-Origin" not in headers
    status, _, headers = await anonymous(
        api, "OPTIONS", "/schedule", Origin=APP, **{"Access-Control-Request-Method": "POST"}
    )
    assert status == 405 and "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("JOBS_CORS_ORIGINS", "*"),
        ("JOBS_CORS_ORIGINS", "https://ok.example,app.example/path"),
        ("JOBS_JOB_TOKEN_TTL", "0"),
        ("JOBS_JOB_TOKEN_TTL", "1.5"),
        ("JOBS_JOB_TOKEN_SECRET", "too-short"),
    ],
)
def test_bad_access_settings_stop_the_api(spawn: Callable[..., Service], variable: str, value: str) -> None:
    service = spawn("jobs-api", wait=False, **{variable: value})
    assert service.wait(15) == 2
    assert variable in "".join(service.raw) and "Traceback" not in "".join(service.raw)
