"""End to end in a real headless Chromium (Debian's ``chromium``, driven by Playwright): log in, watch
jobs scheduled through the API appear and complete without a reload, watch a progress bar move, retry a
failed job from its page, pause and resume a queue. Screenshots go to tests/artifacts/ (git-ignored).

Skips only when Chromium or Playwright is not installed (``apt-get install chromium``,
``pip install playwright``; never ``playwright install``: the system browser is used).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from dashboard.dash_helpers import PASSWORD
from support.processes import Service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent.parent / "artifacts"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (Debian package `chromium`)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright is not installed (pip)")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


class System:
    def __init__(self, api: str, dashboard: str, http: aiohttp.ClientSession) -> None:
        self.api, self.dashboard, self.http = api, dashboard, http

    async def schedule(self, job_type: str, payload: dict[str, Any] | None = None, **options: Any) -> str:
        body = {"type": job_type, "payload": payload or {}, "options": {"queue": "default", **options}}
        async with self.http.post(self.api + "/schedule", json=body) as response:
            assert response.status in (200, 201), await response.text()
            return str((await response.json())["jobId"])

    async def status(self, job_id: str) -> str:
        async with self.http.get(f"{self.api}/jobs/{job_id}") as response:
            return str((await response.json())["status"])

    async def wait_status(self, job_id: str, status: str, timeout: float = 20) -> None:
        for _ in range(int(timeout / 0.1)):
            if await self.status(job_id) == status:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{job_id} never became {status} (is {await self.status(job_id)})")


@pytest.fixture
async def system(spawn: Callable[..., Service]) -> AsyncIterator[System]:
    api = spawn("jobs-api")
    spawn("jobs-worker")
    dashboard = spawn("jobs-dashboard", JOBS_DASHBOARD_AUTH_ENABLED="true", JOBS_DASHBOARD_PASSWORD=PASSWORD)
    api_url = f"http://127.0.0.1:{api.wait_for('service_ready')['port']}"
    dash_url = f"http://127.0.0.1:{dashboard.wait_for('service_ready')['port']}"
    async with aiohttp.ClientSession() as http:
        yield System(api_url, dash_url, http)


@pytest.fixture
async def page(system: System) -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = await browser.new_page(viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        tab.on("pageerror", lambda err: errors.append(str(err)))
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        await tab.goto(system.dashboard + "/")
        assert "/login" in tab.url
        await tab.fill("input[name=username]", "admin")
        await tab.fill("input[name=password]", PASSWORD)
        await tab.click("button[type=submit]")
        await tab.wait_for_selector(".live.on")  # the SSE connection is open
        yield tab
        await browser.close()
        assert errors == [], errors  # no script error, no CSP violation


async def mark(page: Any) -> None:
    """Marks the document: a reload or navigation would lose the mark."""
    await page.evaluate("window.__same_document = true")


async def assert_not_reloaded(page: Any) -> None:
    assert await page.evaluate("window.__same_document === true")


async def test_live_queue_progress_retry_pause_resume(page: Any, system: System) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # Jobs scheduled through the API appear in the completed tab and the counts move, without reload.
    await page.goto(system.dashboard + "/queues/default?state=completed")
    await page.wait_for_selector(".live.on")
    await mark(page)
    ids = [await system.schedule("echo", {"value": i}) for i in range(3)]
    for job_id in ids:
        await page.wait_for_selector(f'[data-job-row="{job_id}"]', timeout=15_000)
    await page.wait_for_selector('[data-count="default:completed"]:text-is("3")')
    await assert_not_reloaded(page)

    # A progress bar moves on the job page while the job runs, then the page shows it completed.
    slow = await system.schedule("sleep", {"ms": 4000, "steps": 8})
    await page.goto(f"{system.dashboard}/jobs/{slow}")
    await page.wait_for_selector(".live.on")
    await mark(page)
    bar = f'progress[data-progress="{slow}"]'
    seen = set()
    for _ in range(80):
        seen.add(await page.eval_on_selector(bar, "p => p.value"))
        if 0 < max(seen) < 100 and len(seen - {0}) >= 2:
            break
        await asyncio.sleep(0.1)
    assert len({v for v in seen if 0 < v < 100}) >= 2, seen  # it moved, step by step
    await page.wait_for_selector(f'.badge.completed[data-status="{slow}"]', timeout=15_000)
    assert await page.eval_on_selector(bar, "p => p.value") == 100
    await assert_not_reloaded(page)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-job.png"), full_page=True)

    # A failed job is retried from its page and then completes.
    flaky = await system.schedule("fail-once", {"key": f"e2e:{uuid.uuid4().hex}"}, retry={"attempts": 1})
    await system.wait_status(flaky, "failed")
    await page.goto(f"{system.dashboard}/jobs/{flaky}")
    assert "first run fails" in await page.inner_text("#job-live")
    await page.click("#retry")
    await page.wait_for_selector(".flash:has-text('Job retried')")
    await page.wait_for_selector(f'.badge.completed[data-status="{flaky}"]', timeout=15_000)
    assert "second run works" in await page.inner_text("#job-live")

    # Pause holds new jobs back; resume lets them run; the page follows live.
    await page.goto(system.dashboard + "/queues/default")
    await page.click("#pause")
    await page.wait_for_selector('.badge.paused[data-paused="default"]')
    held = await system.schedule("echo", {"value": "held"})
    await page.goto(system.dashboard + "/queues/default?state=waiting")
    await page.wait_for_selector(f'[data-job-row="{held}"]')
    await asyncio.sleep(1.0)
    assert await system.status(held) == "waiting"
    await page.screenshot(path=str(ARTIFACTS / "dashboard-queue.png"), full_page=True)
    await mark(page)
    async with aiohttp.ClientSession() as other:  # resumed elsewhere: this tab sees it by itself
        await other.post(f"{system.api}/queues/default/resume")
    await page.wait_for_selector('.badge.running[data-paused="default"]', timeout=10_000)
    await page.wait_for_selector(f'[data-job-row="{held}"]', state="detached", timeout=15_000)
    await assert_not_reloaded(page)
    await page.click("#pause")  # the button followed the resume made elsewhere
    await page.wait_for_selector(".flash:has-text('Queue paused')")
    await page.click("#resume")
    await page.wait_for_selector(".flash:has-text('Queue resumed')")

    # The audit log names what was done; the overview shows charts and counts.
    await page.goto(system.dashboard + "/audit")
    audit = await page.inner_text("table")
    assert "retry" in audit and "pause" in audit and "resume" in audit and "admin" in audit
    await page.goto(system.dashboard + "/")
    await page.wait_for_selector("#chart-hour rect")
    await page.wait_for_timeout(1600)  # one stats tick
    await page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)
