"""Helpers of the observability tests: scraping ``/metrics`` with the Prometheus client's own text parser,
calling probes, and waiting for a condition by asking the process again (never by sleeping blindly)."""

from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from support.waiting import wait_until

TIMEOUT = aiohttp.ClientTimeout(total=3)


class Scrape:
    """One parsed exposition: samples by sample name (``jobs_total``, ``jobs_wait_seconds_count`` …)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: dict[str, list[Sample]] = {}
        for family in self.families.values():
            for sample in family.samples:
                self.samples.setdefault(sample.name, []).append(sample)

    def value(self, name: str, **labels: str) -> float:
        """The one sample with this name and (at least) these labels."""
        found = [
            s for s in self.samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())
        ]
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples in\n{self.text}"
        return float(found[0].value)

    def total(self, name: str, **labels: str) -> float:
        """Sum over every sample with this name and these labels (0 when none)."""
        return sum(
            float(s.value)
            for s in self.samples.get(name, [])
            if all(s.labels.get(k) == v for k, v in labels.items())
        )


async def scrape(port: int, path: str = "/metrics") -> Scrape:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(f"http://127.0.0.1:{port}{path}") as r,
    ):
        assert r.status == 200, await r.text()
        assert r.headers["Content-Type"].startswith("text/plain"), r.headers["Content-Type"]
        return Scrape(await r.text())


async def probe(port: int, path: str) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of a probe; the short client timeout makes a hanging probe fail the test."""
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(f"http://127.0.0.1:{port}{path}") as r,
    ):
        return r.status, await r.json(content_type=None)


async def probe_is(port: int, path: str, status: int, timeout: float = 10.0) -> dict[str, Any]:
    """Waits until the probe answers ``status``; returns its body."""

    async def check() -> dict[str, Any] | None:
        got, body = await probe(port, path)
        return body if got == status else None

    return await wait_until(check, timeout, f"{path} on port {port} to answer {status}")  # type: ignore[no-any-return]
