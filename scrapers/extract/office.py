"""Office Open XML: DOCX (python-docx, body order kept, merged cells expanded) and XLSX (openpyxl)."""

from __future__ import annotations

import io
import zipfile

from scrapers.document import Cell, Document, Table, unreadable

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # zip-bomb guard


def _zip_ok(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            total = sum(i.file_size for i in z.infolist())
            if total > MAX_UNCOMPRESSED:
                return "压缩内容过大（疑似压缩炸弹）/ uncompressed size too large"
            bad = z.testzip()
            if bad:
                return f"文件已损坏（{bad}）/ damaged archive member"
            for info in z.infolist():  # OOXML never declares a DTD: one that does is an entity-expansion attack
                if info.filename.endswith((".xml", ".rels")):
                    with z.open(info) as fh:
                        head = fh.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        return f"文件内含 DTD/实体声明（{info.filename}），拒绝解析 / XML declares a DTD or entities"
    except zipfile.BadZipFile:
        return "文件不完整或已损坏，无法打开 / truncated or damaged file"
    return None


def _cell_text(text: str) -> Cell:
    t = text.replace("\u3000", " ").replace("\xa0", " ").strip()
    return t or None


def _docx_grid(table: object) -> tuple[tuple[Cell, ...], ...]:
    """Span-expanded grid straight from the XML (python-docx's row.cells is quadratic on big tables)."""
    from docx.oxml.ns import qn

    t_tag, p_tag = qn("w:t"), qn("w:p")
    rows: list[list[Cell]] = []
    for tr in table._tbl.tr_lst:  # type: ignore[attr-defined]
        row: list[Cell] = []
        for tc in tr.tc_lst:
            span = tc.grid_span or 1
            if tc.vMerge == "continue" and rows:
                above = rows[-1]
                text = above[len(row)] if len(row) < len(above) else None
            else:
                text = _cell_text("".join("".join(t.text or "" for t in p.iter(t_tag)) for p in tc.iter(p_tag)))
            row.extend([text] * span)
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
    return tuple(tuple(r + [None] * (width - len(r))) for r in rows)


def read_docx(data: bytes, source: str, content_type: str | None = None) -> Document:
    import docx
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    problem = _zip_ok(data)
    if problem:
        return unreadable(source, "docx", problem)
    try:
        d = docx.Document(io.BytesIO(data))
    except Exception as exc:
        return unreadable(source, "docx", f"DOCX 无法解析（{type(exc).__name__}）/ could not parse DOCX")
    lines: list[str] = []
    tables: list[Table] = []
    for block in d.iter_inner_content():
        if isinstance(block, Paragraph):
            t = _cell_text(block.text)
            if t:
                lines.append(t)
        elif isinstance(block, DocxTable):
            rows = _docx_grid(block)
            tables.append(Table(rows=rows))
            lines.extend(" ".join(c for c in r if c) for r in rows if any(r))
    props = d.core_properties
    meta = {"docx_title": props.title or "", "docx_created": props.created.isoformat() if props.created else ""}
    return Document(
        source=source, kind="docx", lines=tuple(lines), tables=tuple(tables), meta={k: v for k, v in meta.items() if v}
    )


def rows_to_document(source: str, kind: str, sheets: list[list[list[Cell]]]) -> Document:
    """A worksheet holds prose rows (one cell) and table rows: runs of multi-cell rows become tables.

    Sheets pad every row to the widest one, so columns empty in a whole run are dropped: otherwise
    the padding would read as blank cells at the end of every row.
    """
    tables: list[Table] = []
    lines: list[str] = []
    for sheet in sheets:
        run: list[list[Cell]] = []
        for row in [*sheet, []]:
            if sum(1 for c in row if c) >= 2:
                run.append(row)
                continue
            if run:
                width = max(i + 1 for r in run for i, c in enumerate(r) if c)
                tables.append(Table(rows=tuple(tuple((r + [None] * width)[:width]) for r in run)))
                run = []
        lines.extend(" ".join(c for c in r if c) for r in sheet if any(r))
    return Document(source=source, kind=kind, lines=tuple(lines), tables=tuple(tables))


def _num_text(v: object) -> Cell:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return _cell_text(str(v))


def read_xlsx(data: bytes, source: str, content_type: str | None = None) -> Document:
    import openpyxl

    problem = _zip_ok(data)
    if problem:
        return unreadable(source, "xlsx", problem)
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheets = [[[_num_text(v) for v in row] for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets]
    return rows_to_document(source, "xlsx", sheets)
