"""Bytes → str the way browsers do it, because portals mislabel charsets all the time.

Order: BOM → HTTP header charset → <meta charset> in the first bytes → detection. Every GB-family
label is decoded as GB18030 (Python's gb2312/gbk codecs are strict and garble 镕, 喆, 堃 …).
"""

from __future__ import annotations

import codecs
import re

_GB_FAMILY = {"gb2312", "gbk", "x-gbk", "cp936", "gb18030", "gb_2312-80", "csgb2312", "euc-cn", "ms936"}
_META_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_RE = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)


def canonical(label: str | None) -> str | None:
    """Map a charset label to a Python codec name we trust, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_RE.search(content_type)
    return canonical(m.group(1)) if m else None


def sniff_meta(data: bytes) -> str | None:
    m = _META_RE.search(data[:4096])
    return canonical(m.group(1).decode("ascii", "ignore")) if m else None


def _is_utf8_text(data: bytes) -> bool:
    try:
        data[:200_000].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data[:200_000]) - 4:  # a cut in the middle of the last character is fine
            return False
    return any(b > 0x7F for b in data[:200_000])


def decode(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, codec used). Never raises: undecodable bytes become U+FFFD."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), "utf-16"
    candidates = [charset_from_content_type(content_type), sniff_meta(data)]
    if "gb18030" in candidates and _is_utf8_text(data):
        # valid multi-byte UTF-8 is almost never GBK by chance: a stale gb2312 label on a UTF-8 page
        return data.decode("utf-8"), "utf-8"
    for enc in candidates:
        if enc:
            text = data.decode(enc, "replace")
            # A wrong label shows as many replacement characters: then try the next source.
            if text.count("\ufffd") <= max(2, len(text) // 1000):
                return text, enc
    try:
        data.decode("utf-8")
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # the last resort, rarely reached: not loaded by every process

    best = from_bytes(data[:200_000]).best()
    detected = canonical(best.encoding) if best else None
    # Chinese portals: when detection is unsure, GB18030 is by far the likeliest legacy charset.
    options = [e for e in (detected, "gb18030") if e]
    scored = [(data.decode(e, "replace"), e) for e in options]
    text, enc = min(scored, key=lambda te: te[0].count("\ufffd"))
    return text, enc
