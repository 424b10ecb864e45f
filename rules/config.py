"""rules.toml → RuleSet: which checks run, how severe they are, their parameters, the deadlines.

Validated on load: an unknown check, key or severity is refused with a message naming it, so a
typo never silently disables a check.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rules.formats import BUNDLED as BUNDLED_FORMATS
from rules.formats import Format, FormatError, format_for_year, load_formats, start_years
from rules.report import SEVERITIES

BUNDLED = Path(__file__).parent / "rules.toml"
BODY_TYPES = ("department", "government", "township", "subdistrict")
_MD = re.compile(r"^(\d{2})-(\d{2})$")


class RulesError(ValueError):
    """The rules configuration is invalid; the message says where (Chinese / English)."""


@dataclass(frozen=True)
class CheckConfig:
    enabled: bool = True
    severity: str = "error"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSet:
    checks: dict[str, CheckConfig]
    deadlines: dict[str, str]
    format_years: dict[str, int]
    formats: dict[str, Format]
    source: str = "bundled"

    def check(self, name: str) -> CheckConfig:
        return self.checks.get(name, CheckConfig())

    def deadline(self, year: int, body_type: str | None) -> date:
        """Statutory deadline for a report of ``year`` (published in year + 1)."""
        if year <= int(self.deadlines.get("legacy_until_year", 2018)):
            md = self.deadlines.get("legacy", "03-31")
        else:
            md = self.deadlines.get(body_type or "department", self.deadlines.get("department", "01-31"))
        m, d = (int(x) for x in md.split("-"))
        return date(year + 1, m, d)

    def format_for_year(self, year: int | None) -> str | None:
        return format_for_year(year, self.format_years)


def _err(where: str, zh: str, en: str) -> RulesError:
    return RulesError(f"{where}: {zh} / {en}")


def parse_rules(data: dict[str, Any], formats: dict[str, Format], where: str, known: dict[str, Any]) -> RuleSet:
    """Validate a parsed rules.toml. ``known`` maps check name → its default parameters."""
    unknown = set(data) - {"deadlines", "formats", "checks"}
    if unknown:
        raise _err(where, f"未知的配置节 {sorted(unknown)}", f"unknown section(s) {sorted(unknown)}")
    deadlines = {k: str(v) for k, v in data.get("deadlines", {}).items()}
    for k, v in deadlines.items():
        if k == "legacy_until_year":
            if not v.isdigit():
                raise _err(f"{where} [deadlines]", "legacy_until_year 必须是年份", "legacy_until_year must be a year")
            continue
        if k not in (*BODY_TYPES, "legacy"):
            raise _err(f"{where} [deadlines]", f"未知的机关类型“{k}”", f"unknown body type {k!r}")
        m = _MD.match(v)
        try:
            ok = bool(m) and date(2001, int(m.group(1)), int(m.group(2))) is not None  # type: ignore[union-attr]
        except ValueError:
            ok = False
        if not ok:
            raise _err(f"{where} [deadlines].{k}", f"日期“{v}”应为“MM-DD”", f"{v!r} must be MM-DD")
    years = {}
    for fid, spec in data.get("formats", {}).items():
        if fid not in formats:
            raise _err(f"{where} [formats]", f"没有名为“{fid}”的格式文件", f"no format file defines {fid!r}")
        if not isinstance(spec, dict) or not isinstance(spec.get("from"), int):
            raise _err(f"{where} [formats].{fid}", "需要 from = 年份", "needs from = <year>")
        years[fid] = spec["from"]
    checks = {}
    for name, spec in data.get("checks", {}).items():
        if name not in known:
            raise _err(
                f"{where} [checks.{name}]", "没有这个检查项", f"unknown check (known: {', '.join(sorted(known))})"
            )
        if not isinstance(spec, dict):
            raise _err(f"{where} [checks.{name}]", "应为表", "must be a table")
        spec = dict(spec)
        enabled = spec.pop("enabled", True)
        severity = spec.pop("severity", known[name].get("severity", "error"))
        if not isinstance(enabled, bool):
            raise _err(f"{where} [checks.{name}].enabled", "应为 true 或 false", "must be true or false")
        if severity not in SEVERITIES:
            raise _err(
                f"{where} [checks.{name}].severity",
                f"“{severity}”不是 error/warning/advisory",
                f"{severity!r} is not one of {SEVERITIES}",
            )
        params = {k: v for k, v in known[name].items() if k != "severity"}
        for k, v in spec.items():
            if k not in params:
                raise _err(f"{where} [checks.{name}].{k}", "未知的参数", f"unknown parameter (known: {sorted(params)})")
            if type(v) is not type(params[k]) and not (isinstance(params[k], float) and isinstance(v, int)):
                raise _err(
                    f"{where} [checks.{name}].{k}",
                    f"类型应为 {type(params[k]).__name__}",
                    f"must be {type(params[k]).__name__}",
                )
            params[k] = v
        checks[name] = CheckConfig(enabled, severity, params)
    for name, defaults in known.items():
        checks.setdefault(
            name,
            CheckConfig(
                True, defaults.get("severity", "error"), {k: v for k, v in defaults.items() if k != "severity"}
            ),
        )
    return RuleSet(checks, deadlines, years or start_years(formats), formats, where)


def load_rules(directory: Path | None = None) -> RuleSet:
    """Load rules.toml and formats/ from ``directory`` (default: the bundled ones)."""
    from rules.checks import DEFAULTS

    rules_file = (directory / "rules.toml") if directory else BUNDLED
    formats_dir = directory / "formats" if directory and (directory / "formats").is_dir() else BUNDLED_FORMATS
    if directory and not directory.is_dir():
        raise RulesError(f"{directory}: 规则目录不存在 / rules directory does not exist")
    try:
        formats = load_formats(formats_dir)
    except FormatError as exc:
        raise RulesError(str(exc)) from exc
    if not rules_file.exists():
        raise RulesError(f"{rules_file}: 找不到 rules.toml / rules.toml not found")
    try:
        data = tomllib.loads(rules_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{rules_file}: TOML 语法错误 / syntax error: {exc}") from exc
    return parse_rules(data, formats, str(rules_file), DEFAULTS)
