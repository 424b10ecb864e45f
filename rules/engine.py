"""Run every enabled check on a Report. Pure: no I/O, no clock — the caller passes everything in."""

from __future__ import annotations

import logging

from rules.checks import REGISTRY
from rules.checks.base import Context
from rules.config import RuleSet
from rules.report import SEVERITIES, Finding, Report

log = logging.getLogger(__name__)


def check(report: Report, rules: RuleSet, previous: Report | None = None) -> list[Finding]:
    """All findings for ``report``, errors first. A failing check is reported, never raised."""
    findings: list[Finding] = []
    if report.unreadable:
        return findings
    for name, chk in REGISTRY.items():
        cfg = rules.check(name)
        if not cfg.enabled:
            continue
        ctx = Context(name, rules, cfg, previous)
        try:
            findings.extend(chk.fn(report, ctx))
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
