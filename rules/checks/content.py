"""Checks on the prose: numbers quoted against the tables (R10), copying, fees, wrong year, empty sections.

Prose checks stay advisory where narratives legitimately quote other scopes (lesson 4): every
finding shows the matched phrase and both numbers so a person can judge.
"""

from __future__ import annotations

import re
from typing import Any

from rules.checks.base import Context
from rules.normalize import norm
from rules.report import Finding, Report

_CN = "一二三四五六七八九十"
_PLACEHOLDER = re.compile(r"[(（][^()（）]*文字描述[^()（）]*[)）]")
_BOILERPLATE = ("本报告", "国令第711号", "如对本报告", "统计期限", "统计期间", "以下简称", "条例", "联系")


def _get(tables: dict[str, Any], *path: str) -> Any:
    node: Any = tables
    for p in path:
        if not isinstance(node, dict) or p not in node:
            return None
        node = node[p]
    return node


def _sum(*vals: Any) -> int | None:
    if any(not isinstance(v, int) for v in vals):
        return None
    return sum(vals)


# (name, pattern, expected values from the tables, label)
_PROSE_RULES = [
    (
        "applications/1:total",
        re.compile(r"(?:受理|新收|收到)(?:各类|了)?(?:政府信息公开|依申请公开)?申请(?:共|总计|合计)?(\d+)件"),
        lambda t: [
            _get(t, "applications", "1", "total"),
            _sum(_get(t, "applications", "1", "total"), _get(t, "applications", "2", "total")),
        ],
        "表三“一、本年新收政府信息公开申请数量”总计",
    ),
    (
        "applications/3.7:total",
        re.compile(r"(?:办结|答复|办理完毕)(?:政府信息公开申请|申请)?(?:共)?(\d+)件"),
        lambda t: [_get(t, "applications", "3.7", "total")],
        "表三“（七）总计”",
    ),
    (
        "litigation/review",
        re.compile(r"行政复议(?:案件|申请)?(?:共)?(\d+)件"),
        lambda t: [_get(t, "litigation", "review.total")],
        "表四行政复议“总计”",
    ),
    (
        "litigation/suit",
        re.compile(r"行政诉讼(?:案件)?(?:共)?(\d+)件"),
        lambda t: [
            _sum(_get(t, "litigation", "suit_direct.total"), _get(t, "litigation", "suit_after_review.total")),
            _get(t, "litigation", "suit_direct.total"),
            _get(t, "litigation", "suit_after_review.total"),
        ],
        "表四行政诉讼“总计”",
    ),
]


def prose_numbers(report: Report, ctx: Context) -> list[Finding]:
    """content.prose_mismatch (R10): totals quoted in the prose (受理/答复/复议/诉讼 N 件) differ from tables 三/四."""
    text = norm(report.text)
    out = []
    for where, pattern, expected_fn, label in _PROSE_RULES:
        expected = [v for v in expected_fn(report.tables) if v is not None]
        if not expected:
            continue
        for m in pattern.finditer(text):
            said = int(m.group(1))
            if said not in expected:
                phrase = text[max(0, m.start() - 6) : m.end()]
                out.append(
                    ctx.finding(
                        "content.prose_mismatch",
                        where,
                        f"正文“…{phrase}”写的是{said}件，而{label}为{expected[0]}（正文可能统计口径不同，请核对）",
                        {"phrase": phrase, "prose": said, "table": expected[0]},
                    )
                )
                break
    return out


def _prose(text: str) -> str:
    keep = []
    for line in text.splitlines():
        if len(re.findall(r"\d+", line)) >= 4 and len(re.sub(r"[\d\s]", "", line)) < 30:
            continue  # a table row in the text layer
        keep.append(line)
    sentences = re.split(r"(?<=[。！？；])", norm(_PLACEHOLDER.sub("", "\n".join(keep))))
    body = "".join(s for s in sentences if not any(b in s for b in _BOILERPLATE))
    return re.sub(r"\d+", "#", body)


def _shingles(text: str, k: int = 6) -> set[str]:
    return {text[i : i + k] for i in range(max(0, len(text) - k + 1))}


def duplicate_prose(report: Report, ctx: Context) -> list[Finding]:
    """content.duplicate: a section's prose mostly repeats last year's (重复率); boilerplate and numbers ignored."""
    prev = ctx.previous
    if prev is None:
        return []
    threshold = float(ctx.params.get("threshold", 0.5))
    min_chars = int(ctx.params.get("min_chars", 60))
    sections = set(ctx.params.get("sections", [1, 5, 6]))
    out = []
    for no, text in sorted(report.section_text.items()):
        if no not in sections:  # sections 二–四 are tables: compare prose only (lesson 6)
            continue
        cur, old = _prose(text), _prose(prev.section_text.get(no, ""))
        if len(cur) < min_chars or len(old) < min_chars:
            continue
        a, b = _shingles(cur), _shingles(old)
        ratio = len(a & b) / len(a) if a else 0.0
        if ratio > threshold:
            out.append(
                ctx.finding(
                    "content.duplicate",
                    f"section/{no}",
                    f"第{_CN[no - 1]}部分的文字与上一年度报告重复率为{ratio:.0%}"
                    f"（超过{threshold:.0%}），疑似照搬上年内容",
                    {"ratio": round(ratio, 3), "previous": prev.source},
                )
            )
    return out


def fee_statement(report: Report, ctx: Context) -> list[Finding]:
    """content.fee_statement: an F2021 report's section 六 should state the 信息处理费 collected (or that none was)."""
    if report.format_used.get("applications") != "F2021" or report.format == "F2019":
        return []
    if not any(s.no == 6 and s.found for s in report.sections):
        return []
    text = norm(_PLACEHOLDER.sub("", report.section_text.get(6, "")))
    if "处理费" in text or "收费" in text:
        return []
    return [
        ctx.finding(
            "content.fee_statement",
            "section/6",
            "第六部分“其他需要报告的事项”未说明信息处理费的收取情况（未收取也应说明）",
        )
    ]


_PERIOD = re.compile(r"统计(?:期限|期间|时限|区间|时间|周期)?(?:为|是|自|从)?.{0,4}?((?:19|20)\d{2})年1月1日")
_LEAD_YEAR = re.compile(r"^((?:19|20)\d{2})年(?:度)?[,，]")


def wrong_year(report: Report, ctx: Context) -> list[Finding]:
    """content.wrong_year: the statistics period (or section 一's opening) names another year: copied."""
    if report.year is None:
        return []
    out = []
    text = norm(report.text)
    m = _PERIOD.search(text)
    if m and int(m.group(1)) != report.year:
        out.append(
            ctx.finding(
                "content.wrong_year",
                "document",
                f"报告为{report.year}年度，但统计期限写的是{m.group(1)}年"
                f"（“…{text[m.start() : m.end() + 10]}…”），疑似沿用上年报告",
                {"found": int(m.group(1)), "year": report.year},
            )
        )
    for line in report.section_text.get(1, "").splitlines():
        lm = _LEAD_YEAR.match(norm(line))
        if lm and int(lm.group(1)) == report.year - 1:
            out.append(
                ctx.finding(
                    "content.wrong_year",
                    "section/1",
                    f"第一部分“{line[:30]}…”写的是{lm.group(1)}年，报告年度为{report.year}年",
                    {"found": int(lm.group(1)), "year": report.year},
                )
            )
            break
    return out


def empty_section(report: Report, ctx: Context) -> list[Finding]:
    """content.empty_section: a section with its heading but no substance (e.g. 五 with a heading only)."""
    min_chars = int(ctx.params.get("min_chars", 10))
    out = []
    for s in report.sections:
        if not s.found or s.no in (2, 3, 4):
            continue
        body = norm(_PLACEHOLDER.sub("", report.section_text.get(s.no, "")))
        limit = 1 if s.no == 6 else min_chars  # “六、其他需要报告的事项 无。” is a valid answer
        if len(body) < limit:
            out.append(
                ctx.finding(
                    "content.empty_section",
                    f"section/{s.no}",
                    f"第{_CN[s.no - 1]}部分“{s.heading}”只有标题，没有实际内容",
                )
            )
    return out
