"""The body × year matrix a supervisor asks for: on time, late, missing or pending, and defects."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.config import Config
from bot.store import Store
from bot.summary import pad
from rules.config import RuleSet

LABELS = {"on_time": "按时", "late": "逾期", "missing": "未发布", "pending": "未到期", "unknown": "日期不明"}


def matrix(
    config: Config, store: Store, rules: RuleSet, today: date, years: tuple[int, ...] | None = None
) -> list[dict[str, Any]]:
    rows = []
    years = years or config.watched_years(today)
    for portal in config.portals:
        for body in portal.bodies:
            for year in years:
                due = rules.deadline(year, body.body_type, body.region)
                rep = store.first_report(body.name, year)
                grace = timedelta(days=config.deadline_grace_days)
                if rep is None:
                    state = "missing" if today > due + grace else "pending"
                elif not rep["published"]:
                    state = "unknown"
                else:
                    state = "late" if date.fromisoformat(rep["published"]) > due + grace else "on_time"
                rows.append(
                    {
                        "body": body.name,
                        "body_type": body.body_type,
                        "region": body.region,
                        "year": year,
                        "portal": portal.name,
                        "deadline": due.isoformat(),
                        "state": state,
                        "published": rep["published"] if rep else None,
                        "evidence": rep["evidence"] if rep else None,
                        "errors": rep["errors"] if rep else None,
                        "warnings": rep["warnings"] if rep else None,
                        "advisories": rep["advisories"] if rep else None,
                        "report_id": rep["id"] if rep else None,
                        "title": rep["title"] if rep else None,
                        "url": rep["url"] if rep else None,
                    }
                )
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    out = [
        "  "
        + pad("机关", 26)
        + pad("年度", 6)
        + pad("状态", 10)
        + pad("发布日期", 12)
        + pad("期限", 12)
        + "错误 警告  报告"
    ]
    for r in rows:
        errs = "" if r["errors"] is None else f"{r['errors']:>4} {r['warnings']:>4}"
        out.append(
            "  "
            + pad(r["body"], 26)
            + pad(str(r["year"]), 6)
            + pad(LABELS[r["state"]], 10)
            + pad(r["published"] or "-", 12)
            + pad(r["deadline"], 12)
            + pad(errs, 10)
            + (f"#{r['report_id']}" if r["report_id"] else "")
        )
    return "\n".join(out)
