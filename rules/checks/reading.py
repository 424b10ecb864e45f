"""Checks that turn what the reader saw into findings: readability, sections, format, labels, rows."""

from __future__ import annotations

from rules.checks.base import Context
from rules.report import Finding, Report

_CN = "一二三四五六七八九十"


def is_not_a_report(report: Report) -> bool:
    return not any(s.found for s in report.sections) and not report.tables


def readable(report: Report, ctx: Context) -> list[Finding]:
    """source.unreadable: the document or a part of it could not be read (scan, script shell, damaged rows)."""
    out = [ctx.finding("source.unreadable", "document", p) for p in report.problems]
    if is_not_a_report(report) and not report.problems:
        out.append(
            ctx.finding(
                "source.unreadable", "document", "未识别为政府信息公开工作年度报告：没有找到任何规定章节或统计表格"
            )
        )
    out += [ctx.finding(n.kind, n.where, n.message, n.data) for n in report.notes if n.kind == "source.unreadable"]
    return out


def sections_present(report: Report, ctx: Context) -> list[Finding]:
    """section.missing: each of the six statutory sections (条例第五十条) must be present."""
    if is_not_a_report(report) or report.problems:
        return []
    fmt = ctx.rules.formats.get(report.format_used.get("applications", ""))
    headings = {s.no: s.heading for s in fmt.sections} if fmt else {}
    return [
        ctx.finding(
            "section.missing",
            f"section/{s.no}",
            f"缺少第{_CN[s.no - 1]}部分“{_CN[s.no - 1]}、{headings.get(s.no, '')}”",
        )
        for s in report.sections
        if not s.found
    ]


def section_heading(report: Report, ctx: Context) -> list[Finding]:
    """section.heading: a section is present but its heading is not the official wording."""
    fmt = ctx.rules.formats.get(report.format_used.get("applications", ""))
    headings = {s.no: s.heading for s in fmt.sections} if fmt else {}
    return [
        ctx.finding(
            "section.heading",
            f"section/{s.no}",
            f"第{_CN[s.no - 1]}部分标题“{s.heading}”与规定表述不一致，"
            f"规定为“{_CN[s.no - 1]}、{headings.get(s.no, '')}”",
            {"found": s.heading, "expected": headings.get(s.no)},
        )
        for s in report.sections
        if s.found and not s.exact
    ]


def format_version(report: Report, ctx: Context) -> list[Finding]:
    """format.outdated: a report year ≥ 2021 written in F2019 (or a year ≤ 2020 in F2021)."""
    required = ctx.rules.format_for_year(report.year)
    if not required or report.format in ("unknown", "mixed") or report.format == required:
        return []
    return [
        ctx.finding(
            "format.outdated",
            "document",
            f"{report.year}年度报告应使用{required}格式（{ctx.rules.formats[required].title}），"
            f"实际使用了{report.format}格式",
            {"required": required, "found": report.format},
        )
    ]


def format_mixed(report: Report, ctx: Context) -> list[Finding]:
    """format.mixed: tokens or rows of both formats in one report (新旧格式混用)."""
    out = [ctx.finding(n.kind, n.where, n.message, n.data) for n in report.notes if n.kind == "format.mixed"]
    if report.format == "mixed":
        toks = "；".join(f"{k}：{'、'.join(v)}" for k, v in report.format_tokens.items() if v)
        out.insert(
            0,
            ctx.finding(
                "format.mixed",
                "document",
                f"报告混用了新旧两种格式的表格用语（{toks}）",
                {"tokens": report.format_tokens},
            ),
        )
    return out


def tables_present(report: Report, ctx: Context) -> list[Finding]:
    """table.missing (R11): a table announced by its heading but not present as text is “not found”, never zero."""
    if is_not_a_report(report) or report.problems:
        return []
    fmt = ctx.rules.formats.get(report.format_used.get("applications", ""))
    if not fmt:
        return []
    found_sections = {s.no for s in report.sections if s.found}
    out = []
    for key, spec in fmt.tables.items():
        if key in report.tables:
            continue
        if spec.section in found_sections:
            msg = (
                f"第{_CN[spec.section - 1]}部分有标题，但未找到{spec.name}（{spec.title}）的文字表格"
                "（可能以图片、扫描件或附件形式发布），无法核对数据"
            )
        else:
            msg = f"未找到{spec.name}（{spec.title}）"
        out.append(ctx.finding("table.missing", key, msg))
    return out


def rows_present(report: Report, ctx: Context) -> list[Finding]:
    """table.row_missing: a required row or column of a table is absent."""
    return [ctx.finding(n.kind, n.where, n.message, n.data) for n in report.notes if n.kind == "table.row_missing"]


def labels_standard(report: Report, ctx: Context) -> list[Finding]:
    """table.label: a row or column label is damaged or non-standard but was still identified."""
    return [ctx.finding(n.kind, n.where, n.message, n.data) for n in report.notes if n.kind == "table.label"]
