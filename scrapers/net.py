"""The ONLY module that talks to the network: httpx (here and nowhere else) for portals and
webhooks, smtplib for mail.

Why one module: politeness, size caps, the SSRF guard, retries and charset handling must hold for
every request, and httpx (no release since 2024) can be swapped for its maintained fork in one place.
Every fetch is classified, so a challenge page or an empty shell is never mistaken for "nothing new".
Outgoing alerts get raw answers only (status and body, SMTP code): what they mean is the channel's
business (notifiers/), and retrying is the outbox's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import ipaddress
import logging
import os
import random
import smtplib
import socket
import ssl
import threading
import time
import urllib.request
import zlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import SplitResult, urlencode, urljoin, urlsplit

import certifi
import h11
import httpx

from scrapers.http_message import classify, header_bytes, host_header, request_target, retry_after

logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs full URLs, which can carry secrets
log = logging.getLogger(__name__)

USER_AGENT = "nianbao/0.1 (+government information-disclosure annual report monitor)"
_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
    "Accept-Language": "zh-CN,zh;q=0.9",
}
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


class BlockedAddress(ValueError):
    """The URL points at a scheme or address nianbao refuses to fetch (SSRF guard)."""


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL after redirects
    status: str  # one of STATUSES
    http_status: int | None = None
    content_type: str | None = None
    data: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def _origin(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))


def check_url(url: str, allow_private: bool = False, origin: tuple[str, int] | None = None) -> None:
    """Refuse non-http(s) URLs and every non-public address. ``allow_private`` admits loopback only
    (the bundled demo portal and tests on 127.0.0.1) — and on a redirect hop (``origin`` given) only the
    very host and port the fetch started from, so a portal cannot bounce us to another local service.
    Link-local (cloud metadata), RFC 1918, shared (100.64/10) and multicast addresses are refused always,
    on every hop, before any byte is sent."""
    parts = urlsplit(url)
    if origin is not None and allow_private and _origin(url) != origin:
        allow_private = False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedAddress(f"只允许 http/https 网址 / only http(s) URLs are fetched: {url[:200]}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise BlockedAddress(f"无法解析域名 / cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_loopback and allow_private:
            continue
        if not ip.is_global or ip.is_multicast:
            raise BlockedAddress(f"拒绝访问内网或本机地址 / refusing non-public address {ip} for {parts.hostname}")


@dataclass
class Politeness:
    concurrency: int = 1
    delay: float = 0.0  # seconds between requests to one host (plus up to 30% random jitter)
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 1.0
    max_retry_after: float = 120.0
    max_bytes: int = DEFAULT_MAX_BYTES
    allow_private: bool = False
    max_redirects: int = 5
    ca_bundle: str | None = None  # extra CA certificates (servers that omit intermediates); never verify=False
    budget: float | None = None  # whole-request deadline (default 4 × timeout): slowloris, endless bodies


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """The verifying TLS context, built once per CA bundle (and its mtime): loading the CA store costs
    ~50 ms, which a client per portal per cycle paid again and again. Verification is never turned off."""
    stamp = os.stat(ca_bundle).st_mtime_ns if ca_bundle else 0
    return _tls_context(ca_bundle, stamp)


@functools.lru_cache(maxsize=16)
def _tls_context(ca_bundle: str | None, _mtime: int) -> ssl.SSLContext:
    if not ca_bundle:  # certifi's roots, as httpx itself uses for verify=True (0.27 and 0.28 alike)
        return ssl.create_default_context(cafile=certifi.where())
    ctx = ssl.create_default_context()  # the system's roots plus the portal's extra certificates
    ctx.load_verify_locations(cafile=ca_bundle)
    return ctx


class PageCache:
    """List pages by URL with their validators, so the hourly cycle asks "changed?" (If-None-Match /
    If-Modified-Since) and an unchanged page costs the portal a 304 instead of the page. Process-wide
    (Fetchers are per cycle), bounded by bytes; only GETs of pages that came back "ok" are kept."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, FetchResult] = OrderedDict()
        self._size = 0

    def get(self, url: str) -> FetchResult | None:
        hit = self._items.get(url)
        if hit is not None:
            self._items.move_to_end(url)
        return hit

    def put(self, url: str, result: FetchResult) -> None:
        if not (result.etag or result.last_modified) or len(result.data) > self.max_bytes // 8:
            return
        old = self._items.pop(url, None)
        if old is not None:
            self._size -= len(old.data)
        self._items[url] = result
        self._size += len(result.data)
        while self._size > self.max_bytes and self._items:
            _, dropped = self._items.popitem(last=False)
            self._size -= len(dropped.data)


PAGES = PageCache()


# ---------------------------------------------------------------------------------------------- transport


_KEEP_IDLE = 20  # idle connections kept per origin (httpx's default keep-alive limit)
_IDLE_EXPIRY = 5.0  # seconds an idle connection is kept (httpx's default)
_READ = 65_536


class _Inflater:
    """Content-Encoding gzip / deflate undone, chunk by chunk, never more than ``room`` bytes at once: a 50 KB
    gzip bomb must not become 50 MB in memory before the size cap sees it. Other codings (we ask for none)
    pass through, as httpx leaves codings it has no decoder for."""

    def __init__(self, coding: str) -> None:
        codings = [c.strip().lower() for c in coding.split(",")]
        self._steps = [c for c in reversed(codings) if c in ("gzip", "x-gzip", "deflate")][:1]
        self._z: Any = None
        if self._steps:
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if self._steps[0] != "deflate" else zlib.MAX_WBITS)
        self._first = True

    def finish(self) -> bytes:
        return self._z.flush() if self._z is not None else b""

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to room + 1 bytes of output (one more than fits tells the caller it does not)."""
        if self._z is None:
            return data
        try:
            out = self._z.decompress(data, room + 1)
        except zlib.error as exc:
            if not (self._first and self._steps[0] == "deflate"):
                raise httpx.DecodingError(f"{self._steps[0]}: {exc}") from exc
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # "deflate" sent raw, as many servers do
            out = self._z.decompress(data, room + 1)
        self._first = False
        while len(out) <= room and self._z.unconsumed_tail:
            out += self._z.decompress(self._z.unconsumed_tail, room + 1 - len(out))
        return out


class _Conn:
    """One kept-alive HTTP/1.1 connection: asyncio streams and h11's state machine."""

    __slots__ = ("h11", "idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=100 * 1024)  # httpcore's head limit
        self.idle_since = 0.0

    def usable(self, now: float) -> bool:
        """Idle, fresh, and not closed by the server meanwhile (its FIN has been read into the stream)."""
        return (
            now - self.idle_since < _IDLE_EXPIRY
            and not self.reader.at_eof()
            and self.reader.exception() is None
            and not self.writer.is_closing()
        )

    async def shut(self) -> None:
        """Closed for real before returning: a TLS connection otherwise lingers in its close_notify exchange past
        the end of the event loop. A peer that does not answer the close gets one second, then the socket drops."""
        self.writer.close()
        try:
            async with asyncio.timeout(1.0):
                await self.writer.wait_closed()
        except Exception:  # timeout, reset, TLS error: the socket goes either way
            self.abort()

    def abort(self) -> None:
        self.writer.transport.abort()  # no close handshake to wait for: an unfinished or unwanted connection


class _Reply:
    """A response being read, whichever way it came (a direct connection, or httpx through a proxy)."""

    def __init__(
        self,
        status: int,
        raw: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self.status = status
        self.raw = raw
        self.headers: dict[str, str] = {}
        for name, value in raw:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text
        self._body = body
        self._close = close

    def raw_chunks(self) -> AsyncIterator[bytes]:
        """The body as sent (still content-encoded)."""
        return self._body

    async def aclose(self) -> None:
        with contextlib.suppress(RuntimeError):  # a generator a cancelled read left running: ends with the connection
            await self._body.aclose()  # type: ignore[attr-defined]
        await self._close()


class _Direct:
    """HTTP/1.1 on asyncio streams, framed by h11 (what httpcore does, without its pool's bookkeeping and
    httpx's request and response models: a report's fetch 1.3 → 0.75 ms of CPU, in the one process that fetches).
    Connections are kept alive per origin; the Fetcher's semaphores bound how many are open at once."""

    def __init__(self, tls: Callable[[], ssl.SSLContext]) -> None:
        self._tls = tls  # built on the first https connection: loading the CA store costs ~0.1 s of CPU
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}

    async def _connect(self, parts: SplitResult, timeout: float) -> _Conn:
        https = parts.scheme == "https"
        host = parts.hostname or ""
        try:
            async with asyncio.timeout(timeout):
                # happy eyeballs: a portal whose IPv6 address leads nowhere costs 0.25 s, not the timeout
                reader, writer = await asyncio.open_connection(
                    host,
                    parts.port or (443 if https else 80),
                    ssl=self._tls() if https else None,
                    server_hostname=host if https else None,
                    limit=1 << 20,
                    happy_eyeballs_delay=0.25,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection within {timeout}s") from exc
        except OSError as exc:  # ssl.SSLError included: CERTIFICATE_VERIFY_FAILED is said here
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}") from exc
        return _Conn(reader, writer)

    def _take(self, key: tuple[str, str, int]) -> _Conn | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.usable(now):
                return conn
            conn.abort()
        return None

    def _give_back(self, key: tuple[str, str, int], conn: _Conn) -> None:
        idle = self._idle.setdefault(key, [])
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE and len(idle) < _KEEP_IDLE:
            conn.h11.start_next_cycle()
            conn.idle_since = time.monotonic()
            idle.append(conn)
        else:
            conn.abort()

    async def request(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None, timeout: float
    ) -> _Reply:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port or 0)
        head = [("Host", host_header(parts)), *headers]
        if body is not None:
            head.append(("Content-Length", str(len(body))))
        try:
            message = h11.Request(
                method=method, target=request_target(parts), headers=[(k, header_bytes(v)) for k, v in head]
            )
        except (h11.LocalProtocolError, UnicodeError) as exc:  # a header or host no request can carry
            raise httpx.LocalProtocolError(f"{type(exc).__name__}: {exc}") from exc
        conn = self._take(key)
        if conn is not None:
            try:
                return await self._exchange(key, conn, message, body, timeout)
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
                pass  # closed by the server as we reused it: once more, on a connection of our own
        return await self._exchange(key, await self._connect(parts, timeout), message, body, timeout)

    async def _exchange(
        self, key: tuple[str, str, int], conn: _Conn, message: h11.Request, body: bytes | None, timeout: float
    ) -> _Reply:
        try:
            try:
                data = conn.h11.send(message) or b""
                if body:
                    data += conn.h11.send(h11.Data(data=body)) or b""
                data += conn.h11.send(h11.EndOfMessage()) or b""
            except h11.LocalProtocolError as exc:
                raise httpx.LocalProtocolError(str(exc)) from exc
            try:
                async with asyncio.timeout(timeout):
                    conn.writer.write(data)
                    await conn.writer.drain()
            except TimeoutError as exc:
                raise httpx.WriteTimeout(f"could not send within {timeout}s") from exc
            except (OSError, RuntimeError) as exc:  # RuntimeError: the transport was closed under us
                raise httpx.WriteError(f"{type(exc).__name__}: {exc}") from exc
            event = await self._next(conn, timeout)
            while isinstance(event, h11.InformationalResponse):  # 100 Continue and the like
                event = await self._next(conn, timeout)
            if not isinstance(event, h11.Response):  # (ConnectionClosed: h11 raises first, but never an assert)
                raise httpx.RemoteProtocolError(f"no response, got {type(event).__name__}")
        except BaseException:
            conn.abort()
            raise
        state = {"open": True}

        async def chunks() -> AsyncIterator[bytes]:
            while True:
                ev = await self._next(conn, timeout)
                if isinstance(ev, h11.Data):
                    yield bytes(ev.data)
                elif isinstance(ev, h11.EndOfMessage):
                    state["open"] = False
                    self._give_back(key, conn)
                    return
                else:  # nothing else can come before the end of a body; never loop on it
                    raise httpx.RemoteProtocolError(f"unexpected {type(ev).__name__} in a response body")

        async def close() -> None:
            if state["open"]:  # not read to its end: the connection cannot carry another request
                state["open"] = False
                conn.abort()

        return _Reply(event.status_code, list(event.headers), chunks(), close)

    async def _next(self, conn: _Conn, timeout: float) -> Any:
        """The next h11 event, reading as much as it needs."""
        while True:
            try:
                event = conn.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(timeout):
                    data = await conn.reader.read(_READ)
            except TimeoutError as exc:
                raise httpx.ReadTimeout(f"no data within {timeout}s") from exc
            except OSError as exc:
                raise httpx.ReadError(f"{type(exc).__name__}: {exc}") from exc
            conn.h11.receive_data(data)  # b"": the server closed (fine for a body that ends with the connection)

    async def aclose(self) -> None:
        conns = [c for idle in self._idle.values() for c in idle]
        self._idle.clear()
        await asyncio.gather(*(c.shut() for c in conns))


class Fetcher:
    """One connection pool; per-host concurrency and delay; retries with backoff; streamed size cap."""

    def __init__(
        self,
        default: Politeness | None = None,
        per_host: Mapping[str, Politeness] | None = None,
    ) -> None:
        self.default = default or Politeness()
        self.per_host = dict(per_host or {})
        self._direct = _Direct(self._tls)
        self._env = urllib.request.getproxies_environment()  # HTTP(S)_PROXY, ALL_PROXY, NO_PROXY: as httpx's client
        self._proxied: dict[str, httpx.AsyncBaseTransport] = {}
        self._cookies = httpx.Cookies()  # a portal's session cookie (JSESSIONID) lasts the Fetcher's life
        self._vetted: set[tuple[str, str, bool, tuple[str, int] | None]] = set()
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._last: dict[str, float] = {}
        self.requests = 0
        self.bytes = 0

    def _tls(self) -> ssl.SSLContext:
        return tls_context(self.default.ca_bundle)

    def policy(self, url: str) -> Politeness:
        return self.per_host.get(urlsplit(url).hostname or "", self.default)

    async def close(self) -> None:
        await self._direct.aclose()
        for transport in self._proxied.values():
            await transport.aclose()

    def _vet(self, url: str, allow_private: bool, origin: tuple[str, int] | None) -> None:
        """check_url once per scheme, host and port in the Fetcher's life (one portal's cycle): its getaddrinfo
        blocks the event loop, and a portal's hundreds of requests all go to the same host."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, allow_private, origin)
        if key not in self._vetted:
            check_url(url, allow_private, origin)  # raises BlockedAddress: not remembered, refused every time
            self._vetted.add(key)

    def _proxy(self, parts: SplitResult) -> httpx.AsyncBaseTransport | None:
        """The proxy the environment names for this scheme (unless NO_PROXY exempts the host), or None: direct.
        Proxied requests go to httpx's transport itself, not through an httpx client: the client's layers
        (cookies, auth, redirects, hooks) cost more CPU per request than the request, and the Fetcher does its
        own redirects."""
        proxy = self._env.get(parts.scheme) or self._env.get("all")
        if not proxy or urllib.request.proxy_bypass_environment(parts.hostname or "", self._env):
            return None
        if proxy not in self._proxied:
            try:
                self._proxied[proxy] = httpx.AsyncHTTPTransport(verify=self._tls(), proxy=proxy)
            except (ImportError, ValueError) as exc:  # socks5:// without socksio, a malformed proxy URL
                raise httpx.ProxyError(f"proxy {proxy!r} unusable: {exc}") from exc
        return self._proxied[proxy]

    async def _send(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None, timeout: float
    ) -> _Reply:
        parts = urlsplit(url)
        proxy = self._proxy(parts)
        if self._cookies:
            asked = httpx.Request(method, url)
            self._cookies.set_cookie_header(asked)
            if "cookie" in asked.headers:
                headers = [*headers, ("Cookie", asked.headers["cookie"])]
        if proxy is None:
            reply = await self._direct.request(method, url, headers, body, timeout)
        else:
            resp = await proxy.handle_async_request(
                httpx.Request(
                    method,
                    url,
                    headers=headers,
                    content=body,
                    extensions={"timeout": dict.fromkeys(("connect", "read", "write", "pool"), timeout)},
                )
            )
            reply = _Reply(resp.status_code, list(resp.headers.raw), resp.aiter_raw(), resp.aclose)
        if "set-cookie" in reply.headers:
            self._cookies.extract_cookies(
                httpx.Response(reply.status, headers=reply.raw, request=httpx.Request(method, url))
            )
        return reply

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _polite(self, host: str, pol: Politeness) -> None:
        wait = self._last.get(host, 0.0) + pol.delay * (1 + random.random() * 0.3) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last[host] = time.monotonic()

    async def fetch(
        self,
        url: str,
        *,
        expect: str = "page",
        etag: str | None = None,
        last_modified: str | None = None,
        method: str = "GET",
        form: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """Fetch with retries on transport errors, 5xx and 429 (Retry-After honoured). Never raises.
        A GET of a list page (``expect="page"``) is revalidated against PAGES: a 304 returns the cached page."""
        cached = PAGES.get(url) if expect == "page" and method == "GET" and not (etag or last_modified) else None
        if cached is not None:
            etag, last_modified = cached.etag, cached.last_modified
        pol = self.policy(url)
        host = urlsplit(url).hostname or ""
        sem = self._sems.setdefault(host, asyncio.Semaphore(max(1, pol.concurrency)))
        start = time.monotonic()
        result = FetchResult(url, "network_error", error="not attempted")
        for attempt in range(pol.retries + 1):
            async with sem:
                await self._polite(host, pol)
                try:
                    async with asyncio.timeout(pol.budget or pol.timeout * 4):  # a dribbling server ends too
                        result = await self._once(url, pol, expect, etag, last_modified, method, form)
                except TimeoutError:
                    budget = pol.budget or pol.timeout * 4
                    result = FetchResult(url, "network_error", error=f"time budget exceeded ({budget:g}s)")
            retry_status = result.http_status in (429, 500, 502, 503, 504)
            if result.status not in ("network_error",) and not retry_status:
                break
            if attempt == pol.retries:
                break
            pause = pol.backoff * (2**attempt)
            if result.http_status in (429, 503):
                pause = min(pol.max_retry_after, retry_after(result.headers.get("retry-after"), pause))
            log.info("retrying %s after %s (%.1fs)", host, result.status, pause)
            await asyncio.sleep(pause)
        if cached is not None and result.status == "not_modified":
            result = replace(cached, headers={**cached.headers, **result.headers})  # the page as last seen
        elif expect == "page" and method == "GET" and result.ok:
            PAGES.put(url, result)
        return replace(result, elapsed=time.monotonic() - start)

    async def _once(
        self,
        url: str,
        pol: Politeness,
        expect: str,
        etag: str | None,
        last_modified: str | None,
        method: str,
        form: Mapping[str, str] | None,
    ) -> FetchResult:
        headers = list(_HEADERS.items())
        if etag:
            headers.append(("If-None-Match", etag))
        if last_modified:
            headers.append(("If-Modified-Since", last_modified))
        body = urlencode(form).encode() if form else None
        current = url
        start = _origin(url)
        try:
            for hop in range(pol.max_redirects + 1):
                # every hop, so a redirect cannot reach the intranet (nor another local port)
                self._vet(current, pol.allow_private, start if hop else None)
                self.requests += 1
                sent = [*headers, ("Content-Type", "application/x-www-form-urlencoded")] if body else headers
                resp = await self._send(method, current, sent, body, pol.timeout)
                try:
                    hdrs = resp.headers
                    if resp.status in _REDIRECTS and hdrs.get("location"):
                        await _drain(resp)
                        current = urljoin(current, hdrs["location"])
                        method, body = "GET", None
                        continue
                    ctype = hdrs.get("content-type")
                    if resp.status == 304:
                        await _drain(resp)
                        return FetchResult(current, "not_modified", 304, ctype, b"", hdrs)

                    too_large = FetchResult(current, "too_large", resp.status, ctype, b"", hdrs)

                    declared = hdrs.get("content-length")
                    if declared and declared.isdigit() and int(declared) > pol.max_bytes:
                        return replace(
                            too_large, error=f"declared {declared} bytes > {pol.max_bytes}"
                        )  # refuse before reading
                    inflate = _Inflater(hdrs.get("content-encoding", ""))
                    chunks, size = [], 0
                    async for raw in resp.raw_chunks():
                        chunk = inflate.feed(raw, pol.max_bytes - size)
                        size += len(chunk)
                        if size > pol.max_bytes:
                            return replace(too_large, error=f"more than {pol.max_bytes} bytes")
                        chunks.append(chunk)
                    chunks.append(inflate.finish())
                    size += len(chunks[-1])
                    data = b"".join(chunks)
                    self.bytes += size
                    status = classify(resp.status, ctype, data, expect)
                    return FetchResult(current, status, resp.status, ctype, data, hdrs)
                finally:
                    await resp.aclose()
            return FetchResult(current, "http_error", None, error="too many redirects")
        except BlockedAddress as exc:
            return FetchResult(current, "blocked", error=str(exc))
        except httpx.HTTPError as exc:
            return FetchResult(current, "network_error", error=f"{type(exc).__name__}: {exc}"[:300])


_REDIRECTS = frozenset((301, 302, 303, 307, 308))


async def _drain(resp: _Reply, limit: int = 65_536) -> None:
    """Read a body nobody needs (a 304's none, a redirect's few bytes) to its end: a connection is reused only
    after the response was read through, and a new TCP connection for every revalidated list page cost more
    than the page. A body beyond ``limit`` is left unread: the connection closes."""
    size = 0
    async for chunk in resp.raw_chunks():
        size += len(chunk)
        if size > limit:
            return


# ---------------------------------------------------------------------------------------------- outgoing


@dataclass(frozen=True)
class Answer:
    """What the other side said: an HTTP status and body, or an SMTP code and text; ``error`` when the
    exchange did not complete (``timeout`` / ``connect`` / ``tls`` / ``protocol`` / ``blocked``)."""

    status: int | None
    body: bytes = b""
    error: str | None = None
    detail: str = ""


def _redact(text: str, secrets: Sequence[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


async def post_json(
    url: str,
    payload: object,
    *,
    timeout: float = 10.0,
    allow_private: bool = False,
    ca_bundle: str | None = None,
    secrets: Sequence[str] = (),
    max_bytes: int = 1 << 20,
) -> Answer:
    """One POST, no redirects, no retries (the outbox retries). Never raises; errors never carry the
    URL, which holds a webhook key."""
    try:
        check_url(url, allow_private)
    except BlockedAddress as exc:
        return Answer(None, error="blocked", detail=_redact(str(exc), secrets))
    try:
        async with (
            asyncio.timeout(timeout * 2),  # an overall deadline: a dribbling answer cannot hold the worker
            httpx.AsyncClient(verify=tls_context(ca_bundle), follow_redirects=False, timeout=timeout) as client,
            client.stream("POST", url, json=payload, headers={"User-Agent": USER_AGENT}) as resp,
        ):
            body = b""
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    break
            return Answer(resp.status_code, body[:max_bytes])
    except (httpx.TimeoutException, TimeoutError):
        return Answer(None, error="timeout", detail=f"no answer within {timeout:g}s")
    except httpx.HTTPError as exc:
        return Answer(None, error="connect", detail=_redact(f"{type(exc).__name__}: {exc}", secrets)[:300])


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    security: str = "starttls"  # tls (implicit, 465) | starttls (587) | plain (25, internal relays)
    username: str | None = None
    password: str | None = None
    timeout: float = 20.0
    ca_bundle: str | None = None


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib encodes credentials as ASCII; a Chinese password goes as UTF-8 AUTH PLAIN (RFC 4616)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    code, resp = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def send_mail(server: MailServer, sender: str, recipients: Sequence[str], message: bytes) -> Answer:
    """Deliver one message (blocking; run it in a thread). The answer is the server's reply to the
    message data (250 = accepted) or to the step that failed; refused recipients are listed."""
    context = ssl.create_default_context(cafile=server.ca_bundle) if server.security != "plain" else None
    secrets = [server.password or ""]
    try:
        if server.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        with smtp:
            if server.security == "starttls":
                smtp.starttls(context=context)
            if server.username:
                _login(smtp, server.username, server.password or "")
            refused = smtp.sendmail(sender, list(recipients), message)  # raises unless the data got 250
            detail = "250 accepted" + (f"; refused: {', '.join(sorted(refused))}" if refused else "")
            return Answer(250, detail=detail, error="refused" if refused else None)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({c for c, _ in exc.recipients.values()})
        return Answer(max(codes), detail=_redact(f"recipients refused: {exc.recipients}", secrets)[:300])
    except smtplib.SMTPResponseException as exc:
        msg = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return Answer(exc.smtp_code, detail=_redact(f"{exc.smtp_code} {msg}", secrets)[:300])
    except TimeoutError:
        return Answer(None, error="timeout", detail=f"no answer within {server.timeout:g}s")
    except ssl.SSLError as exc:
        return Answer(None, error="tls", detail=f"TLS: {exc}"[:300])
    except (smtplib.SMTPException, OSError) as exc:
        return Answer(None, error="connect", detail=_redact(f"{type(exc).__name__}: {exc}", secrets)[:300])


async def ping(url: str, timeout: float = 10.0) -> Answer:
    """A heartbeat (healthchecks.io style): one GET to an address the admin configured. Never raises."""
    if urlsplit(url).scheme not in ("http", "https"):
        return Answer(None, error="blocked", detail="only http(s) heartbeat URLs")
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            resp = await client.get(url, headers={"User-Agent": USER_AGENT})
            return Answer(resp.status_code, resp.content[:200])
    except httpx.HTTPError as exc:
        return Answer(None, error="connect", detail=type(exc).__name__)


# ---------------------------------------------------------------------------------------------- serving
Page = tuple[int, str, bytes]  # status, content type, body
PageRoute = Callable[[str], Page]


class PageServer:
    """Read-only HTTP on a local port (the scorecard and /healthz): GET and HEAD only, no directory
    listing, no query handling beyond what the route does, every answer marked no-sniff and uncached.

    Threads, not the service's event loop: a slow browser must not hold up a scan. The route is called
    per request and must be thread-safe (the scorecard's is: it reads files written atomically)."""

    def __init__(self, host: str, port: int, route: PageRoute, headers: Mapping[str, str] | None = None) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        extra = dict(headers or {})

        class Handler(BaseHTTPRequestHandler):
            server_version = "nianbao"
            sys_version = ""

            def _answer(self, with_body: bool) -> None:
                try:
                    status, ctype, body = route(urlsplit(self.path).path)
                except Exception:  # a bug in a route answers 500; the server stays up
                    log.exception("page route failed for %s", self.path[:200])
                    status, ctype, body = 500, "text/plain; charset=utf-8", "内部错误 / internal error\n".encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Referrer-Policy", "no-referrer")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

            def _refuse(self) -> None:
                body = "只读 / read-only: GET and HEAD only\n".encode()
                self.send_response(405)
                self.send_header("Allow", "GET, HEAD")
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

            def log_message(self, format: str, *args: object) -> None:
                log.debug("page server: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> PageServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="page-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
