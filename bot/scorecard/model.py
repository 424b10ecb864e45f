"""What the scorecard says, as plain data: one row per expected body, the headline figures per region,
the error kinds by count. Built from the same body × year matrix as `nianbao status`, so the page, the
digest and the terminal never disagree about who is late."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.config import Config
from bot.status import matrix
from bot.store import Store
from notifiers.render import KIND_NAME
from rules.config import RuleSet
from rules.report import BODY_TYPE_LABELS, EVIDENCE_LABELS

STATES = {  # state → (badge text, order of badness for sorting: worst first)
    "missing": ("未发布", 0),
    "late": ("逾期发布", 1),
    "unknown": ("日期不明", 2),
    "on_time": ("按时发布", 3),
    "pending": ("未到期", 4),
}
NO_REGION = "未分地区"
_SEVERITIES = ("error", "warning", "advisory")


@dataclass(frozen=True)
class Problem:
    kind: str
    kind_name: str
    severity: str
    where: str
    message: str
    cells: tuple[tuple[str, str], ...] = ()  # (cell path, value) the finding points at


@dataclass(frozen=True)
class Row:
    body: str
    body_type: str
    region: str
    portal: str
    year: int
    deadline: str
    state: str
    published: str | None
    evidence: str | None
    days_late: int | None  # late: publication − deadline; missing: today − deadline
    title: str | None
    url: str | None
    report_id: int | None
    counts: dict[str, int] = field(default_factory=dict)  # severity → number of findings
    problems: tuple[Problem, ...] = ()

    @property
    def defects(self) -> int:
        """Errors in the report itself (sections, tables, content): lateness is the status badge's job."""
        return sum(1 for p in self.problems if p.severity == "error" and not p.kind.startswith("deadline."))

    @property
    def has_errors(self) -> bool:
        return self.defects > 0

    @property
    def badge(self) -> str:
        return STATES[self.state][0]

    @property
    def body_type_label(self) -> str:
        return BODY_TYPE_LABELS.get(self.body_type, self.body_type)

    @property
    def evidence_label(self) -> str:
        return EVIDENCE_LABELS.get(self.evidence or "", self.evidence or "")


@dataclass(frozen=True)
class Figures:
    region: str
    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0
    unknown: int = 0
    with_errors: int = 0

    @property
    def published(self) -> int:
        return self.on_time + self.late + self.unknown


@dataclass(frozen=True)
class Scorecard:
    year: int
    generated: str  # when, Asia/Shanghai, to the minute
    today: str
    region: str | None  # the --region filter, if any
    rows: tuple[Row, ...]
    regions: tuple[Figures, ...]  # one per region, then the total ("合计")
    kinds: tuple[tuple[str, str, int, int], ...]  # (kind, Chinese name, findings, bodies), most first

    @property
    def total(self) -> Figures:
        return self.regions[-1]

    def worst(self, n: int = 5) -> list[Row]:
        """The offenders a digest names: missing first, then the latest, then the most errors."""
        bad = [r for r in self.rows if r.state in ("missing", "late") or r.has_errors]
        bad.sort(key=lambda r: (STATES[r.state][1], -(r.days_late or 0), -r.defects, r.body))
        return bad[:n]


def _cells(data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    cells = data.get("cells")
    if isinstance(cells, dict):
        return tuple((str(k), "空白" if v is None else str(v)) for k, v in cells.items())
    if "found" in data:
        return (("原文", str(data["found"])), ("标准", str(data.get("expected", ""))))
    return ()


def _problems(store: Store, report_id: int) -> tuple[Problem, ...]:
    out = []
    for f in store.findings_of(report_id):
        data = json.loads(f["data"]) if f["data"] else {}
        out.append(
            Problem(
                kind=f["kind"] or "",
                kind_name=KIND_NAME.get(f["kind"] or "", f["kind"] or ""),
                severity=f["severity"] or "",
                where=f["where"] or "",
                message=f["message"] or "",
                cells=_cells(data if isinstance(data, dict) else {}),
            )
        )
    order = {s: n for n, s in enumerate(_SEVERITIES)}
    return tuple(sorted(out, key=lambda p: order.get(p.severity, 9)))


def _days_late(state: str, published: str | None, deadline: str, today: date) -> int | None:
    due = date.fromisoformat(deadline)
    if state == "late" and published:
        return (date.fromisoformat(published) - due).days
    if state == "missing":
        return (today - due).days
    return None


def figures(region: str, rows: list[Row]) -> Figures:
    count = {s: sum(1 for r in rows if r.state == s) for s in STATES}
    return Figures(
        region=region,
        expected=len(rows),
        on_time=count["on_time"],
        late=count["late"],
        missing=count["missing"],
        pending=count["pending"],
        unknown=count["unknown"],
        with_errors=sum(1 for r in rows if r.has_errors),
    )


def assemble(year: int, rows: list[Row], now: datetime, today: date, region: str | None = None) -> Scorecard:
    """The figures and kinds from the rows (pure: the tests and the benchmark build rows directly)."""
    by_region: dict[str, list[Row]] = {}
    for r in rows:
        by_region.setdefault(r.region or NO_REGION, []).append(r)
    regions = [figures(name, group) for name, group in sorted(by_region.items())]
    regions.append(figures("合计", rows))
    kinds: dict[str, list[int]] = {}
    for r in rows:
        for kind in {p.kind for p in r.problems if p.severity in ("error", "warning")}:
            kinds.setdefault(kind, [0, 0])[1] += 1
        for p in r.problems:
            if p.severity in ("error", "warning"):
                kinds.setdefault(p.kind, [0, 0])[0] += 1
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1][0], kv[0]))
    rows = sorted(rows, key=lambda r: (r.region, STATES[r.state][1], r.body))
    return Scorecard(
        year=year,
        generated=now.strftime("%Y-%m-%d %H:%M"),
        today=today.isoformat(),
        region=region,
        rows=tuple(rows),
        regions=tuple(regions),
        kinds=tuple((k, KIND_NAME.get(k, k), n, b) for k, (n, b) in ranked),
    )


def build(
    config: Config, store: Store, rules: RuleSet, year: int, now: datetime, region: str | None = None
) -> Scorecard:
    today = now.date()
    rows = []
    for m in matrix(config, store, rules, today, (year,)):
        if region and m["region"] != region:
            continue
        counts = {s: 0 for s in _SEVERITIES}
        problems: tuple[Problem, ...] = ()
        if m["report_id"]:
            problems = _problems(store, m["report_id"])
            for p in problems:
                counts[p.severity] = counts.get(p.severity, 0) + 1
        rows.append(
            Row(
                body=m["body"],
                body_type=m["body_type"],
                region=m["region"],
                portal=m["portal"],
                year=year,
                deadline=m["deadline"],
                state=m["state"],
                published=m["published"],
                evidence=m["evidence"],
                days_late=_days_late(m["state"], m["published"], m["deadline"], today),
                title=m["title"],
                url=m["url"],
                report_id=m["report_id"],
                counts=counts,
                problems=problems,
            )
        )
    return assemble(year, rows, now, today, region)
