"""What every check receives, and the one way findings are made (rule id and severity from config)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rules.config import CheckConfig, RuleSet
from rules.formats import Format, TableSpec
from rules.report import Finding, Report


@dataclass(frozen=True)
class Context:
    name: str  # the check's name in rules.toml = the `rule` of its findings
    rules: RuleSet
    config: CheckConfig
    previous: Report | None = None

    @property
    def params(self) -> dict[str, Any]:
        return self.config.params

    def finding(
        self,
        kind: str,
        where: str,
        message: str,
        data: dict[str, Any] | None = None,
        severity: str | None = None,
        rule: str | None = None,
    ) -> Finding:
        return Finding(kind, rule or self.name, severity or self.config.severity, where, message, data or {})

    def format_of(self, report: Report, table: str) -> Format | None:
        fid = report.format_used.get(table)
        return self.rules.formats.get(fid) if fid else None

    def spec(self, report: Report, table: str) -> TableSpec | None:
        fmt = self.format_of(report, table)
        return fmt.tables.get(table) if fmt else None


CheckFn = Callable[[Report, Context], list[Finding]]


@dataclass(frozen=True)
class Check:
    name: str
    kinds: tuple[str, ...]
    fn: CheckFn
    defaults: dict[str, Any]  # severity and parameters, overridable in rules.toml
    needs_previous: bool = False

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()
