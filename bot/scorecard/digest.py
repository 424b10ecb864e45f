"""The periodic digest of the scorecard: the headline figures per region and the worst offenders, as an
e-mail (with the whole page attached) and a WeCom markdown_v2 table. Pure: a Scorecard in, a Message out.

markdown_v2 is the one WeCom format with tables (no colours, no mentions); every scraped string goes
through md() so a body name cannot break a table row or open a link.
"""

from __future__ import annotations

from html import escape

from bot.scorecard.model import Row, Scorecard
from bot.scorecard.page import headline_sentence
from notifiers.base import Attachment, Message
from notifiers.render import md, one_line, safe_url

_COLUMNS = ("地区", "应发布", "按时", "逾期发布", "逾期未发布", "未到期", "有错误")


def _numbers(card: Scorecard) -> list[list[str]]:
    return [
        [f.region, *(str(n) for n in (f.expected, f.on_time, f.late, f.missing, f.pending, f.with_errors))]
        for f in card.regions
    ]


def offence(row: Row) -> str:
    """Why a body is among the worst, in one short Chinese phrase."""
    parts = []
    if row.state == "missing":
        parts.append(f"逾期 {row.days_late} 天未发布")
    elif row.state == "late":
        parts.append(f"逾期 {row.days_late} 天发布")
    if row.defects:
        parts.append(f"报告错误 {row.defects} 处")
    return "，".join(parts) or row.badge


def markdown_v2(card: Scorecard, worst: list[Row], page_url: str | None, msg_id: str) -> str:
    lines = [
        f"## {card.year}年度年报发布与质量情况（截至 {card.today}）",
        "",
        md(headline_sentence(card.total, card.year)),
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "| :--- |" + " ---: |" * (len(_COLUMNS) - 1),
    ]
    for n, cells in enumerate(_numbers(card)):
        cells = [md(c) for c in cells]
        if n == len(card.regions) - 1:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    if worst:
        lines += ["", f"**问题最突出的 {len(worst)} 个机关**", ""]
        lines += [f"{n}. {md(r.body)}：{md(offence(r))}" for n, r in enumerate(worst, start=1)]
    url = safe_url(page_url) if page_url else None
    lines += ["", f"[查看完整页面]({url})" if url else "完整页面见邮件附件或监测服务器上的 scorecard.html。"]
    lines += ["", f"编号 {msg_id} · nianbao 年报监测周报"]
    return "\n".join(lines)


def _html(card: Scorecard, worst: list[Row], page_url: str | None, msg_id: str, subject: str) -> str:
    head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
    rows = []
    for n, cells in enumerate(_numbers(card)):
        tag = "th" if n == len(card.regions) - 1 else "td"
        rows.append("<tr>" + "".join(f"<{tag}>{escape(c)}</{tag}>" for c in cells) + "</tr>")
    offenders = "".join(f"<li><b>{escape(r.body)}</b>：{escape(offence(r))}</li>" for r in worst)
    url = safe_url(page_url) if page_url else None
    link = f'<p><a href="{escape(url, quote=True)}">在线查看完整页面</a></p>' if url else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>'
        + escape(subject)
        + "</title><style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        "</style></head><body>"
        f"<h2>{escape(subject)}</h2><p>{escape(headline_sentence(card.total, card.year))}</p>"
        f"<table><tr>{head}</tr>{''.join(rows)}</table>"
        + (f"<h3>问题最突出的 {len(worst)} 个机关</h3><ol>{offenders}</ol>" if worst else "")
        + link
        + "<p>完整的发布与质量情况（含每个机关的问题明细，可打印）见附件 HTML 文件，用浏览器打开即可。</p>"
        f'<p style="color:#888">编号 {escape(msg_id)} · nianbao 年报监测</p></body></html>'
    )


def _text(card: Scorecard, worst: list[Row], page_url: str | None, msg_id: str, subject: str) -> str:
    widths = [10, 6, 6, 8, 10, 6, 6]
    lines = [subject, "", headline_sentence(card.total, card.year), ""]
    lines.append("".join(c.ljust(w) for c, w in zip(_COLUMNS, widths, strict=True)))
    lines += ["".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in _numbers(card)]
    if worst:
        lines += ["", "问题最突出的机关："]
        lines += [f"  {n}. {one_line(r.body)}：{offence(r)}" for n, r in enumerate(worst, start=1)]
    url = safe_url(page_url) if page_url else None
    lines += ["", f"完整页面：{url}" if url else "完整页面见附件（HTML 文件，用浏览器打开）。", "", f"编号 {msg_id}"]
    return "\n".join(lines)


def digest_message(
    card: Scorecard, page: str, msg_id: str, *, worst: int = 5, page_url: str | None = None, period: str = "周报"
) -> Message:
    worst_rows = card.worst(worst)
    scope = f"（{card.region}）" if card.region else ""
    subject = one_line(
        f"【年报监测{period}】{card.year}年度{scope}：按时 {card.total.on_time}，逾期 {card.total.late}，"
        f"未发布 {card.total.missing}，有错误 {card.total.with_errors}（共 {card.total.expected} 个机关）"
    )
    v2 = markdown_v2(card, worst_rows, page_url, msg_id)
    return Message(
        id=msg_id,
        subject=subject,
        text=_text(card, worst_rows, page_url, msg_id, subject),
        markdown=v2,  # older clients show markdown_v2 as plain text; ``markdown`` is the fallback field
        html=_html(card, worst_rows, page_url, msg_id, subject),
        level="error" if card.total.missing or card.total.with_errors else "info",
        markdown_v2=v2,
        attachments=(Attachment(f"scorecard-{card.year}.html", "text/html", page.encode("utf-8")),),
    )
