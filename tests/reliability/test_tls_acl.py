"""Issue 12 §3, TLS and ACL: a TLS-only redis-server (certificates made in the test) and a Redis ACL user
allowed nothing but this deployment's key patterns (``keys.acl_patterns``: ``P:*``, ``arq:in-progress:P:*``,
channels ``P:*``) and no dangerous command but INFO. api, worker and scheduler run with a ``rediss://``
URL carrying redis-py's ``ssl_ca_certs`` query parameter: jobs, dependencies, cancel, pause, cron and
``jobs-admin check`` all work, and the same user is refused any key outside the prefix.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError

from jobs_core.keys import acl_patterns
from observability.obs_helpers import scrape
from reliability.admin_cli import admin_check
from support.api import ApiClient
from support.tls_redis import TlsRedisServer
from support.waiting import wait_until

pytestmark = pytest.mark.timeout(90)
ADMIN = "admin-pw"


def acl_rule(prefix: str) -> str:
    patterns = acl_patterns(prefix)
    keys = " ".join(f"~{p}" for p in patterns["keys"])
    channels = " ".join(f"&{p}" for p in patterns["channels"])
    return f"jobs on >jobs-pw resetkeys {keys} resetchannels {channels} +@all -@dangerous +info"


async def test_services_over_tls_as_a_prefix_restricted_acl_user(
    tmp_path: Any, spawn: Any, prefix: str, base_env: dict[str, str]
) -> None:
    server = TlsRedisServer(tmp_path / "tls", ADMIN, [acl_rule(prefix)])
    server.start()
    url = server.user_url("jobs", "jobs-pw")
    admin = Redis.from_url(server.user_url("default", ADMIN), decode_responses=True)
    try:
        env = {"JOBS_REDIS_URL": url}
        api = ApiClient(int(spawn("jobs-api", **env).wait_for("service_ready")["port"]))
        services = [spawn("jobs-worker", **env), spawn("jobs-scheduler", **env)]
        parent = await api.schedule({"type": "echo", "options": {"jobId": "tls-parent"}})
        child = await api.schedule({"type": "echo", "options": {"dependsOn": [parent["jobId"]]}})
        doomed = await api.schedule({"type": "echo", "options": {"delay": 3_600_000}})
        assert (await api.call("DELETE", f"/jobs/{doomed['jobId']}"))[0] == 200
        assert (await api.call("POST", "/queues/low-priority/pause"))[0] == 200
        assert (await api.call("POST", "/queues/low-priority/resume"))[0] == 200
        tick = {"type": "noop", "schedule": "* * * * * *", "options": {"scheduleId": "tick"}}
        assert (await api.call("POST", "/schedule", json=tick))[0] == 201

        async def done() -> bool:
            states = [(await api.job(j))["status"] for j in (parent["jobId"], child["jobId"])]
            ticks = await admin.zrange(f"{prefix}:q:default:type:noop", 0, -1)
            return states == ["completed", "completed"] and any(t.startswith("cron:tick:") for t in ticks)

        await wait_until(done, 30, "jobs completed and a cron fire, all over TLS")
        assert (await scrape(int(api.base.rsplit(":", 1)[1]))).value("jobs_redis_up") == 1
        await api.close()
        code, report = admin_check({**os.environ, **base_env, **env})
        assert (code, report["found"]) == (0, 0), report

        user = Redis.from_url(url, decode_responses=True)
        try:
            assert await user.set(f"{prefix}:mine", "1")
            with pytest.raises(NoPermissionError):
                await user.set("someone-else:key", "1")
            with pytest.raises(NoPermissionError):
                await user.get("arq:in-progress:other:job")
        finally:
            await user.aclose()
        for service in services:
            assert service.proc.poll() is None
            assert not [line for line in service.raw if "NOPERM" in line], service.name
    finally:
        await admin.aclose()
        server.stop()
