"""`nianbao check`: one source (file or URL) → Report + findings → the JSON contract of check-json.md."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from rules.config import RuleSet
from rules.engine import check
from rules.read.document import read
from rules.report import Finding, Report
from scrapers import http
from scrapers.document import Document, unreadable
from scrapers.extract import extract


@dataclass(frozen=True)
class Options:
    year: int | None = None
    body_type: str | None = None
    published: date | None = None
    previous: str | None = None
    allow_private: bool = False


@dataclass
class Outcome:
    source: str
    report: Report
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    attachment: str | None = None  # the attachment the tables were read from, when the page had none
    previous_error: str | None = None  # --previous given but unreadable: cross-year rules did not run

    @property
    def exit_code(self) -> int:
        if self.error:
            return 2
        return 1 if any(f.severity == "error" for f in self.findings) else 0


def load_document(source: str, allow_private: bool = False) -> Document:
    if source.startswith(("http://", "https://")):
        res = http.fetch(source, allow_private=allow_private)
        if res.status != "ok":
            why = res.error or f"HTTP {res.http_status}"
            return unreadable(source, "url", f"无法下载（{res.status}：{why}）/ could not fetch")
        return extract(res.data, res.url, res.content_type)
    path = Path(source)
    if not path.is_file():
        return unreadable(source, "file", f"文件不存在 / no such file: {source}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        return unreadable(source, "file", f"无法读取文件 / cannot read file: {exc}")
    return extract(data, path.name)


_PAGE_EVIDENCE = (
    "pubdate",
    "publishtime",
    "firstpublishtime",
    "publishdate",
    "page_date",
    "page_date_text",
    "url_date",
    "articletitle",
    "html_title",
)
MAX_ATTACHMENTS = 3


def _from_attachments(doc: Document, report: Report, rules: RuleSet, opts: Options) -> tuple[Report, str | None]:
    """A page that only links its report (PDF/DOC/…) is read through the attachment, keeping the page's dates."""
    links = [u for u in doc.meta.get("attachments", "").splitlines() if u.startswith(("http://", "https://"))]
    best, used = report, None
    for url in links[:MAX_ATTACHMENTS]:
        att = load_document(url, opts.allow_private)
        if att.unreadable:
            continue
        page_meta = {k: doc.meta[k] for k in _PAGE_EVIDENCE if k in doc.meta}
        att = replace(att, meta={**att.meta, **page_meta})
        got = read(att, rules.formats, year=opts.year, body_type=opts.body_type, published=opts.published)
        if len(got.tables) > len(best.tables):
            best, used = got, url
    return best, used


def run_check(source: str, rules: RuleSet, opts: Options) -> Outcome:
    doc = load_document(source, opts.allow_private)
    report = read(doc, rules.formats, year=opts.year, body_type=opts.body_type, published=opts.published)
    attachment = None
    if doc.kind == "html" and len(report.tables) < 3 and doc.meta.get("attachments"):
        report, attachment = _from_attachments(doc, report, rules, opts)
    report = replace(report, source=source)
    if report.unreadable:
        return Outcome(source, report, [], report.unreadable)
    previous, previous_error = None, None
    if opts.previous:
        prev_doc = load_document(opts.previous, opts.allow_private)
        if prev_doc.unreadable:
            previous_error = f"上年报告无法读取，未做跨年度检查：{prev_doc.unreadable}"
        else:
            previous = read(prev_doc, rules.formats)
    return Outcome(source, report, check(report, rules, previous), attachment=attachment, previous_error=previous_error)


def to_json(outcome: Outcome, rules: RuleSet) -> dict[str, Any]:
    r = outcome.report
    due = rules.deadline(r.year, r.body_type) if r.year else None
    out: dict[str, Any] = {
        "source": outcome.source,
        "title": r.title,
        "body": r.body,
        "body_type": r.body_type,
        "year": r.year,
        "format": r.format,
        "published": {
            "date": r.published.date.isoformat() if r.published.date else None,
            "evidence": r.published.evidence,
        },
        "deadline": due.isoformat() if due else None,
    }
    if outcome.error:
        out["error"] = outcome.error
        return out
    fmt = rules.formats.get(r.format_used.get("applications", ""))
    headings = {s.no: s.heading for s in fmt.sections} if fmt else {}
    out["sections"] = [
        {"no": s.no, "found": s.found, "heading": s.heading, "standard": headings.get(s.no), "exact": s.exact}
        for s in r.sections
    ]
    out["tables"] = r.tables
    out["findings"] = [f.as_json() for f in outcome.findings]
    out["summary"] = {
        sev: sum(1 for f in outcome.findings if f.severity == sev) for sev in ("error", "warning", "advisory")
    }
    out["input_kind"] = r.kind
    out["format_used"] = r.format_used
    if outcome.attachment:
        out["attachment"] = outcome.attachment
    if outcome.previous_error:
        out["previous_error"] = outcome.previous_error
    if r.published.text:
        out["published"]["text"] = r.published.text
    return out
