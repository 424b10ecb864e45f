"""Plain text, including tables flattened into ``|`` cells.

Two flattenings occur in the wild: one row per line (``|a|b|c|``, antiword and markdown), and the
copy-paste kind where every cell ends with ``|`` on its own line and row boundaries are lost (the
seed report). The second becomes one long row (``rows_known=False``); the reader anchors on labels.
"""

from __future__ import annotations

import re

from scrapers.charset import decode
from scrapers.dates import labelled_page_date
from scrapers.document import Cell, Document, Table, unreadable

_PAGE_NUMBER = re.compile(r"^\s*[-—–]\s*\d+\s*[-—–]\s*$|^\s*第\s*\d+\s*页(\s*共\s*\d+\s*页)?\s*$")


def _cell(s: str) -> Cell:
    s = s.replace("\u3000", " ").replace("\xa0", " ").strip()
    return s or None


def clean_lines(text: str) -> list[str]:
    """Non-empty lines with page-number furniture (``- 3 -``) dropped."""
    out = []
    for raw in text.splitlines():
        line = raw.replace("\u3000", " ").replace("\xa0", " ").strip()
        if line and not _PAGE_NUMBER.match(line):
            out.append(line)
    return out


def _row_per_line(region: list[str]) -> bool:
    """True when most pipe lines carry several cells (one table row per line)."""
    multi = sum(1 for ln in region if sum(1 for c in ln.split("|") if c.strip()) >= 2)
    return multi * 2 >= len(region)


def _pipe_tables(raw_lines: list[str]) -> list[Table]:
    """Group consecutive lines of a pipe region into tables."""
    tables: list[Table] = []
    region: list[str] = []
    gap = 0

    def flush() -> None:
        if not region:
            return
        while region and "|" not in region[-1]:  # trailing prose is not part of the table
            region.pop()
        piped = [ln for ln in region if "|" in ln]
        if len(piped) < 2:
            region.clear()
            return
        if _row_per_line(piped):
            rows = []
            for ln in piped:
                parts = ln.strip().split("|")
                if parts and not parts[0].strip():
                    parts = parts[1:]
                if parts and not parts[-1].strip():
                    parts = parts[:-1]
                rows.append(tuple(_cell(p) for p in parts))
            tables.append(Table(rows=tuple(rows), rows_known=True))
        else:
            joined = "\n".join(region)
            cells: list[Cell] = []
            for chunk in joined.split("|"):
                parts = [p for p in (x.strip() for x in chunk.split("\n")) if p]
                if not parts:
                    cells.append(None)
                else:
                    cells.extend(_cell(p) for p in parts)
            # the first chunk before the first pipe is text, not an empty cell
            tables.append(Table(rows=(tuple(cells),), rows_known=False))
        region.clear()

    previous = ""
    for line in raw_lines:
        if "|" in line:
            if not region and previous.strip() and len(previous.strip()) <= 40:
                region.append(previous)  # the cell just before the first pipe (a block header)
            region.append(line)
            gap = 0
        elif region:
            gap += 1
            # a flattened table keeps its non-pipe text lines (cells); long prose ends it
            if gap > 6 or len(line) > 60:
                flush()
                gap = 0
            else:
                region.append(line)
        previous = line
    flush()
    return tables


def from_text(text: str, source: str, kind: str = "text", meta: dict[str, str] | None = None) -> Document:
    raw_lines = [ln.rstrip() for ln in text.splitlines()]
    tables = _pipe_tables(raw_lines)
    lines: list[str] = []
    for ln in clean_lines(text):
        if "|" in ln:
            lines.extend(p for p in (c.strip() for c in ln.split("|")) if p)
        else:
            lines.append(ln)
    meta = dict(meta or {})
    found = labelled_page_date("\n".join(lines[:40]))
    if found:
        meta.setdefault("page_date", found[0].isoformat())
        meta.setdefault("page_date_text", found[1])
    return Document(source=source, kind=kind, lines=tuple(lines), tables=tuple(tables), meta=meta)


def read(data: bytes, source: str, content_type: str | None = None) -> Document:
    text, _enc = decode(data, content_type)
    bad = text.count("\ufffd") + sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    if bad > max(8, len(text) // 20):
        return unreadable(
            source, "text", "不是可读取的文本文件（乱码或二进制数据）/ not readable text (binary or garbled)"
        )
    return from_text(text, source)
