"""A small HTTP client for the API process under test."""

from __future__ import annotations

from typing import Any

import aiohttp


class ApiClient:
    def __init__(self, port: int, token: str | None = None) -> None:
        self.base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.session = aiohttp.ClientSession(headers=headers)

    async def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        async with self.session.request(method, self.base + path, json=json, data=data, headers=headers) as r:
            body = await r.json(content_type=None)
            return r.status, body, dict(r.headers)

    async def schedule(self, job: dict[str, Any]) -> dict[str, Any]:
        status, body, _ = await self.call("POST", "/schedule", json=job)
        assert status in (200, 201), body
        return body  # type: ignore[no-any-return]

    async def job(self, job_id: str) -> dict[str, Any]:
        status, body, _ = await self.call("GET", f"/jobs/{job_id}")
        assert status == 200, body
        return body  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.session.close()
