"""Document → Report: detect the format, find sections, read the three tables, infer metadata."""

from __future__ import annotations

from datetime import date
from itertools import chain

from rules import normalize
from rules.formats import Format, TableSpec, format_for_year, start_years
from rules.normalize import norm, to_simplified
from rules.read import align, sections, tables
from rules.read.meta import infer_body, infer_body_type, infer_title, infer_year, publication
from rules.read.rows import Sources
from rules.read.sections import find_sections
from rules.read.tables import TableRead, read_table
from rules.report import Note, Published, Report
from scrapers.document import Document


def forget_seen_reports() -> None:
    """Drop what reading earlier reports left behind (label sequences aligned, section lines scored, row
    texts scored, header layouts checked, the last long texts normalised), so the next report is read as if
    it were the first of its kind — the benchmark's "cold" figure. Label *pairs* stay cached, as in any
    running service."""
    align._MEMO.clear()
    sections._line.cache_clear()
    sections._LINE_SCORES.clear()
    tables._ROW_SCORES.clear()
    tables._HEADER_NOTES.clear()
    tables._STARTS.clear()
    normalize._norm_long.cache_clear()


def detect_format(
    text_norm: str, formats: dict[str, Format], prefer: str | None = None
) -> tuple[str, dict[str, list[str]]]:
    """The format whose tokens the text shows most; among formats that share tokens (a new version
    grown from an old one) a tie goes to ``prefer`` (the year's format). Mixed = the text also holds at
    least two tokens that only another format has; none → unknown."""
    hits = {fid: [t for t in f.tokens if norm(t) in text_norm] for fid, f in formats.items()}
    most = max((len(h) for h in hits.values()), default=0)
    if most == 0:
        return "unknown", hits
    tied = [fid for fid, h in hits.items() if len(h) == most]
    top = prefer if prefer in tied else tied[0]
    own = set(formats[top].tokens)
    for fid, h in hits.items():
        if fid != top and len([t for t in h if t not in own]) >= 2:
            return "mixed", hits
    return top, hits


def _year_format(year: int | None, formats: dict[str, Format], starts: dict[str, int]) -> Format:
    """The year's required format; for years before every format, the oldest one (the nearest)."""
    fid = format_for_year(year, starts) or min(starts, key=lambda k: starts[k], default=next(iter(formats)))
    return formats[fid]


def _missing_rows(spec: TableSpec, present: set[str], fmt: str) -> list[Note]:
    """Rows not read; an older format's stand-in row covers the rows it replaces (and is a format mix)."""
    if spec.layout == "single_row":
        return []
    rows = spec.all_rows
    notes = []
    covered: set[str] = set()
    for r in rows:
        if r.legacy and r.key in present and not present & set(r.replaces):
            covered |= set(r.replaces)
            notes.append(
                Note(
                    "format.mixed",
                    f"{spec.key}/{r.key}",
                    f"{spec.name}“{r.display}”仍按{r.legacy}格式填写为一行，{fmt}格式应分为{len(r.replaces)}项",
                    {"legacy": r.legacy},
                )
            )
    for r in rows:
        if r.key not in present and not r.legacy and r.key not in covered:
            notes.append(Note("table.row_missing", f"{spec.key}/{r.key}", f"{spec.name}缺少“{r.display}”行"))
    return notes


def read(
    doc: Document,
    formats: dict[str, Format],
    *,
    year: int | None = None,
    body_type: str | None = None,
    published: date | None = None,
    format_years: dict[str, int] | None = None,
) -> Report:
    """``format_years``: rules.toml's [formats] (which format each report year must use)."""
    starts = format_years or start_years(formats)
    if doc.unreadable:
        return Report(
            source=doc.source,
            kind=doc.kind,
            title=None,
            body=None,
            body_type=body_type,
            year=year,
            format="unknown",
            format_used={},
            format_tokens={},
            published=publication(doc, published),
            sections=(),
            section_text={},
            tables={},
            unreadable=doc.unreadable,
        )
    text = doc.text
    title = infer_title(doc)
    body = infer_body(title, doc)
    year = year or infer_year(title, text)
    body_type = body_type or infer_body_type(body)
    # the text as the prose check will normalise it again (a cache hit for a Simplified report: ~0.2 ms), then
    # the table cells (a PDF's tables may hold words its text layer lost)
    cells = chain.from_iterable(chain.from_iterable(t.rows for t in doc.tables))
    text_norm = norm(text) + norm("".join(filter(None, cells)))  # (filter, chain: no Python step per cell)
    fmt_id, tokens = detect_format(text_norm, formats, format_for_year(year, starts))
    if fmt_id in formats:
        candidates = [formats[fmt_id]]
    elif fmt_id == "mixed":
        candidates = list(formats.values())
    else:
        candidates = [_year_format(year, formats, starts)]
    primary = candidates[0] if len(candidates) == 1 else _year_format(year, formats, starts)

    sections, section_text = find_sections(doc.lines, primary.sections)
    sources = Sources(doc)
    tables: dict = {}
    used: dict[str, str] = {}
    notes: list[Note] = []
    for key in primary.tables:
        best: tuple[TableRead, Format] | None = None
        for f in candidates:
            if key not in f.tables:
                continue
            got = read_table(sources, f.tables[key])
            if best is None or got.quality > best[0].quality + 1e-9:
                best = (got, f)
        if best is None:
            continue
        got, f = best
        used[key] = f.id
        if got.found:
            tables[key] = got.data
            notes.extend(got.notes)
            spec = f.tables[key]
            present = {k for k in got.data} | {
                n.where.split("/")[1] for n in got.notes if n.kind == "source.unreadable" and n.where.count("/") == 1
            }
            notes.extend(_missing_rows(spec, present, f.id))
    return Report(
        source=doc.source,
        kind=doc.kind,
        title=title,
        body=body,
        body_type=body_type,
        year=year,
        format=fmt_id,
        format_used=used,
        format_tokens=tokens,
        published=publication(doc, published) if doc else Published(None, None),
        sections=tuple(sections),
        section_text=section_text,
        tables=tables,
        notes=tuple(notes),
        problems=doc.problems,
        text=to_simplified(text),
    )
