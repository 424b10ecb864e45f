"""Cross-year rules (R5–R7): this year's report against the same body's previous one."""

from __future__ import annotations

from rules.checks.base import Context
from rules.checks.tables import failure
from rules.expr import evaluate, refs
from rules.report import Finding, Report


def crossyear(report: Report, ctx: Context) -> list[Finding]:
    """crossyear.carryover (R5) and crossyear.stock (R6/R7): 上年结转 = last year's 结转下年度, stock rules of 表二."""
    prev = ctx.previous
    if prev is None or not prev.tables:
        return []
    disabled = set(ctx.params.get("disabled_rules", []))
    fid = report.format_used.get("applications")
    fmt = ctx.rules.formats.get(fid or "")
    if not fmt:
        return []
    data = {**report.tables, "previous": prev.tables}
    out = []
    for rule in fmt.crossyear:
        if rule.id in disabled:
            continue
        if rule.requires_previous_format and prev.format_used.get("active") != rule.requires_previous_format:
            continue
        spec_of = {k: fmt.tables[k] for k in report.tables if k in fmt.tables}
        for combo, ident in rule.formulas:
            tables = {
                r.path[0] if r.path[0] != "previous" else r.path[1] for s in (ident.lhs, ident.rhs) for r in refs(s)
            }
            if not all(t in report.tables or t in prev.tables for t in tables):
                continue
            ev = evaluate(ident, data)
            if ev.computable and not ev.holds(rule.tolerance):
                table = sorted(tables)[0]
                f = failure(
                    ctx, rule.kind, rule.id, rule.title, table, combo, ev, spec_of, rule.severity or ctx.config.severity
                )
                out.append(f)
    return out
