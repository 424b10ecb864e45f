"""Table integrity: blank cells (R9), value domains (R8), and the format's identities (R1–R4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rules.checks.base import Context
from rules.expr import Evaluation, evaluate, quick_sides
from rules.formats import Label, TableSpec
from rules.report import Finding, Report


def _cells(report: Report, spec: TableSpec) -> Iterator[tuple[str, str, Label | None, Label | None, Any]]:
    """(row key, col key, row label, col label, value) for every cell read."""
    data = report.tables.get(spec.key, {})
    if spec.layout == "single_row":
        for key, v in data.items():
            g, _, c = key.partition(".")
            yield (
                key,
                "",
                next((x for x in spec.groups if x.key == g), None),
                next((x for x in spec.columns if x.key == c), None),
                v,
            )
        return
    cols = {c.key: c for c in spec.all_columns}
    rows = {r.key: r for r in spec.all_rows}
    for rk, row in data.items():
        for ck, v in row.items():
            yield rk, ck, rows.get(rk), cols.get(ck), v


def no_blank_cells(report: Report, ctx: Context) -> list[Finding]:
    """table.blank (R9): data cells must not be blank — 0 is written when there is nothing to report."""
    out = []
    for key in report.tables:
        spec = ctx.spec(report, key)
        if not spec:
            continue
        if spec.layout == "single_row":
            blanks = [
                f"{g.label if g else ''}“{c.label if c else ''}”" for _, _, g, c, v in _cells(report, spec) if v is None
            ]
            if blanks:
                out.append(
                    ctx.finding(
                        "table.blank",
                        key,
                        f"{spec.name}有{len(blanks)}个空白单元格：{'、'.join(blanks)}",
                        {"count": len(blanks)},
                    )
                )
            continue
        for rk, row in report.tables[key].items():
            if None not in row.values():  # (the usual row: one scan in C)
                continue
            label = next((r.display for r in spec.all_rows if r.key == rk), rk)
            cols = [c for c, v in row.items() if v is None]
            n = len(cols)
            out.append(
                ctx.finding(
                    "table.blank",
                    f"{key}/{rk}",
                    f"{spec.name}“{label}”一行有{n}个空白单元格（无数据应填0）",
                    {"count": n, "columns": cols},
                )
            )
    return out


def _valid(value: Any, domain: str) -> bool:
    if isinstance(value, bool):
        return False
    if domain == "count":
        return isinstance(value, int) and value >= 0
    if domain == "signed":
        return isinstance(value, int)
    return isinstance(value, int | float) and value >= 0


def _valid_anywhere(v: Any) -> bool:
    """Blank or a whole number ≥ 0: valid in every domain, so its labels need not be looked up."""
    return v is None or (type(v) is int and v >= 0)


def _all_valid_anywhere(data: dict[str, Any]) -> bool:
    """The usual table: labelling its ~200 cells cost ~0.15 ms a report, for the one cell in a thousand that
    is not valid everywhere."""
    return all(
        _valid_anywhere(v) for value in data.values() for v in (value.values() if type(value) is dict else (value,))
    )


def value_domain(report: Report, ctx: Context) -> list[Finding]:
    """table.invalid (R8): a value that is not a valid number for its cell (text, “/”, negatives, decimals)."""
    out = []
    for key in report.tables:
        spec = ctx.spec(report, key)
        if not spec or _all_valid_anywhere(report.tables[key]):
            continue
        for rk, ck, _rl, cl, v in _cells(report, spec):
            if _valid_anywhere(v) or _valid(v, cl.domain if cl else "count"):
                continue
            where = f"{key}/{rk}:{ck}" if ck else f"{key}/{rk}"
            what = spec.cell_label(rk, ck)
            out.append(ctx.finding("table.invalid", where, f"{spec.name}{what}的值“{v}”不是有效的数字", {"value": v}))
    return out


def describe(ev_cells: tuple[tuple[str, Any], ...], spec_of: dict[str, TableSpec]) -> str:
    """“（七）总计”行“总计”列 153, or grouped: “总计”列：（一）予以公开 26 + （二）部分公开 13 + …"""
    parsed = []
    for path, v in ev_cells:
        prefix = ""
        if path.startswith("previous/"):
            prefix, path = "上年", path.removeprefix("previous/")
        table, _, rest = path.partition("/")
        row, _, col = rest.partition(":")
        parsed.append((prefix, spec_of.get(table), row, col, _fmt(v) if v is not None else "空"))
    if not parsed:
        return ""
    specs = {id(p[1]) for p in parsed}
    if len(parsed) > 1 and len(specs) == 1 and parsed[0][1] is not None and parsed[0][1].layout == "matrix":
        spec = parsed[0][1]
        rows = {p[2] for p in parsed}
        cols = {p[3] for p in parsed}
        if len(rows) == 1 and not any(p[0] for p in parsed):
            head = spec.cell_label(parsed[0][2], "").split("行")[0] + "行："
            return head + " + ".join(f"{_col_label(spec, p[3])} {p[4]}" for p in parsed)
        if len(cols) == 1 and not any(p[0] for p in parsed):
            head = f"“{_col_label(spec, parsed[0][3])}”列："
            return head + " + ".join(f"{_row_label(spec, p[2])} {p[4]}" for p in parsed)
    return " + ".join(f"{p[0]}{p[1].cell_label(p[2], p[3]) if p[1] else p[2]} {p[4]}" for p in parsed)


def _col_label(spec: TableSpec, key: str) -> str:
    return next((c.label for c in spec.columns if c.key == key), key)


def _row_label(spec: TableSpec, key: str) -> str:
    return next((r.display.split("/")[-1] for r in spec.rows if r.key == key), key)


def failure(
    ctx: Context,
    kind: str,
    rule_id: str,
    title: str,
    table: str,
    combo: dict[str, str],
    ev: Evaluation,
    spec_of: dict[str, TableSpec],
    severity: str | None = None,
) -> Finding:
    scope = "、".join(combo.values())
    first = spec_of.get(table)
    name = first.name if first else table
    cols = {c.key: c.label for s in spec_of.values() for c in s.all_columns}
    rows = {r.key: r.display for s in spec_of.values() for r in s.all_rows}
    groups = {g.key: g.label for s in spec_of.values() for g in s.groups}
    human = "、".join(cols.get(v) or rows.get(v) or groups.get(v) or v for v in combo.values())
    where = f"{table}/{rule_id}:{scope}" if scope else f"{table}/{rule_id}"
    msg = (
        f"{name}{rule_id}（{title}）在“{human}”不成立：左边 {_fmt(ev.lhs)}（{describe(ev.lhs_cells, spec_of)}），"
        f"右边 {_fmt(ev.rhs)}（{describe(ev.rhs_cells, spec_of)}）"
    )
    data = {"rule": rule_id, "lhs": ev.lhs, "rhs": ev.rhs, "cells": dict(ev.cells)}
    return ctx.finding(kind, where, msg, data, severity=severity, rule=rule_id)


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def identities(report: Report, ctx: Context) -> list[Finding]:
    """table.sum (R1–R4): the arithmetic identities of the format file must hold (blank cells are skipped)."""
    out = []
    disabled = set(ctx.params.get("disabled_rules", []))
    seen_formats = {fid for fid in report.format_used.values()}
    for fid in sorted(seen_formats):
        fmt = ctx.rules.formats[fid]
        tables_here = {k for k, v in report.format_used.items() if v == fid}
        spec_of = {k: fmt.tables[k] for k in tables_here}
        known: list[dict] = []  # the rows a glob must find: computed on first use, once per format

        def universe(fmt: Any = fmt, known: list[dict] = known) -> dict:
            if not known:
                known.append(fmt.universe(report.tables))
            return known[0]

        for rule in fmt.identities:
            if rule.id in disabled:
                continue
            for combo, ident in rule.formulas:
                used_tables = ident.tables
                if not used_tables <= tables_here:
                    continue
                quick = quick_sides(ident, report.tables, universe)
                if quick is not None and abs(quick[0] - quick[1]) <= rule.tolerance + 1e-9:
                    continue  # holds: nothing to say, no need to collect the cells
                ev = evaluate(ident, report.tables, universe())
                if ev.computable and not ev.holds(rule.tolerance):
                    table = next(iter(sorted(used_tables)))
                    out.append(failure(ctx, rule.kind, rule.id, rule.title, table, combo, ev, spec_of, rule.severity))
    return out
