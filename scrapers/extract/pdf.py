"""PDF text layers (pdfplumber): page text for prose and headings, ruled tables as grids.

pdfplumber's tables are the reliable source for the statistics; the text layer is kept too because
it is the only source when a table has no ruling lines, and it carries the headings.
"""

from __future__ import annotations

import io
import logging
import re

from scrapers.document import Document, Table, unreadable
from scrapers.extract.text import clean_lines

log = logging.getLogger(__name__)
for _noisy in ("pdfminer", "pdfplumber"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)

MAX_PAGES = 60


def _info_text(v: str | bytes) -> str:
    """PDF info strings often arrive as UTF-16 with a BOM, mis-decoded as Latin-1."""
    raw = v if isinstance(v, bytes) else v.encode("latin-1", "ignore")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "ignore").strip("\x00")
    return raw.decode("utf-8", "ignore") if isinstance(v, bytes) else v


_HEADING = re.compile(r"^(第|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.、．]|信息内容)")


def _numeric(c: str | None) -> bool:
    return bool(c) and c.replace(",", "").replace(".", "").lstrip("-").isdigit()


def join_page_splits(tables: list[Table]) -> list[Table]:
    """A row broken by a page break: its label's tail opens the next page's table with no numbers.

    Glue that tail onto the previous page's last row (column by column) and drop it, so the label
    is whole again and no empty row is read as blanks.
    """
    out: list[Table] = []
    for t in tables:
        prev = out[-1] if out else None
        first = t.rows[0] if t.rows else ()
        if (
            prev is not None
            and prev.page is not None
            and t.page == prev.page + 1
            and prev.rows
            and len(first) >= 4
            and not any(_numeric(c) for c in first)
            and any(first)
            and not any(c and _HEADING.match(c) for c in first)
            and any(_numeric(c) for c in prev.rows[-1])
        ):
            last = list(prev.rows[-1])
            for i, c in enumerate(first[: len(last)]):
                if c and last[i] and not _numeric(last[i]):
                    last[i] = last[i] + c
            out[-1] = Table(rows=(*prev.rows[:-1], tuple(last)), rows_known=True, page=prev.page)
            t = Table(rows=t.rows[1:], rows_known=True, page=t.page)
            if not t.rows:
                continue
        out.append(t)
    return out


def read(data: bytes, source: str, content_type: str | None = None) -> Document:
    import pdfplumber  # heavy import: only when a PDF arrives

    lines: list[str] = []
    tables: list[Table] = []
    problems: list[str] = []
    images = 0
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = pdf.pages
            if len(pages) > MAX_PAGES:
                problems.append(f"PDF 共 {len(pages)} 页，只读取了前 {MAX_PAGES} 页")
            for no, page in enumerate(pages[:MAX_PAGES], start=1):
                images += len(page.images)
                lines.extend(clean_lines(page.extract_text() or ""))
                for grid in page.extract_tables():
                    rows = tuple(
                        tuple((c.replace("\n", "").strip() or None) if isinstance(c, str) else None for c in row)
                        for row in grid
                    )
                    if max((len(r) for r in rows), default=0) >= 2:
                        tables.append(Table(rows=rows, page=no))
            info = pdf.metadata or {}
            # only the dates: producers garble the other info strings too often to trust them
            meta = {k.lower(): _info_text(info[k]) for k in ("CreationDate", "ModDate") if k in info}
    except Exception as exc:  # pdfminer raises many kinds on damaged files
        cause: BaseException | None = exc
        while cause is not None:  # pdfminer wraps a MemoryError (the sandbox's budget) in its own exception
            if isinstance(cause, MemoryError):
                raise cause from None
            cause = cause.__cause__ or cause.__context__
        return unreadable(source, "pdf", f"PDF 文件损坏或无法解析（{type(exc).__name__}）/ damaged PDF")
    tables = join_page_splits(tables)
    chars = sum(len(x) for x in lines)
    if chars < 40:
        why = "PDF 没有文字层（可能是扫描件或图片），无法读取内容" if images else "PDF 中没有可读取的文字"
        return unreadable(source, "pdf", why + " / the PDF has no text layer (scan?)")
    return Document(
        source=source, kind="pdf", lines=tuple(lines), tables=tuple(tables), meta=meta, problems=tuple(problems)
    )
