"""HTTP messages without the network: what a request's target and headers look like on the wire, and what a
complete response is (ok, a challenge page, an empty script shell …). Pure functions, so the rules they hold are
tested without a server; scrapers/net.py, the only module with sockets, uses them.
"""

from __future__ import annotations

import email.utils
import re
import time
from urllib.parse import SplitResult, quote

STATUSES = (
    "ok",
    "not_modified",
    "challenge",
    "http_error",
    "empty_shell",
    "wrong_content_type",
    "too_large",
    "network_error",
    "blocked",
)
_CHALLENGE = re.compile(
    rb"\$_ts\s*=\s*window\[|wzwschallenge|__jsluid|<title>\s*\xe8\xae\xbf\xe9\x97\xae\xe5\xbc\x82"
    rb"\xe5\xb8\xb8\xe9\xa1\xb5\xe9\x9d\xa2"
)  # 访问异常页面 (360 block page)


def classify(resp_status: int, content_type: str | None, data: bytes, expect: str) -> str:
    """ok / challenge / http_error / empty_shell / wrong_content_type for a complete response."""
    head = data[:4096]
    if _CHALLENGE.search(head) or resp_status in (412, 521) or (resp_status == 202 and len(data) < 4096):
        return "challenge"
    if resp_status >= 400:
        return "http_error"
    ctype = (content_type or "").lower()
    is_html = b"<html" in head.lower() or "html" in ctype
    if expect == "document" and is_html and not data.lstrip().startswith(b"%PDF"):
        return "ok"  # article pages are HTML documents too; the extractor decides what they hold
    if expect == "binary" and is_html:
        return "wrong_content_type"  # a .pdf URL answering HTML is an error page
    if expect in ("page", "document") and is_html and b"<datastore" not in data and data.count(b"<a ") < 3:
        text = re.sub(rb"<script.*?</script>|<style.*?</style>|<[^>]+>|\s+|&nbsp;", b"", data, flags=re.S | re.I)
        if len(text) < 60 and data.lower().count(b"<script") >= 1:
            return "empty_shell"  # content comes from an API: not "nothing here"
    return "ok"


def retry_after(value: str | None, default: float) -> float:
    if not value:
        return default
    if value.strip().isdigit():
        return float(value.strip())
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    return max(0.0, parsed.timestamp() - time.time()) if parsed else default


_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_TO_QUOTE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]")  # beyond RFC 3986's path and query characters (or a %)


def request_target(parts: SplitResult) -> str:
    """The request target, percent-encoded as httpx.URL would: non-ASCII and spaces quoted, escapes kept.
    Report URLs come from list pages and carry Chinese file names and stray spaces."""
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    if not _TO_QUOTE.search(target):
        return target  # the usual case: nothing to quote
    return quote(_BARE_PERCENT.sub("%25", target), safe="/?%:@!$&'()*+,;=~")


def header_bytes(value: str) -> bytes:
    """Header values as they came (validators are read as latin-1); anything beyond it as UTF-8."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()


def host_header(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"
