"""rules.toml → RuleSet: which checks run, how severe they are, their parameters, the deadlines
(by body type, and by region), exemptions, message templates, and which format applies to which year.

Validated on load: an unknown check, key, type, severity, placeholder or an impossible or
overlapping deadline is refused with ``file:line`` and a Chinese / English message, so a typo never
silently disables a check — and the service keeps the last good rules (bot/rules_watch.py).
"""

from __future__ import annotations

import hashlib
import re
import string
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from rules.formats import BUNDLED as BUNDLED_FORMATS
from rules.formats import Format, FormatError, format_for_year, load_formats, start_years
from rules.report import SEVERITIES

BUNDLED = Path(__file__).parent / "rules.toml"
BODY_TYPES = ("department", "government", "township", "subdistrict")
PLACEHOLDERS = (
    "body", "region", "year", "title", "url", "rule", "where", "message", "deadline", "published", "days_late",
    "portal", "detail",
)  # fmt: skip
_MD = re.compile(r"^(\d{2})-(\d{2})$")
_SECTIONS = {"deadlines", "formats", "checks", "exemptions", "templates"}


class RulesError(ValueError):
    """The rules configuration is invalid; the message says where (file:line) and what (Chinese / English)."""


@dataclass(frozen=True)
class CheckConfig:
    enabled: bool = True
    severity: str = "error"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Regional:
    """A deadline for the bodies of one region (a province moves the township deadline, say)."""

    region: str
    month_day: str
    body_types: tuple[str, ...] = BODY_TYPES
    from_year: int = 0
    until_year: int = 9999

    def applies(self, year: int, body_type: str | None, regions: tuple[str, ...]) -> bool:
        return (
            self.from_year <= year <= self.until_year
            and (body_type or "department") in self.body_types
            and self.region in regions
        )


@dataclass(frozen=True)
class Exemption:
    body: str
    year: int
    rule: str  # a check name, a finding kind (deadline.missing too), or "*"
    reason: str
    until: date | None = None

    def covers(self, body: str | None, year: int | None, rule: str, kind: str, today: date | None) -> bool:
        if body != self.body or year != self.year or self.rule not in ("*", rule, kind):
            return False
        return self.until is None or today is None or today <= self.until


@dataclass(frozen=True)
class RuleSet:
    checks: dict[str, CheckConfig]
    deadlines: dict[str, str]
    format_years: dict[str, int]
    formats: dict[str, Format]
    source: str = "bundled"
    regional: tuple[Regional, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    templates: dict[str, dict[str, str]] = field(default_factory=dict)
    version: str = ""  # hash of rules.toml and the format files: findings record which rules made them
    files: dict[str, str] = field(default_factory=dict)  # file → sha256 (the change log in the store)

    def check(self, name: str) -> CheckConfig:
        return self.checks.get(name, CheckConfig())

    def deadline(self, year: int, body_type: str | None, region: str | None = None) -> date:
        """Statutory deadline for a report of ``year`` (published in year + 1). A regional rule for the
        body's region (or any region above it, "江苏省/淮安市/洪泽区") overrides the body-type default;
        the most specific region wins."""
        if year <= int(self.deadlines.get("legacy_until_year", 2018)):
            md = self.deadlines.get("legacy", "03-31")
        else:
            md = self.deadlines.get(body_type or "department", self.deadlines.get("department", "01-31"))
            path = region_path(region)
            best = -1
            for r in self.regional:
                if r.applies(year, body_type, path) and path.index(r.region) > best:
                    best, md = path.index(r.region), r.month_day
        m, d = (int(x) for x in md.split("-"))
        return date(year + 1, m, d)

    def exempt(self, body: str | None, year: int | None, rule: str, kind: str, today: date | None) -> Exemption | None:
        return next((e for e in self.exemptions if e.covers(body, year, rule, kind, today)), None)

    def format_for_year(self, year: int | None) -> str | None:
        return format_for_year(year, self.format_years)


def region_path(region: str | None) -> tuple[str, ...]:
    """ "江苏省/淮安市/洪泽区" → its levels, broadest first (a plain name is one level)."""
    return tuple(p.strip() for p in re.split(r"[/／>]", region or "") if p.strip())


class Lines:
    """Approximate line numbers for messages (tomllib gives none): headers and keys found in the text."""

    def __init__(self, path: str, text: str) -> None:
        self.path, self.lines = path, text.splitlines()

    def of(self, header: str, key: str | None = None, nth: int = 0) -> int:
        start, seen = 0, -1
        rx = re.compile(r"^\s*\[+\s*" + re.escape(header) + r"\s*\]+")
        for i, line in enumerate(self.lines):
            if rx.match(line):
                seen += 1
                if seen == nth:
                    start = i + 1
                    break
        if key is None:
            return start or 1
        krx = re.compile(r"^\s*\"?" + re.escape(key) + r"\"?\s*=")
        for i in range(start, len(self.lines)):
            if i > start and self.lines[i].lstrip().startswith("["):
                break
            if krx.match(self.lines[i]):
                return i + 1
        return start or 1

    def err(self, line: int, what: str, zh: str, en: str) -> RulesError:
        return RulesError(f"{self.path}:{line}: {what}: {zh} / {en}")


def _month_day(value: Any) -> bool:
    m = _MD.match(str(value))
    if not m:
        return False
    try:
        date(2001, int(m.group(1)), int(m.group(2)))  # not a leap year: "02-29" is refused (impossible most years)
    except ValueError:
        return False
    return True


def _deadlines(data: dict[str, Any], at: Lines) -> tuple[dict[str, str], tuple[Regional, ...]]:
    raw = dict(data.get("deadlines", {}))
    regional_raw = raw.pop("regional", [])
    deadlines = {k: str(v) for k, v in raw.items()}
    for k, v in deadlines.items():
        line = at.of("deadlines", k)
        if k == "legacy_until_year":
            if not v.isdigit():
                raise at.err(line, "[deadlines].legacy_until_year", "必须是年份", "must be a year")
            continue
        if k not in (*BODY_TYPES, "legacy"):
            raise at.err(
                line, "[deadlines]", f"未知的机关类型“{k}”", f"unknown body type {k!r} ({', '.join(BODY_TYPES)})"
            )
        if not _month_day(v):
            raise at.err(line, f"[deadlines].{k}", f"日期“{v}”不存在或不是“MM-DD”", f"{v!r} is not a real MM-DD date")
    regional: list[Regional] = []
    if not isinstance(regional_raw, list):
        raise at.err(at.of("deadlines"), "[deadlines].regional", "应写成 [[deadlines.regional]]", "must be a list")
    for n, r in enumerate(regional_raw):
        line = at.of("deadlines.regional", nth=n)
        what = f"[[deadlines.regional]] #{n + 1}"
        _only(r, {"region", "date", "body_types", "from_year", "until_year"}, at, line, what)
        if not isinstance(r.get("region"), str) or not r["region"].strip():
            raise at.err(line, what, "缺少 region（地区名）", "needs region")
        if not _month_day(r.get("date")):
            raise at.err(line, f"{what}.date", f"日期“{r.get('date')}”不存在或不是“MM-DD”", "date must be a real MM-DD")
        types = r.get("body_types", list(BODY_TYPES))
        if not isinstance(types, list) or not types or any(t not in BODY_TYPES for t in types):
            raise at.err(line, f"{what}.body_types", f"应为 {'/'.join(BODY_TYPES)} 的列表", "bad body_types")
        lo, hi = r.get("from_year", 0), r.get("until_year", 9999)
        if not isinstance(lo, int) or not isinstance(hi, int) or lo > hi:
            raise at.err(line, what, "from_year 应不大于 until_year（整数年份）", "from_year must be ≤ until_year")
        item = Regional(r["region"].strip(), str(r["date"]), tuple(types), lo, hi)
        for other in regional:
            same = other.region == item.region and set(other.body_types) & set(item.body_types)
            if same and other.from_year <= item.until_year and item.from_year <= other.until_year:
                raise at.err(
                    line, what, f"与前面“{other.region}”的期限在相同机关类型和年份上重叠",
                    f"overlaps an earlier rule for {other.region!r} (same body types and years)",
                )  # fmt: skip
        regional.append(item)
    return deadlines, tuple(regional)


def _only(d: Any, allowed: set[str], at: Lines, line: int, what: str) -> None:
    if not isinstance(d, dict):
        raise at.err(line, what, "应为表", "must be a table")
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise at.err(
            line, what, f"未知的键 {unknown}", f"unknown key(s) {unknown} (known: {', '.join(sorted(allowed))})"
        )


def _exemptions(data: dict[str, Any], at: Lines, known: dict[str, Any], kinds: set[str]) -> tuple[Exemption, ...]:
    out = []
    raw = data.get("exemptions", [])
    if not isinstance(raw, list):
        raise at.err(1, "exemptions", "应写成 [[exemptions]]", "must be [[exemptions]] tables")
    for n, e in enumerate(raw):
        line = at.of("exemptions", nth=n)
        what = f"[[exemptions]] #{n + 1}"
        _only(e, {"body", "year", "rule", "reason", "until"}, at, line, what)
        for key, typ in (("body", str), ("year", int), ("rule", str), ("reason", str)):
            if not isinstance(e.get(key), typ) or isinstance(e.get(key), bool) or e.get(key) in ("",):
                raise at.err(line, f"{what}.{key}", "必填，类型应为 " + typ.__name__, f"required ({typ.__name__})")
        if e["rule"] != "*" and e["rule"] not in known and e["rule"] not in kinds:
            raise at.err(
                line, f"{what}.rule", f"没有名为“{e['rule']}”的检查或问题类型",
                f"unknown rule {e['rule']!r}: a check name, a kind or \"*\"",
            )  # fmt: skip
        until = e.get("until")
        if until is not None and not isinstance(until, date):
            raise at.err(line, f"{what}.until", "应为日期，如 2025-12-31（不加引号）", "must be a TOML date")
        out.append(Exemption(e["body"], e["year"], e["rule"], e["reason"], until))
    return tuple(out)


def _templates(data: dict[str, Any], at: Lines, kinds: set[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    raw = data.get("templates", {})
    if not isinstance(raw, dict):
        raise at.err(1, "templates", "应为表", "must be a table")
    for kind, spec in raw.items():
        line = at.of(f'templates."{kind}"') if at.of(f'templates."{kind}"') > 1 else at.of("templates")
        what = f'[templates."{kind}"]'
        if kind not in kinds:
            raise at.err(line, what, f"没有“{kind}”这种问题类型", f"unknown kind {kind!r}")
        _only(spec, {"headline", "advice"}, at, line, what)
        for key, text in spec.items():
            if not isinstance(text, str):
                raise at.err(line, f"{what}.{key}", "应为字符串", "must be a string")
            try:
                names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
            except ValueError as exc:
                raise at.err(line, f"{what}.{key}", f"花括号不配对：{exc}", f"bad braces: {exc}") from None
            bad = [f for f in names if f not in PLACEHOLDERS]
            if bad:
                names_ = ", ".join(PLACEHOLDERS)
                raise at.err(line, f"{what}.{key}", f"未知的占位符 {bad}", f"unknown placeholder {bad} ({names_})")
        out[kind] = dict(spec)
    return out


def parse_rules(
    data: dict[str, Any], formats: dict[str, Format], where: str, known: dict[str, Any], text: str = "",
    kinds: set[str] | None = None,
) -> RuleSet:  # fmt: skip
    """Validate a parsed rules.toml. ``known`` maps check name → its default parameters; ``kinds`` are
    the finding kinds the checks and the service emit (for exemptions and templates)."""
    at = Lines(where, text)
    kinds = kinds or set()
    unknown = set(data) - _SECTIONS
    if unknown:
        first = sorted(unknown)[0]
        raise at.err(
            at.of(first), "rules.toml", f"未知的配置节 {sorted(unknown)}", f"unknown section(s) {sorted(unknown)}"
        )
    deadlines, regional = _deadlines(data, at)
    years = {}
    for fid, spec in data.get("formats", {}).items():
        line = at.of("formats", fid)
        if fid not in formats:
            raise at.err(line, "[formats]", f"没有名为“{fid}”的格式文件", f"no format file defines {fid!r}")
        if not isinstance(spec, dict) or not isinstance(spec.get("from"), int) or set(spec) - {"from"}:
            raise at.err(line, f"[formats].{fid}", "应写成 { from = 年份 }", "must be { from = <year> }")
        years[fid] = spec["from"]
    if len(set(years.values())) != len(years):
        raise at.err(at.of("formats"), "[formats]", "两个格式的起始年份相同", "two formats start in the same year")
    checks = {}
    for name, spec in data.get("checks", {}).items():
        line = at.of(f"checks.{name}")
        what = f"[checks.{name}]"
        if name not in known:
            raise at.err(line, what, "没有这个检查项", f"unknown check (known: {', '.join(sorted(known))})")
        if not isinstance(spec, dict):
            raise at.err(line, what, "应为表", "must be a table")
        spec = dict(spec)
        enabled = spec.pop("enabled", True)
        severity = spec.pop("severity", known[name].get("severity", "error"))
        if not isinstance(enabled, bool):
            raise at.err(
                at.of(f"checks.{name}", "enabled"), f"{what}.enabled", "应为 true 或 false", "must be true or false"
            )
        if severity not in SEVERITIES:
            raise at.err(
                at.of(f"checks.{name}", "severity"), f"{what}.severity", f"“{severity}”不是 error/warning/advisory",
                f"{severity!r} is not one of {SEVERITIES}",
            )  # fmt: skip
        params = {k: v for k, v in known[name].items() if k != "severity"}
        for k, v in spec.items():
            kline = at.of(f"checks.{name}", k)
            if k not in params:
                raise at.err(
                    kline, f"{what}.{k}", "未知的参数", f"unknown parameter (known: {sorted(params) or 'none'})"
                )
            if type(v) is not type(params[k]) and not (isinstance(params[k], float) and isinstance(v, int)):
                raise at.err(
                    kline, f"{what}.{k}", f"类型应为 {type(params[k]).__name__}", f"must be {type(params[k]).__name__}"
                )
            if k.endswith("severity") and v not in SEVERITIES:
                raise at.err(kline, f"{what}.{k}", f"“{v}”不是 error/warning/advisory", f"{v!r} is not a severity")
            params[k] = v
        checks[name] = CheckConfig(enabled, severity, params)
    for name, defaults in known.items():
        checks.setdefault(
            name,
            CheckConfig(
                True, defaults.get("severity", "error"), {k: v for k, v in defaults.items() if k != "severity"}
            ),
        )
    return RuleSet(
        checks,
        deadlines,
        years or start_years(formats),
        formats,
        where,
        regional,
        _exemptions(data, at, known, kinds),
        _templates(data, at, kinds),
    )


def rules_files(directory: Path | None) -> tuple[Path, Path]:
    rules_file = (directory / "rules.toml") if directory else BUNDLED
    formats_dir = directory / "formats" if directory and (directory / "formats").is_dir() else BUNDLED_FORMATS
    return rules_file, formats_dir


def fingerprint(directory: Path | None) -> dict[str, str]:
    """sha256 of every rules file (rules.toml and formats/*.toml): what the service watches for edits."""
    rules_file, formats_dir = rules_files(directory)
    files = [rules_file, *sorted(formats_dir.glob("*.toml"))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def load_rules(directory: Path | None = None) -> RuleSet:
    """Load rules.toml and formats/ from ``directory`` (default: the bundled ones)."""
    from rules.checks import DEFAULTS, KINDS

    if directory and not directory.is_dir():
        raise RulesError(f"{directory}: 规则目录不存在 / rules directory does not exist")
    rules_file, formats_dir = rules_files(directory)
    try:
        formats = load_formats(formats_dir)
    except FormatError as exc:
        raise RulesError(str(exc)) from exc
    if not rules_file.exists():
        raise RulesError(f"{rules_file}: 找不到 rules.toml / rules.toml not found")
    text = rules_file.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise RulesError(f"{rules_file}:{line[1] if line else 1}: TOML 语法错误 / syntax error: {exc}") from exc
    rs = parse_rules(data, formats, str(rules_file), DEFAULTS, text, KINDS)
    files = fingerprint(directory)
    version = hashlib.sha256("".join(f"{k}={v}" for k, v in sorted(files.items())).encode()).hexdigest()[:12]
    return replace(rs, version=version, files=files)
