"""Inline SVG charts for the scorecard: no script, no external asset, prints as sharp as the text.

Only numbers and our own labels go into coordinates; every text node is escaped, so a body name cannot
become markup. Colours are attributes (no style attributes), which keeps the page's CSP strict.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from bot.scorecard.model import Scorecard

GREEN, ORANGE, RED, GREY, INK = "#2e7d32", "#ef6c00", "#c62828", "#9e9e9e", "#333"


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11, fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def publication_chart(card: Scorecard, width: int = 760, height: int = 220) -> str:
    """Reports published per day (stacked: on time / late) from 1 January, with each deadline drawn."""
    dated = [(date.fromisoformat(r.published), r.state) for r in card.rows if r.published]
    deadlines = sorted({date.fromisoformat(r.deadline) for r in card.rows})
    start = date(card.year + 1, 1, 1)
    last = max([d for d, _ in dated] + deadlines + [start + timedelta(days=59)])
    end = last + timedelta(days=7)
    days = (end - start).days or 1
    left, right, top, bottom = 36, 12, 18, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    per_day: dict[date, list[int]] = {}
    for d, state in dated:
        if d < start:
            d = start  # published early (before 1 January): shown on the first day
        bucket = per_day.setdefault(d, [0, 0, 0])
        bucket[{"on_time": 0, "late": 1}.get(state, 2)] += 1
    peak = max((sum(v) for v in per_day.values()), default=1) or 1
    bar = max(1.0, plot_w / days - 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(f"{card.year}年度年报发布日期分布")}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{INK}"/>',
        _text(left - 4, top + 8, str(peak), "end"),
        _text(left - 4, top + plot_h, "0", "end"),
    ]

    def x_of(d: date) -> float:
        return left + (d - start).days * plot_w / days

    for d, (ok, late, other) in sorted(per_day.items()):
        y = top + plot_h
        for n, colour in ((ok, GREEN), (late, ORANGE), (other, GREY)):
            if n:
                h = n * plot_h / peak
                y -= h
                out.append(
                    f'<rect x="{x_of(d):.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{escape(f'{d.isoformat()}：{n} 份')}</title></rect>"
                )
    month = start
    while month <= end:
        out.append(_text(x_of(month), top + plot_h + 14, f"{month.month}月", "middle", 10))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    for n, due in enumerate(deadlines):
        x = x_of(due)
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{RED}" '
            'stroke-dasharray="4 3"/>'
        )
        out.append(_text(x + 3, top + 4 + 12 * n, f"期限 {due.month}月{due.day}日", "start", 10, RED))
    legend_y = height - 8
    for n, (label, colour) in enumerate((("按时发布", GREEN), ("逾期发布", ORANGE), ("日期不明/提前", GREY))):
        x = left + n * 120
        out.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, legend_y, label, size=10))
    missing = card.total.missing
    if missing:
        out.append(_text(left + plot_w, legend_y, f"另有 {missing} 个机关逾期未发布", "end", 10, RED))
    out.append("</svg>")
    return "".join(out)


def kinds_chart(card: Scorecard, width: int = 760, limit: int = 12) -> str:
    """Error and warning kinds by number of findings (the bodies affected beside each bar)."""
    kinds = card.kinds[:limit]
    if not kinds:
        return '<p class="none">未发现错误或警告。</p>'
    row_h, label_w, right = 22, 190, 120
    height = row_h * len(kinds) + 8
    peak = max(n for _, _, n, _ in kinds) or 1
    plot_w = width - label_w - right
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="问题类型统计">'
    ]
    for i, (kind, name, n, bodies) in enumerate(kinds):
        y = 4 + i * row_h
        w = max(2.0, n * plot_w / peak)
        colour = ORANGE if kind.startswith("deadline.") else RED
        out.append(_text(label_w - 6, y + 14, name, "end"))
        out.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}">'
            f"<title>{escape(kind)}</title></rect>"
        )
        out.append(_text(label_w + w + 6, y + 14, f"{n} 处 · {bodies} 个机关"))
    out.append("</svg>")
    return "".join(out)
