"""The statutory deadline: published on time? Never guessed — no evidence means deadline.unknown."""

from __future__ import annotations

from datetime import timedelta

from rules.checks.base import Context
from rules.report import BODY_TYPE_LABELS, EVIDENCE_LABELS, Finding, Report


def deadline(report: Report, ctx: Context) -> list[Finding]:
    """deadline.late: published after the body type's deadline (+ grace_days); deadline.unknown: no evidence."""
    if report.year is None:
        return [
            ctx.finding(
                "deadline.unknown",
                "document",
                "无法确定报告年度，因此无法判断是否按时发布",
                severity=ctx.params.get("unknown_severity", "advisory"),
            )
        ]
    due = ctx.rules.deadline(report.year, report.body_type, report.region)
    pub = report.published
    if pub.date is None:
        return [
            ctx.finding(
                "deadline.unknown",
                "document",
                f"未找到发布日期（页面元数据、发布日期、落款日期均无），无法判断是否在{due.isoformat()}前发布",
                {"deadline": due.isoformat()},
                severity=ctx.params.get("unknown_severity", "advisory"),
            )
        ]
    grace = int(ctx.params.get("grace_days", 0))
    if pub.date > due + timedelta(days=grace):
        days = (pub.date - due).days
        kind = BODY_TYPE_LABELS.get(report.body_type or "", "该机关")
        return [
            ctx.finding(
                "deadline.late",
                "document",
                f"{report.year}年度报告于{pub.date.isoformat()}发布"
                f"（依据：{EVIDENCE_LABELS.get(pub.evidence or '', pub.evidence)}），"
                f"晚于{kind}的法定期限{due.isoformat()}，逾期{days}天",
                {
                    "published": pub.date.isoformat(),
                    "deadline": due.isoformat(),
                    "days_late": days,
                    "evidence": pub.evidence,
                },
            )
        ]
    return []
