"""The scorecard as ONE self-contained HTML file: inline CSS, inline SVG, a few lines of plain script.

It is forwarded, opened from disk, printed and stamped, so nothing may depend on a network or a server.
Everything scraped (titles, body names, messages, URLs) is escaped here, and the page carries a Content
Security Policy allowing only its own script and stylesheet by hash: even a mistake in escaping could
not make a report's title run script (inline handlers such as ``onerror`` are blocked by it too).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from html import escape
from pathlib import Path

from bot.scorecard.charts import kinds_chart, publication_chart
from bot.scorecard.model import STATES, Figures, Row, Scorecard
from notifiers.render import SEVERITY, safe_url
from rules.report import BODY_TYPE_LABELS

_HERE = Path(__file__).resolve().parent


@cache
def _asset(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def csp(css: str, js: str) -> str:
    return (
        f"default-src 'none'; style-src '{_sha256(css)}'; script-src '{_sha256(js)}'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _a(text: str) -> str:
    return escape(text, quote=True)


def _figures_table(card: Scorecard) -> str:
    head = (
        "<tr><th>地区</th><th class=num>应发布机关</th><th class=num>已发布</th><th class=num>按时发布</th>"
        "<th class=num>逾期发布</th><th class=num>逾期未发布</th><th class=num>未到期</th>"
        "<th class=num>报告有错误</th><th class=num>按时率</th></tr>"
    )
    body = []
    for f in card.regions:
        due = f.expected - f.pending
        rate = f"{f.on_time * 100 / due:.0f}%" if due else "—"
        cls = ' class="total"' if f is card.total else ""
        body.append(
            f"<tr{cls}><td>{escape(f.region)}</td>"
            + "".join(
                f"<td class=num>{n}</td>"
                for n in (f.expected, f.published, f.on_time, f.late, f.missing, f.pending, f.with_errors)
            )
            + f"<td class=num>{rate}</td></tr>"
        )
    return f'<table class="figures"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def _options(values: list[tuple[str, str]]) -> str:
    return '<option value="">全部</option>' + "".join(
        f'<option value="{_a(v)}">{escape(label)}</option>' for v, label in values
    )


def _filters(card: Scorecard) -> str:
    regions = sorted({r.region for r in card.rows})
    types = sorted({r.body_type for r in card.rows})
    states = [(s, STATES[s][0]) for s in sorted(STATES, key=lambda s: STATES[s][1])] + [("errors", "报告有错误")]
    return (
        '<div class="filters no-print">'
        f'<label>地区 <select id="f-region">{_options([(r, r or "未分地区") for r in regions])}</select></label>'
        f'<label>机关类型 <select id="f-type">'
        f"{_options([(t, BODY_TYPE_LABELS.get(t, t)) for t in types])}</select></label>"
        f'<label>状态 <select id="f-status">{_options(states)}</select></label>'
        '<label>搜索 <input id="f-text" type="search" placeholder="机关名称"></label>'
        f'<span id="shown">共 {len(card.rows)} 个机关</span></div>'
    )


def _counts(row: Row) -> str:
    if row.report_id is None:
        return '<span class="sub">—</span>'
    parts = []
    for sev in ("error", "warning", "advisory"):
        n = row.counts.get(sev, 0)
        if n:
            parts.append(f'<span class="sev-{sev}">{SEVERITY[sev]} {n}</span>')
    return " ".join(parts) or '<span class="s-on_time">无问题</span>'


def _row(n: int, row: Row) -> str:
    url = safe_url(row.url) if row.url else None
    detail = f"d-{n}" if row.problems else ""
    links = []
    if url:
        links.append(f'<a href="{_a(url)}" target="_blank" rel="noopener noreferrer">原文</a>')
    if detail:
        links.append(f'<a href="#{detail}">详情</a>')
    badges = f'<span class="badge s-{row.state}">{row.badge}</span>'
    if row.has_errors:
        badges += '<span class="badge s-errors">有错误</span>'
    days = ""
    if row.days_late:
        days = f'<span class="late-days">{row.days_late}</span>'
    published = escape(row.published or "—")
    if row.published and row.evidence:
        published += f'<div class="sub">依据：{escape(row.evidence_label)}</div>'
    title = f'<div class="sub title">{escape(row.title)}</div>' if row.title else ""
    data = {
        "name": row.body,
        "region": row.region,
        "type": row.body_type,
        "status": row.state,
        "rank": str(STATES[row.state][1]),
        "published": row.published or "",
        "deadline": row.deadline,
        "days": "" if row.days_late is None else str(row.days_late),
        "errors": str(row.defects),
        "detail": detail,
    }
    attrs = " ".join(f'data-{k}="{_a(v)}"' for k, v in data.items())
    return (
        f"<tr {attrs}><td><b>{escape(row.body)}</b>{title}</td>"
        f"<td>{escape(row.region or '—')}<div class=sub>{escape(row.body_type_label)}</div></td>"
        f"<td>{badges}</td><td>{published}</td><td>{escape(row.deadline)}</td><td class=num>{days}</td>"
        f"<td>{_counts(row)}</td><td>{' '.join(links)}</td></tr>"
    )


def _table(card: Scorecard) -> str:
    cols = [
        ("name", "", "机关", "body"),
        ("region", "", "地区 / 类型", "region"),
        ("rank", "num", "状态", "state"),
        ("published", "", "发布日期", "date"),
        ("deadline", "", "法定期限", "due"),
        ("days", "num", "逾期天数", "days"),
        ("errors", "num", "问题", "count"),
        ("", "", "链接", "links"),
    ]
    widths = "".join(f'<col class="c-{c}">' for *_, c in cols)
    head = "".join(
        f'<th data-key="{k}" data-type="{t}">{label}</th>' if k else f"<th>{label}</th>" for k, t, label, _ in cols
    )
    body = "".join(_row(n, r) for n, r in enumerate(card.rows, start=1))
    return f'<table id="rows"><colgroup>{widths}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _details(card: Scorecard) -> str:
    out = []
    for n, row in enumerate(card.rows, start=1):
        if not row.problems:
            continue
        url = safe_url(row.url) if row.url else None
        link = f' <a href="{_a(url)}" target="_blank" rel="noopener noreferrer">原文</a>' if url else ""
        items = []
        for p in row.problems:
            cells = ""
            if p.cells:
                cells = (
                    '<table class="cells">'
                    + "".join(f"<tr><td><code>{escape(k)}</code></td><td>{escape(v)}</td></tr>" for k, v in p.cells)
                    + "</table>"
                )
            items.append(
                f'<li><span class="sev-{_a(p.severity)}">[{escape(SEVERITY.get(p.severity, p.severity))}]</span> '
                f"<b>{escape(p.kind_name)}</b> <code>{escape(p.where)}</code><br>{escape(p.message)}{cells}</li>"
            )
        out.append(
            f'<article id="d-{n}"><h3>{escape(row.body)} · {row.year}年度 '
            f'<span class="badge s-{row.state}">{row.badge}</span></h3>'
            f'<div class="sub title">{escape(row.title or "")}{link}</div><ol>{"".join(items)}</ol></article>'
        )
    return "".join(out) or '<p class="none">没有需要列出的问题。</p>'


def headline_sentence(total: Figures, year: int) -> str:
    due = total.expected - total.pending
    return (
        f"{year}年度应发布年报的机关 {total.expected} 个：按时发布 {total.on_time} 个，逾期发布 {total.late} 个，"
        f"逾期未发布 {total.missing} 个，未到期 {total.pending} 个；已发布的报告中 {total.with_errors} 份有错误。"
        + (f"按时率 {total.on_time * 100 / due:.0f}%。" if due else "")
    )


def render_page(card: Scorecard, title: str = "") -> str:
    css, js = _asset("page.css"), _asset("page.js")
    scope = f"（{card.region}）" if card.region else ""
    heading = (title.replace("{year}", str(card.year)) + scope) if title else ""
    heading = heading or f"{card.year}年度政府信息公开工作年度报告发布与质量情况{scope}"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp(css, js)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="nianbao">'
        f"<title>{escape(heading)}</title><style>{css}</style></head><body>"
        f"<header><h1>{escape(heading)}</h1>"
        f'<p class="meta">生成时间 {escape(card.generated)}（北京时间）· 统计截至 {escape(card.today)} · '
        "依据《中华人民共和国政府信息公开条例》第五十条 · nianbao 年报监测自动生成</p></header>"
        f'<p id="summary">{escape(headline_sentence(card.total, card.year))}</p>'
        f'<section id="headline"><h2>一、总体情况</h2>{_figures_table(card)}</section>'
        f'<section id="dates"><h2>二、发布日期与法定期限</h2>{publication_chart(card)}</section>'
        f'<section id="kinds"><h2>三、问题类型</h2>{kinds_chart(card)}</section>'
        f'<section id="bodies"><h2>四、各机关情况</h2>{_filters(card)}{_table(card)}</section>'
        f'<section id="details"><h2>五、问题明细</h2>{_details(card)}</section>'
        '<div class="stamp"><span>审核人：</span><span>（盖章）</span><span>日期：</span></div>'
        "<footer>状态说明：按时发布 = 发布日期不晚于法定期限；逾期发布 = 晚于期限；逾期未发布 = 期限已过仍未找到；"
        "未到期 = 期限未到且尚未发布；日期不明 = 找到报告但无法确定发布日期。“报告有错误”不含逾期本身。</footer>"
        f"<script>{js}</script></body></html>"
    )
