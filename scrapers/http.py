"""The ONLY module that talks to the network (httpx lives here and nowhere else).

Why one module: politeness, size caps, the SSRF guard and charset handling must hold for every
request, and httpx (unmaintained since 2024) can then be swapped for its fork in one place.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs full URLs, which can carry secrets
logging.getLogger("httpcore").setLevel(logging.WARNING)

USER_AGENT = "nianbao/0.1 (+government information-disclosure report monitor)"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


class BlockedAddress(ValueError):
    """The URL points at a scheme or address nianbao refuses to fetch (SSRF guard)."""


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: str  # ok | http_error | too_large | wrong_content_type | network_error | blocked | challenge
    http_status: int | None = None
    content_type: str | None = None
    data: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def check_url(url: str, allow_private: bool = False) -> None:
    """Refuse non-http(s) URLs and, unless allowed, private, loopback and link-local addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedAddress(f"只允许 http/https 网址 / only http(s) URLs are fetched: {url}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise BlockedAddress(f"无法解析域名 / cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if not ip.is_global or ip.is_multicast:
            raise BlockedAddress(f"拒绝访问内网或本机地址 / refusing private address {ip} for {parts.hostname}")


def fetch(
    url: str,
    *,
    timeout: float = 30.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
    max_redirects: int = 5,
) -> FetchResult:
    """One GET with a size cap, following redirects by hand so every hop passes the address check."""
    headers = {"User-Agent": USER_AGENT, "Accept-Language": "zh-CN,zh;q=0.9"}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
            current = url
            for _ in range(max_redirects + 1):
                check_url(current, allow_private)
                with client.stream("GET", current) as resp:
                    if resp.is_redirect and resp.headers.get("location"):
                        current = urljoin(current, resp.headers["location"])
                        continue
                    chunks, size = [], 0
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            return FetchResult(
                                current,
                                "too_large",
                                resp.status_code,
                                resp.headers.get("content-type"),
                                error=f"larger than {max_bytes} bytes",
                            )
                        chunks.append(chunk)
                    data = b"".join(chunks)
                    status = "ok" if resp.status_code < 400 else "http_error"
                    return FetchResult(
                        current, status, resp.status_code, resp.headers.get("content-type"), data, dict(resp.headers)
                    )
            return FetchResult(current, "http_error", None, error="too many redirects")
    except BlockedAddress as exc:
        return FetchResult(url, "blocked", error=str(exc))
    except httpx.HTTPError as exc:
        return FetchResult(url, "network_error", error=f"{type(exc).__name__}: {exc}")
