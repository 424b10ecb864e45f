"""`nianbao check`: one source (file or URL) → Report + findings → the JSON contract of check-json.md."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from bot.documents import fetch_document
from rules.config import RuleSet
from rules.engine import check
from rules.read.document import read
from rules.report import Finding, Report
from scrapers.document import Document, unreadable
from scrapers.extract import extract


@dataclass(frozen=True)
class Options:
    year: int | None = None
    body_type: str | None = None
    published: date | None = None
    previous: str | None = None
    allow_private: bool = False
    region: str | None = None  # e.g. "江苏省/淮安市": regional deadlines of rules.toml apply


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


def load_document(source: str, allow_private: bool = False) -> tuple[Document, str | None]:
    """A local file, or a URL through the shared fetch path (attachments followed): (Document, attachment)."""
    if source.startswith(("http://", "https://")):
        # imported here: the analysis workers re-import the CLI (their spawn main), and must not load httpx
        from scrapers.net import Fetcher, Politeness

        async def run() -> tuple[Document, str | None]:
            async with Fetcher(Politeness(allow_private=allow_private, retries=1)) as fetcher:
                return await fetch_document(fetcher, source)

        return asyncio.run(run())
    path = Path(source)
    if not path.is_file():
        return unreadable(source, "file", f"文件不存在 / no such file: {source}"), None
    try:
        data = path.read_bytes()
    except OSError as exc:
        return unreadable(source, "file", f"无法读取文件 / cannot read file: {exc}"), None
    return extract(data, path.name), None


def run_check(source: str, rules: RuleSet, opts: Options) -> Outcome:
    doc, attachment = load_document(source, opts.allow_private)
    report = read(
        doc,
        rules.formats,
        year=opts.year,
        body_type=opts.body_type,
        published=opts.published,
        format_years=rules.format_years,
    )
    report = replace(report, source=source, region=opts.region)
    if report.unreadable:
        return Outcome(source, report, [], report.unreadable)
    previous, previous_error = None, None
    if opts.previous:
        prev_doc, _ = load_document(opts.previous, opts.allow_private)
        if prev_doc.unreadable:
            previous_error = f"上年报告无法读取，未做跨年度检查：{prev_doc.unreadable}"
        else:
            previous = read(prev_doc, rules.formats, format_years=rules.format_years)
    return Outcome(source, report, check(report, rules, previous), attachment=attachment, previous_error=previous_error)


def to_json(outcome: Outcome, rules: RuleSet) -> dict[str, Any]:
    r = outcome.report
    due = rules.deadline(r.year, r.body_type, r.region) if r.year else None
    out: dict[str, Any] = {
        "source": outcome.source,
        "rules_version": rules.version,
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
