"""HTML article pages: text in reading order, data tables as span-expanded grids, page metadata.

Layout tables (one column, or no numbers) are read as text, because many portals wrap the whole
article in them. Script-only shells and challenge pages are recognised, so an API-driven page is
reported as "content not reachable" instead of "all sections missing".
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import BeautifulSoup, NavigableString, Tag

from scrapers.charset import decode
from scrapers.dates import date_in_url, labelled_page_date
from scrapers.document import Cell, Document, Table
from scrapers.extract.grid import expand

_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "section",
    "article", "header", "footer", "blockquote", "pre", "dd", "dt", "dl", "hr", "center", "form",
}
_SKIP = {"script", "style", "noscript", "template", "iframe", "object", "svg", "head"}
_CONTENT_SELECTORS = ("#zoom", ".TRS_Editor", ".TRS_UEDITOR", "#UCAP-CONTENT", ".article-content",
                      ".content", "#content", "article", ".article", ".main-txt", "#Zoom")
_ATTACHMENT = re.compile(r"\.(pdf|docx?|xlsx?|wps|ofd|et)(\?|$)", re.I)
_CHALLENGE = (re.compile(r"\$_ts\s*=\s*window\["), re.compile(r"wzwschallenge"), re.compile(r"__jsluid"),
              re.compile(r"访问异常页面"))


def _span(tag: Tag, attr: str) -> int:
    try:
        return int(str(tag.get(attr, "1")).strip() or 1)
    except ValueError:
        return 1


def _text_of(node: Tag) -> str:
    return " ".join(_lines_of(node)).strip()


def _lines_of(node: Tag | NavigableString) -> list[str]:
    """Text of a subtree with line breaks only at block elements (inline spans stay joined)."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = "".join(buf).replace("\xa0", " ").replace("\u3000", " ").strip()
        if line:
            out.append(re.sub(r"[ \t\r\n]+", " ", line))
        buf.clear()

    def walk(n: Tag | NavigableString) -> None:
        if isinstance(n, NavigableString):
            if type(n).__name__ in ("Comment", "CData", "ProcessingInstruction", "Doctype", "Declaration"):
                return
            buf.append(str(n))
            return
        if n.name in _SKIP:
            return
        block = n.name in _BLOCK or n.name in ("td", "th")
        if block:
            flush()
        for child in n.children:
            walk(child)
        if block:
            flush()

    walk(node)
    flush()
    return out


def _is_data_table(rows: list[list[Cell]]) -> bool:
    width = max((len(r) for r in rows), default=0)
    digits = sum(1 for r in rows for c in r if c and re.fullmatch(r"[\d.,\-/ ]+", c))
    return width >= 2 and len(rows) >= 2 and digits >= 1 or width >= 4


def _grid(table: Tag) -> list[list[Cell]]:
    rows = []
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        cells = []
        for td in tr.find_all(["td", "th"], recursive=False):
            txt = _text_of(td)
            cells.append((txt or None, _span(td, "rowspan"), _span(td, "colspan")))
        rows.append(cells)
    return expand(rows)


def read(data: bytes, source: str, content_type: str | None = None) -> Document:
    text, _enc = decode(data, content_type)
    soup = BeautifulSoup(text, "lxml")
    meta: dict[str, str] = {}
    for m in soup.find_all("meta"):
        name = m.get("name") or m.get("property")
        content = m.get("content")
        if name and content and str(content).strip().lower() not in ("", "null", "none"):
            meta.setdefault(str(name).strip().lower(), str(content).strip())
    if soup.title and soup.title.string:
        meta["html_title"] = soup.title.string.strip()
    publishtime = soup.find("publishtime")
    if publishtime and publishtime.get_text(strip=True):
        meta.setdefault("publishtime", publishtime.get_text(strip=True))

    body = soup.body or soup
    page_lines = _lines_of(body)
    found = labelled_page_date("\n".join(page_lines))
    if found:
        meta["page_date"] = found[0].isoformat()
        meta["page_date_text"] = found[1]
    url_date = date_in_url(source)
    if url_date:
        meta["url_date"] = url_date.isoformat()

    root: Tag = body
    for sel in _CONTENT_SELECTORS:
        hit = soup.select_one(sel)
        if hit is not None and len(_text_of(hit)) >= 80:
            root = hit
            break

    attachments = []
    for a in root.find_all("a", href=True):
        href = str(a["href"]).strip()
        if _ATTACHMENT.search(href):
            attachments.append(urljoin(source, href) if "://" in source else href)
    if attachments:
        meta["attachments"] = "\n".join(dict.fromkeys(attachments))

    tables: list[Table] = []
    for t in root.find_all("table"):
        if t.find("table"):  # a layout table holding other tables: its children are read instead
            continue
        grid = _grid(t)
        if _is_data_table(grid):
            tables.append(Table(rows=tuple(tuple(r) for r in grid)))
            t.replace_with(soup.new_string("\n".join(" ".join(c for c in r if c) for r in grid)))
    lines = _lines_of(root)

    problems: list[str] = []
    raw = text[:20000]
    visible = sum(len(x) for x in page_lines)
    if any(p.search(raw) for p in _CHALLENGE) and visible < 400:
        problems.append("网站返回了反爬虫验证页面（瑞数/加速乐等），未取得报告正文")
    elif visible < 150 and len(soup.find_all("script")) >= 1:
        problems.append("页面是脚本外壳（内容由脚本或接口加载），未能取得报告正文")
    return Document(source=source, kind="html", lines=tuple(lines), tables=tuple(tables), meta=meta,
                    problems=tuple(problems))
