"""Alert items → a Message in Simplified Chinese: subject, plain text, WeCom markdown, e-mail HTML.

Pure and separate from transport, so the wording is tested without a network. Everything that
came from a scraped page (titles, names, URLs, the finding's quoted labels) is untrusted: escaped
for HTML, and neutralised for WeCom markdown so a title cannot inject a link, a colour tag or an
@mention — it arrives as inert text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from notifiers.base import Item, Message

SEVERITY = {"error": "错误", "warning": "警告", "advisory": "提示", "info": "通知"}
_COLOR = {"error": "warning", "warning": "warning", "advisory": "comment", "info": "info"}
_RANK = {"error": 0, "warning": 1, "advisory": 2, "info": 3}

# What happened, per (action, kind); a kind without its own line falls back to the action's.
HEADLINE = {
    ("fire", "deadline.missing"): "逾期未发布年报",
    ("resolve", "deadline.missing"): "已补发年报（此前逾期未发布）",
    ("fire", "portal.unhealthy"): "门户持续无法访问",
    ("resolve", "portal.unhealthy"): "门户已恢复访问",
    ("notice", "report.published"): "发现新发布的年报",
    ("notice", "report.changed"): "年报已被修改",
    ("notice", "report.withdrawn"): "年报已从栏目撤下",
    ("fire", "admin.dead_letter"): "告警无法送达（已转入待处理）",
    ("fire", "admin.channel_broken"): "告警通道不可用，已暂停",
    ("resolve", "admin.channel_broken"): "告警通道已恢复",
    ("fire", "admin.rules_rejected"): "规则配置修改被拒绝",
    ("notice", "admin.rules_accepted"): "规则配置修改已生效",
    ("fire", None): "发现年报问题",
    ("resolve", None): "问题已纠正",
    ("remind", None): "提醒：问题仍未解决",
    ("revoke", None): "规则调整，不再告警",
}

# What to do, per kind: the supervisor's next step.
ADVICE = {
    "deadline.missing": "请联系该机关，督促其尽快在政府信息公开专栏发布年报；如已发布，请核对门户栏目配置。",
    "deadline.late": "逾期已成事实：请记入年度考核，并提醒该机关下一年度按期发布。",
    "deadline.unknown": "页面和正文都没有可靠的发布日期，请人工确认发布时间。",
    "section.missing": "请该机关按法定格式补齐全部六个部分后重新发布。",
    "section.heading": "标题与法定格式不一致，请按格式规范修改。",
    "format.outdated": "请按该年度适用的格式（2021年起为新格式）重新编制。",
    "format.mixed": "报告混用了新旧两种格式，请按适用格式统一修改。",
    "table.missing": "表格缺失或为图片，请以文字表格重新发布。",
    "table.row_missing": "请补齐法定格式要求的行和列。",
    "table.label": "请按法定格式修正表格的行列名称。",
    "table.blank": "空白单元格应填写数字（没有则填 0）。",
    "table.invalid": "请把该单元格改为有效数字。",
    "table.sum": "请该机关核对相关行列的数字，改正后重新发布。",
    "crossyear.carryover": "本年“上年结转”应等于上一年度“结转下年度继续办理”，请核对两年的数据。",
    "crossyear.stock": "请核对与上一年度报告相衔接的数据。",
    "content.prose_mismatch": "正文数字与表格不一致，请核对。",
    "content.duplicate": "正文与上一年度几乎相同，请核实是否照抄。",
    "content.fee_statement": "请在第六部分说明信息处理费的收取情况。",
    "content.wrong_year": "正文年份与报告年度不符，疑似沿用旧稿，请核对。",
    "content.empty_section": "该部分只有标题没有内容，请补充。",
    "source.unreadable": "报告无法完整读取（扫描件、图片或损坏的文件），请人工查看，并建议以文字版发布。",
    "portal.unhealthy": "请检查门户地址是否变更、是否被防火墙或反爬拦截；恢复后会自动通知。",
    "report.withdrawn": "请确认撤下是否有意为之；如为改版，请核对门户栏目配置。",
    "admin.dead_letter": "请检查通道配置；修正后可用 nianbao notify retry 重新发送。",
    "admin.channel_broken": "请检查该通道的密钥或账号（企业微信机器人 key、SMTP 登录），修正配置后会自动补发。",
    "admin.rules_rejected": "修改未生效，仍按上一版规则运行。请按提示修正规则文件。",
}

_MD_SPECIAL = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "#": "＃",
        "~": "～",
        "|": "｜",
        "@": "＠",
        "\\": "＼",
        "\r": " ",
        "\n": " ",
    }
)
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


def md(text: object) -> str:
    """Untrusted text as inert WeCom markdown: syntax characters become their full-width twins."""
    return _CTRL.sub("", str(text)).translate(_MD_SPECIAL).replace("://", "：//")  # no auto-linked URLs


def safe_url(url: str) -> str | None:
    """An http(s) URL with everything that could end a markdown link or an attribute percent-encoded."""
    url = _CTRL.sub("", url.strip())
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return quote(url, safe=":/?&=%#+,;~-._!$'")


def one_line(text: object) -> str:
    """For headers and logs: no CR/LF or control characters (no header injection)."""
    return re.sub(r"\s+", " ", _CTRL.sub("", str(text))).strip()


# What a finding is, in a few words (the headline of its line in a message).
KIND_NAME = {
    "deadline.late": "逾期发布",
    "deadline.unknown": "无法确定发布日期",
    "section.missing": "缺少法定章节",
    "section.heading": "章节标题不规范",
    "format.outdated": "使用了过时的格式",
    "format.mixed": "新旧格式混用",
    "table.missing": "缺少统计表格",
    "table.row_missing": "表格缺行或缺列",
    "table.label": "表格行列名称不规范",
    "table.blank": "表格有空白单元格",
    "table.invalid": "表格数字无效",
    "table.sum": "表格勾稽关系不成立",
    "crossyear.carryover": "与上年结转数据不衔接",
    "crossyear.stock": "与上年存量数据不衔接",
    "content.prose_mismatch": "正文数字与表格不符",
    "content.duplicate": "正文与上年雷同",
    "content.fee_statement": "未说明信息处理费",
    "content.wrong_year": "正文年份有误",
    "content.empty_section": "章节没有内容",
    "source.unreadable": "报告无法完整读取",
}


def headline(item: Item) -> str:
    if item.headline:
        return item.headline
    known = HEADLINE.get((item.action, item.kind))
    if known:
        return known
    name = KIND_NAME.get(item.kind)
    if name and item.action == "resolve":
        return f"已纠正：{name}"
    if name and item.action == "revoke":
        return f"不再告警（规则已调整）：{name}"
    if name:
        return name + ("（仍未解决）" if item.action == "remind" else "")
    return HEADLINE.get((item.action, None)) or "通知"


def _who(item: Item) -> str:
    who = item.body or item.portal or "未识别的机关"
    return who + (f"（{item.region}）" if item.region else "")


def _facts(item: Item) -> list[tuple[str, str, str | None]]:
    """(label, untrusted value, optional link) lines describing one item."""
    out: list[tuple[str, str, str | None]] = [] if item.kind.startswith("admin.") else [("机关", _who(item), None)]
    if item.year:
        out.append(("年度", f"{item.year}年度", None))
    if item.title or item.url:
        out.append(("年报", item.title or item.url, item.url or None))
    if item.message:
        out.append(("问题", item.message, None))
    if item.rule or item.where:
        out.append(("规则", " · ".join(x for x in (item.rule, item.where) if x), None))
    if item.published:
        ev = f"（依据：{item.evidence}）" if item.evidence else ""
        out.append(("发布日期", item.published + ev, None))
    if item.deadline:
        late = f"，逾期 {item.days_late} 天" if item.days_late else ""
        out.append(("法定期限", item.deadline + late, None))
    if item.detail:
        out.append(("详情", item.detail, None))
    if item.alert:
        out.append(("告警编号", item.alert[:8], None))
    if item.since and item.action in ("remind", "resolve"):
        out.append(("首次告警", item.since, None))
    advice = item.advice or ADVICE.get(item.kind)
    if advice and item.action not in ("resolve", "revoke"):
        out.append(("处理建议", advice, None))
    return out


def _subject(items: Sequence[Item], digest: bool) -> str:
    first = items[0]
    year = f"{first.year}年度" if first.year else ""
    if not digest and len(items) > 1 and len({(i.body, i.year) for i in items}) == 1 and first.body:
        lead = next((i for i in items if i.action == "notice"), first)  # "new report" leads its findings
        problems = sum(1 for i in items if i.action in ("fire", "remind") and not i.kind.startswith("report."))
        tail = f"，问题 {problems} 个" if problems else f" 等 {len(items)} 条"
        return one_line(f"【年报监测】{_who(first)}{year}：{headline(lead)}{tail}")
    if digest or len(items) > 1:
        counts: dict[str, int] = {}
        for it in items:
            counts[headline(it)] = counts.get(headline(it), 0) + 1
        tag = "【年报监测汇总】" if digest else "【年报监测】"
        if len(counts) == 1:
            return one_line(f"{tag}{headline(first)} {len(items)} 条")
        top = "，".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:3])
        return one_line(f"{tag}{len(items)} 条：{top}")
    if first.kind.startswith("admin."):
        return one_line(f"【年报监测·管理】{headline(first)}")
    return one_line(f"【年报监测】{headline(first)}：{_who(first)}{year}")


class _Out:
    """The three renderings built side by side, so they always say the same thing."""

    def __init__(self, subject: str) -> None:
        self.text, self.md, self.html = [subject, ""], [f"**{md(subject)}**"], []

    def facts(self, facts: list[tuple[str, str, str | None]]) -> None:
        rows = []
        for label, value, link in facts:
            url = safe_url(link) if link else None
            self.text.append(f"   {label}：{one_line(value)}" + (f" {url}" if url and link != value else ""))
            shown = md(value)
            self.md.append(f"> {label}：[{shown}]({url})" if url else f"> {label}：{shown}")
            hv = html.escape(one_line(value))
            cell = f'<a href="{html.escape(url, quote=True)}">{hv}</a>' if url else hv
            rows.append(f"<tr><th>{html.escape(label)}</th><td>{cell}</td></tr>")
        self.html.append(f"<table>{''.join(rows)}</table>")


_SHARED = ("机关", "年度", "年报")


def render(msg_id: str, items: Sequence[Item], *, digest: bool = False, mentions: Sequence[str] = ()) -> Message:
    """One message for one or more items (a report's findings, a digest), the news first, then the
    worst severity. Facts every item shares (the body, year and report) are said once, at the top."""
    items = sorted(items, key=lambda it: (it.action == "resolve", it.action != "notice", _RANK.get(it.severity, 9)))
    level = min((it.severity for it in items), key=lambda s: _RANK.get(s, 9), default="info")
    subject = _subject(items, digest)
    out = _Out(subject)
    facts = [_facts(it) for it in items]
    shared = [f for f in facts[0] if f[0] in _SHARED and all(f in other for other in facts)] if len(items) > 1 else []
    if shared:
        out.facts(shared)
        out.text.append("")
    for n, (it, its) in enumerate(zip(items, facts, strict=True), start=1):
        sev = SEVERITY.get(it.severity, it.severity)
        out.text.append(f"{n}. [{sev}] {headline(it)}")
        color = "info" if it.action == "resolve" else _COLOR.get(it.severity, "comment")
        out.md.append(f'{n}. <font color="{color}">{sev}</font> **{md(headline(it))}**')
        out.html.append(
            f'<h3 style="margin:16px 0 4px">{n}. <span class="{html.escape(it.severity)}">[{html.escape(sev)}]</span> '
            f"{html.escape(headline(it))}</h3>"
        )
        out.facts([f for f in its if f not in shared])
        out.text.append("")
    footer = f"编号 {msg_id} · nianbao 年报监测（同一编号重复收到即为重发）"
    out.text.append(footer)
    out.md.append(f'<font color="comment">{md(footer)}</font>')
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>'
        + html.escape(subject)
        + "</title><style>body{font-family:sans-serif}th{text-align:left;padding-right:12px;color:#555;"
        "vertical-align:top;white-space:nowrap}.error,.warning{color:#b00}</style></head><body><h2>"
        + html.escape(subject)
        + "</h2>"
        + "".join(out.html)
        + f'<p style="color:#888">{html.escape(footer)}</p></body></html>'
    )
    return Message(
        id=msg_id,
        subject=subject,
        text="\n".join(out.text),
        markdown="\n".join(out.md),
        html=page,
        level=level,
        mentions=tuple(mentions),
    )
