"""What the reader produces (Report) and what checks produce (Finding): plain frozen data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

SEVERITIES = ("error", "warning", "advisory")
# Chinese names for messages and summaries, kept with the vocabulary they name
EVIDENCE_LABELS = {
    "meta": "页面元数据 PubDate",
    "page": "页面“发布日期”",
    "list": "栏目列表日期",
    "first_seen": "首次发现时间",
    "url": "网址中的日期",
    "signature": "落款日期",
    "given": "人工指定的发布日期",
}
BODY_TYPE_LABELS = {
    "department": "政府部门",
    "government": "县级以上人民政府",
    "township": "乡镇人民政府",
    "subdistrict": "街道办事处",
}

Value = int | float | str | None  # None = blank cell; str = text that is not a valid number


@dataclass(frozen=True)
class Finding:
    kind: str
    rule: str
    severity: str
    where: str
    message: str
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    def fingerprint(self, body: str = "", year: int | None = None) -> str:
        """Stable identity for dedup/resolve: the same defect in a re-published report matches."""
        key = f"{body}|{year}|{self.kind}|{self.rule}|{self.where}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "rule": self.rule,
            "severity": self.severity,
            "where": self.where,
            "message": self.message,
        }
        if self.data:
            out["data"] = self.data
        return out


@dataclass(frozen=True)
class Note:
    """Something the reader saw (a damaged label, a missing row); checks turn notes into findings."""

    kind: str
    where: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SectionHit:
    no: int
    found: bool
    heading: str | None = None  # original text of the heading line
    exact: bool = False
    line: int | None = None


@dataclass(frozen=True)
class Published:
    date: date | None
    evidence: str | None  # meta | page | list | first_seen | url | signature | given
    text: str | None = None


@dataclass(frozen=True)
class Report:
    source: str
    kind: str  # the Document kind (html, pdf, …)
    title: str | None
    body: str | None
    body_type: str | None
    year: int | None
    format: str  # F2019 | F2021 | mixed | unknown
    format_used: dict[str, str]  # table key → format id it was read with
    format_tokens: dict[str, list[str]]
    published: Published
    sections: tuple[SectionHit, ...]
    section_text: dict[int, str]
    tables: dict[str, Any]
    notes: tuple[Note, ...] = ()
    problems: tuple[str, ...] = ()
    unreadable: str | None = None
    text: str = ""
    region: str | None = None  # from config.toml (regional deadlines); a file checked alone has none


def snapshot(report: Report) -> dict[str, Any]:
    """What the store keeps of a Report: enough for next year's cross-year rules and to check the
    report again under changed rules (`nianbao recheck`) without fetching it. The text is kept apart."""
    return {
        "source": report.source,
        "kind": report.kind,
        "title": report.title,
        "body": report.body,
        "body_type": report.body_type,
        "region": report.region,
        "year": report.year,
        "format": report.format,
        "format_used": report.format_used,
        "format_tokens": report.format_tokens,
        "published": {
            "date": report.published.date.isoformat() if report.published.date else None,
            "evidence": report.published.evidence,
            "text": report.published.text,
        },
        "sections": [
            {"no": h.no, "found": h.found, "heading": h.heading, "exact": h.exact, "line": h.line}
            for h in report.sections
        ],
        "notes": [{"kind": n.kind, "where": n.where, "message": n.message, "data": n.data} for n in report.notes],
        "problems": list(report.problems),
        "unreadable": report.unreadable,
        "tables": report.tables,
        "section_text": {str(k): v for k, v in report.section_text.items()},
    }


def from_snapshot(data: dict[str, Any], text: str = "") -> Report:
    pub = data.get("published") or {}
    return Report(
        source=data.get("source", ""),
        kind=data.get("kind", ""),
        title=data.get("title"),
        body=data.get("body"),
        body_type=data.get("body_type"),
        year=data.get("year"),
        format=data.get("format", "unknown"),
        format_used=data.get("format_used", {}),
        format_tokens=data.get("format_tokens", {}),
        published=Published(
            date.fromisoformat(pub["date"]) if pub.get("date") else None, pub.get("evidence"), pub.get("text")
        ),
        sections=tuple(SectionHit(**h) for h in data.get("sections", [])),
        tables=data.get("tables", {}),
        section_text={int(k): v for k, v in data.get("section_text", {}).items()},
        notes=tuple(Note(**n) for n in data.get("notes", [])),
        problems=tuple(data.get("problems", ())),
        unreadable=data.get("unreadable"),
        text=text,
        region=data.get("region"),
    )
