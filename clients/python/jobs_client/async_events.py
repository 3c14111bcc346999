"""The asyncio event stream: ``AsyncJobsClient.events()`` returns an ``AsyncEventStream``, the
counterpart of ``sync_events.EventStream`` with the same rules (``async with`` returns once subscribed;
reconnects with back-off and ``Last-Event-ID`` unless ``reconnect=False``; 400/401/403/404 raise).
Cancelling the task that iterates closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType

import httpx
from httpx_sse import EventSource, aconnect_sse

from jobs_client.config import ClientConfig
from jobs_client.errors import ApiError, error_from_response, unreachable
from jobs_client.models import Event
from jobs_client.sse import Subscription


class AsyncEventStream:
    def __init__(
        self, http: httpx.AsyncClient, config: ClientConfig, subscription: Subscription, reconnect: bool
    ) -> None:
        self._http = http
        self._config = config
        self._sub = subscription
        self._reconnect = reconnect
        self._stack: contextlib.AsyncExitStack | None = None
        self._source: EventSource | None = None

    @property
    def last_event_id(self) -> str | None:
        """Id of the last event received: pass it as ``last_event_id`` to resume later."""
        return self._sub.last_event_id

    async def __aenter__(self) -> AsyncEventStream:
        await self._connect()
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self._stack = self._source = None

    async def _open(self) -> None:
        stack = contextlib.AsyncExitStack()
        source = await stack.enter_async_context(
            aconnect_sse(
                self._http,
                "GET",
                "/events",
                params=self._sub.params(),
                headers=self._sub.headers(),
                timeout=self._config.stream_timeout(),
            )
        )
        if source.response.status_code >= 400:
            await source.response.aread()
            await stack.aclose()
            raise error_from_response(source.response)
        self._stack, self._source = stack, source

    async def _connect(self) -> None:
        while True:
            try:
                await self._open()
                return
            except httpx.TransportError as err:
                failure: ApiError = unreachable(self._config.base_url, err)
            except ApiError as err:
                failure = err
            if not self._reconnect or self._sub.is_final(failure):
                raise failure
            await asyncio.sleep(self._sub.reconnect_delay(failure))

    async def _read(self) -> AsyncIterator[Event]:
        assert self._source is not None
        async for sse in self._source.aiter_sse():
            event = self._sub.accept(sse)
            if event is not None:
                yield event

    async def __aiter__(self) -> AsyncIterator[Event]:
        try:
            while True:
                if self._source is None:
                    await self._connect()
                failure: ApiError | None = None
                try:
                    async for event in self._read():
                        yield event
                except httpx.TransportError as err:
                    failure = unreachable(self._config.base_url, err)
                await self.aclose()
                if not self._reconnect:
                    if failure is not None:
                        raise failure
                    return
                await asyncio.sleep(self._sub.reconnect_delay(failure))
        finally:
            await self.aclose()
