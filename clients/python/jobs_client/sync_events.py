"""The blocking event stream: ``JobsClient.events()`` returns an ``EventStream``.

``with client.events(queue="default") as stream`` returns once the api has fixed where the stream
starts (its answer's headers come only after that), so whatever happens after the ``with`` line reaches
the stream; plain iteration connects on the first ``next()``. With ``reconnect=True`` (the default) a
dropped connection, a 503 or an api restart is retried with back-off and ``Last-Event-ID``; 400, 401,
403 and 404 raise. With ``reconnect=False`` a connection error raises ``Unavailable`` and a clean end
of the stream ends the iteration.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx
from httpx_sse import EventSource, connect_sse

from jobs_client.config import ClientConfig
from jobs_client.errors import ApiError, error_from_response, unreachable
from jobs_client.models import Event
from jobs_client.sse import Subscription


class EventStream:
    def __init__(
        self, http: httpx.Client, config: ClientConfig, subscription: Subscription, reconnect: bool
    ) -> None:
        self._http = http
        self._config = config
        self._sub = subscription
        self._reconnect = reconnect
        self._stack: contextlib.ExitStack | None = None
        self._source: EventSource | None = None

    @property
    def last_event_id(self) -> str | None:
        """Id of the last event received: pass it as ``last_event_id`` to resume later."""
        return self._sub.last_event_id

    @property
    def response(self) -> httpx.Response | None:
        return self._source.response if self._source else None

    def __enter__(self) -> EventStream:
        self._connect()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack = self._source = None

    def _open(self) -> None:
        stack = contextlib.ExitStack()
        source = stack.enter_context(
            connect_sse(
                self._http,
                "GET",
                "/events",
                params=self._sub.params(),
                headers=self._sub.headers(),
                timeout=self._config.stream_timeout(),
            )
        )
        if source.response.status_code >= 400:
            source.response.read()
            stack.close()
            raise error_from_response(source.response)
        self._stack, self._source = stack, source

    def _connect(self) -> None:
        """Opens the stream; when reconnecting, retries until it opens or a final error."""
        while True:
            try:
                self._open()
                return
            except httpx.TransportError as err:
                failure: ApiError = unreachable(self._config.base_url, err)
            except ApiError as err:
                failure = err
            if not self._reconnect or self._sub.is_final(failure):
                raise failure
            time.sleep(self._sub.reconnect_delay(failure))

    def _read(self) -> Iterator[Event]:
        assert self._source is not None
        for sse in self._source.iter_sse():
            event = self._sub.accept(sse)
            if event is not None:
                yield event

    def __iter__(self) -> Iterator[Event]:
        try:
            while True:
                if self._source is None:
                    self._connect()
                failure: ApiError | None = None
                try:
                    yield from self._read()
                except httpx.TransportError as err:
                    failure = unreachable(self._config.base_url, err)
                self.close()
                if not self._reconnect:
                    if failure is not None:
                        raise failure
                    return
                time.sleep(self._sub.reconnect_delay(failure))
        finally:
            self.close()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def wake_at(response: httpx.Response | None, seconds: float | None) -> Iterator[None]:
    """Ends a blocked read of ``response`` after ``seconds``.

    httpx has no total timeout, and the api's keep-alive comments restart its read timeout, so a
    deadline needs this: ``shutdown()`` from a timer thread wakes the reading thread (``close()`` would
    not), whose read then fails as a dropped connection.
    """
    stream: Any = response.extensions.get("network_stream") if response is not None else None
    sock = stream.get_extra_info("socket") if stream is not None else None
    if seconds is None or sock is None:
        yield
        return
    timer = threading.Timer(seconds, _shutdown, (sock,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
