"""The simulator's portals on one asyncio loop: the same routes, Hanweb dataproxy and per-host limit as
bot.fixture_portal.FixturePortal, without a thread and an http.server parse per request.

Why a second server: the portals of a benchmark are remote in real life, yet here they share the two cores
with nianbao. FixturePortal (threads, email-parser headers, a sleeping thread per delayed answer) took
≈ 0.55 ms of CPU a request — ≈ 6 % of the machine in the 20-portal run, taken from what the benchmark
measures. The tests keep FixturePortal: it does TLS, idle timeouts and records every request's headers.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from http import HTTPStatus
from urllib.parse import urlsplit

from bot.fixture_portal import Route, dataproxy_page, etag

_NOT_FOUND = Route(b"<html><body>404</body></html>", "text/html", status=404, etag=False)


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed from the bytes as they come, answered one at a time in order."""

    def __init__(self, portal: LeanPortal) -> None:
        self.portal = portal
        self.buf = b""
        self.requests: deque[tuple[str, str, dict[str, str], bytes]] = deque()
        self.busy = False  # an answer is being prepared (waiting out the latency)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.portal.admit(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.portal.leave(self)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            method, target = lines[0].split(" ", 2)[:2]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            size = int(headers.get("content-length") or 0)
            if len(self.buf) < end + 4 + size:
                return
            body, self.buf = self.buf[end + 4 : end + 4 + size], self.buf[end + 4 + size :]
            self.requests.append((method, target, headers, body))
            self._next()

    def _next(self) -> None:
        if self.busy or not self.requests or self.transport is None:
            return
        self.busy = True
        request = self.requests.popleft()
        if self.portal.latency:
            asyncio.get_running_loop().call_later(self.portal.latency, self._answer, request)
        else:
            self._answer(request)

    def _answer(self, request: tuple[str, str, dict[str, str], bytes]) -> None:
        self.busy = False
        if self.transport is None:
            return
        method, target, headers, body = request
        status, ctype, extra, payload = self.portal.respond(method, urlsplit(target).path, headers, body)
        head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Type: {ctype}",
                f"Content-Length: {len(payload)}", *(f"{k}: {v}" for k, v in extra.items())]  # fmt: skip
        out = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        self.transport.write(out if method == "HEAD" else out + payload)
        if headers.get("connection", "").lower() == "close":
            self.transport.close()
            return
        self._next()


class LeanPortal:
    """FixturePortal's interface as the simulator uses it: ``routes``, ``proxies``, ``latency``, ``hits``,
    ``bytes_sent``, ``url``, ``start()``/``stop()``. ``max_connections``: clients served at once; the others
    wait, connected, until one leaves (FixturePortal holds its slot for a kept-alive connection the same way)."""

    def __init__(self, max_connections: int | None = None, latency: float = 0.0) -> None:
        self.routes: dict[str, Route] = {}
        self.proxies: dict[str, list[str]] = {}
        self.latency = latency
        self.max_connections = max_connections
        self.hits: list[tuple[str, str, int]] = []
        self.bytes_sent = 0
        self._tags: dict[int, tuple[bytes, str]] = {}  # id(body) → (body, ETag): one hash per body, not per GET
        self._served: set[_Connection] = set()
        self._queued: deque[_Connection] = deque()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ connections
    def admit(self, conn: _Connection) -> None:
        if self.max_connections is None or len(self._served) < self.max_connections:
            self._served.add(conn)
        else:
            assert conn.transport is not None
            conn.transport.pause_reading()
            self._queued.append(conn)

    def leave(self, conn: _Connection) -> None:
        if conn in self._served:
            self._served.discard(conn)
            while self._queued:
                nxt = self._queued.popleft()
                if nxt.transport is not None:
                    self._served.add(nxt)
                    nxt.transport.resume_reading()
                    break
        elif conn in self._queued:
            self._queued.remove(conn)

    # ------------------------------------------------------------------ answers
    def _etag(self, body: bytes) -> str:
        """The same ETag as FixturePortal's, hashed once per body, not per GET."""
        known = self._tags.get(id(body))
        if known is None or known[0] is not body:
            known = self._tags[id(body)] = (body, etag(body))
        return known[1]

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, dict, bytes]:
        """(status, content type, extra headers, body) as FixturePortal answers."""
        if method == "POST":
            records = self.proxies.get(path)
            if records is None:
                return self._hit(method, path, 404, "text/plain", {}, b"")
            return self._hit(method, path, 200, "text/xml; charset=utf-8", {}, dataproxy_page(records, body))
        route = self.routes.get(path, _NOT_FOUND)
        if not route.etag:
            return self._hit(method, path, route.status, route.content_type, route.headers, route.body)
        tag = self._etag(route.body)
        if route.status == 200 and headers.get("if-none-match") == tag:
            return self._hit(method, path, 304, route.content_type, {"ETag": tag}, b"")
        return self._hit(method, path, route.status, route.content_type, {**route.headers, "ETag": tag}, route.body)

    def _hit(self, method: str, path: str, status: int, ctype: str, extra: dict, body: bytes) -> tuple:
        self.hits.append((method, path, status))
        self.bytes_sent += len(body)
        return status, ctype, extra, body

    # ------------------------------------------------------------------ life
    def start(self) -> LeanPortal:
        loop = _shared_loop()

        async def listen() -> asyncio.Server:
            return await loop.create_server(lambda: _Connection(self), "127.0.0.1", 0, backlog=128)

        self._server = asyncio.run_coroutine_threadsafe(listen(), loop).result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        self._server = None

        async def close() -> None:
            server.close()
            for conn in [*self._served, *self._queued]:
                if conn.transport is not None:
                    conn.transport.close()

        asyncio.run_coroutine_threadsafe(close(), _shared_loop()).result(timeout=10)


_LOOP: list[asyncio.AbstractEventLoop] = []
_LOCK = threading.Lock()


def _shared_loop() -> asyncio.AbstractEventLoop:
    """One loop in one thread for every portal of the process: twenty loops would be twenty threads taking
    turns at the GIL."""
    with _LOCK:
        if not _LOOP:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, daemon=True, name="lean-portals").start()
            _LOOP.append(loop)
        return _LOOP[0]
