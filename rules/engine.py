"""Run every enabled check on a Report. Pure: no I/O, no clock — the caller passes everything in."""

from __future__ import annotations

import logging
from datetime import date

from rules.checks import REGISTRY
from rules.checks.base import Context
from rules.config import RuleSet
from rules.report import SEVERITIES, Finding, Report

log = logging.getLogger(__name__)


def check(report: Report, rules: RuleSet, previous: Report | None = None, today: date | None = None) -> list[Finding]:
    """All findings for ``report``, errors first. A failing check is reported, never raised. Findings
    an exemption in rules.toml covers (body, year, check or kind, until ``today``) are left out."""
    findings: list[Finding] = []
    if report.unreadable:
        return findings
    for name, chk in REGISTRY.items():
        cfg = rules.check(name)
        if not cfg.enabled:
            continue
        ctx = Context(name, rules, cfg, previous)
        try:
            found = chk.fn(report, ctx)
            findings.extend(
                f
                for f in found
                if not (rules.exempt(report.body, report.year, name, f.kind, today)
                        or rules.exempt(report.body, report.year, f.rule, f.kind, today))
            )  # fmt: skip
        except Exception as exc:  # a bug in one check must not hide the others' findings
            log.exception("check %s failed on %s", name, report.source)
            findings.append(
                Finding(
                    "source.unreadable",
                    name,
                    "warning",
                    "document",
                    f"检查“{name}”运行出错（{type(exc).__name__}），结果可能不完整",
                )
            )
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: order.get(f.severity, 9))
