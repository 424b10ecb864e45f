"""Bytes → Document. One module per input kind, chosen by sniffing the bytes, not trusting names.

Every reader returns a Document; failures become ``Document.unreadable`` with a reason, never an
exception, so one broken attachment cannot stop a scan or a ``nianbao check`` run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from scrapers.document import Document, unreadable
from scrapers.extract import html, legacy, office, pdf, sandbox, text

log = logging.getLogger(__name__)

Reader = Callable[[bytes, str, str | None], Document]

#: kind → reader. Adding an input kind: one module, one line here, one test.
READERS: dict[str, Reader] = {
    "html": html.read,
    "text": text.read,
    "pdf": pdf.read,
    "docx": office.read_docx,
    "xlsx": office.read_xlsx,
    "doc": legacy.read_doc,
    "xls": legacy.read_xls,
}

_UNSUPPORTED = {
    "wps": "WPS 文字格式（.wps）暂不支持自动读取，请另存为 DOCX 或 PDF / .wps files are not supported yet",
    "ofd": "OFD 版式文件暂不支持自动读取 / OFD files are not supported yet",
    "zip": "压缩包无法直接读取 / archives are not read",
    "image": "图片文件（扫描件）没有可读取的文字 / an image has no text layer",
}


def sniff(data: bytes, name: str = "", content_type: str | None = None) -> str:
    """Guess the input kind from magic bytes first, then the name, then the content type."""
    head = data[:2048]
    lname = name.lower().split("?")[0]
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        if b"word/" in data[:65536] or lname.endswith(".docx"):
            return "docx"
        if b"xl/" in data[:65536] or lname.endswith(".xlsx"):
            return "xlsx"
        if lname.endswith(".ofd") or b"OFD.xml" in data[:65536]:
            return "ofd"
        return "docx" if lname.endswith(".docx") else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if lname.endswith((".xls", ".et")):
            return "xls"
        if lname.endswith(".wps"):
            return "wps"
        return "xls" if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data[:200_000] else "doc"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "image"
    low = head.lower()
    if (content_type and "html" in content_type.lower()) or lname.endswith((".htm", ".html", ".shtml")):
        return "html"
    if any(tag in low for tag in (b"<html", b"<!doctype html", b"<body", b"<table", b"<div", b"<p>", b"<meta")):
        return "html"
    return "text"


def extract(data: bytes, name: str = "", content_type: str | None = None) -> Document:
    """Read any supported input into a Document (the reason is in ``unreadable`` when it fails)."""
    if not data or not data.strip():
        return unreadable(name, "empty", "文件为空，没有任何内容 / the file is empty")
    kind = sniff(data, name, content_type)
    if kind in _UNSUPPORTED:
        return unreadable(name, kind, _UNSUPPORTED[kind])
    if kind in sandbox.SANDBOXED and not sandbox.in_child():
        return sandbox.run(kind, data, name, content_type)  # binary parsers: a child with budgets
    try:
        return READERS[kind](data, name, content_type)
    except Exception as exc:  # a reader bug must not stop a scan: report it as unreadable
        log.exception("reader %s failed on %s", kind, name)
        return unreadable(name, kind, f"读取失败（{type(exc).__name__}: {exc}）/ could not be read")
