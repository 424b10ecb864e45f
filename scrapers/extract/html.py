"""HTML article pages: text in reading order, data tables as span-expanded grids, page metadata.

Parsed with lxml's HTML parser directly (plain etree elements): BeautifulSoup builds a Python object
per node and made this the slowest step of a check (18 ms for a 10 KB page against 1 ms), while
article pages need no CSS selectors beyond a few ids and classes. (List pages, where selectors
matter, use BeautifulSoup.) Layout tables (one column, or no numbers) are read as text, because many
portals wrap the whole article in them. Script-only shells and challenge pages are recognised, so an
API-driven page is reported as "content not reachable" instead of "all sections missing".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from urllib.parse import urljoin

from lxml import etree

from scrapers.charset import decode
from scrapers.dates import date_in_url, labelled_page_date
from scrapers.document import Cell, Document, Table
from scrapers.extract.grid import expand

_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "dl",
    "hr",
    "center",
    "form",
    "tbody",
    "thead",
    "tfoot",
    "caption",
    "title",
}
_SKIP = {"script", "style", "noscript", "template", "iframe", "object", "svg", "head"}
# where article bodies live on the common CMSs (Hanweb #zoom, TRS .TRS_Editor, …), most specific first
_CONTENT = (
    "#zoom",
    ".TRS_Editor",
    ".TRS_UEDITOR",
    "#UCAP-CONTENT",
    ".article-content",
    "#Zoom",
    ".content",
    "#content",
    "article",
    ".article",
    ".main-txt",
)
_ATTACHMENT = re.compile(r"\.(pdf|docx?|xlsx?|wps|ofd|et)(\?|$)", re.I)
_CHALLENGE = (
    re.compile(r"\$_ts\s*=\s*window\["),
    re.compile(r"wzwschallenge"),
    re.compile(r"__jsluid"),
    re.compile(r"访问异常页面"),
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


_BY_ID = etree.XPath("//*[@id=$name]")
_ID = etree.XPath("id($name)")  # libxml2's table of an HTML document's ids: a lookup, not a scan of the tree
_CLASSED = etree.XPath("//*[@class]")


def _ids_indexed() -> bool:
    """Whether this libxml2 fills the id table when parsing HTML (it has for decades; if a release stops, the
    scan is used — slower, never wrong)."""
    doc = etree.fromstring("<html><body><div id='x'></div></body></html>", etree.HTMLParser())
    return len(_ID(doc, name="x")) == 1


_IDS_INDEXED = _ids_indexed()


def _first_with_id(doc: etree._Element, name: str) -> etree._Element | None:
    """The first element with this id. ``id()`` alone is not it: the table also holds <a name>, and keeps the
    first of duplicates only — the scan settles those (rare) cases. Each scan of a 10 KB page cost ~0.2 ms."""
    if _IDS_INDEXED:
        hit = _ID(doc, name=name)
        if not hit:
            return None
        if hit[0].get("id") == name:
            return hit[0]
    hits = _BY_ID(doc, name=name)
    return hits[0] if hits else None


def _content_candidates(doc: etree._Element) -> Iterator[etree._Element]:
    """The first element each of _CONTENT selects, in _CONTENT's order. The class selectors share one scan
    of the elements that have a class (one XPath per selector cost ~0.45 ms each on a TRS page)."""
    classes: dict[str, etree._Element] | None = None
    for selector in _CONTENT:
        if selector[0] == "#":
            hit = _first_with_id(doc, selector[1:])
        elif selector[0] == ".":
            if classes is None:
                classes = {}
                for el in _CLASSED(doc):
                    for name in el.get("class", "").split():
                        classes.setdefault(name, el)
            hit = classes.get(selector[1:])
        else:
            hit = next(doc.iter(selector), None)
        if hit is not None:
            yield hit


# lxml.html's HtmlElement runs a Python class lookup for every element it hands out (~0.5 ms a report);
# plain etree elements do not, and lxml.html's text_content() is this very XPath
_STRING = etree.XPath("string()", smart_strings=False)
_LOCAL = threading.local()


def _parser() -> etree.HTMLParser:
    """One parser per thread: lxml replicates only its default parser for each thread, and `nianbao run`
    without workers extracts in several threads at once."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = etree.HTMLParser()
    return parser


def _text_content(el: etree._Element) -> str:
    n = len(el)
    if not n:  # no child node (the usual table cell): its own text is all of it, without an XPath call
        return el.text or ""
    if n == 1:  # <td><span>18</span></td>, 商业<br/>企业: one childless element, three strings
        child = el[0]
        if not len(child) and isinstance(child.tag, str):  # (a comment's text is no content)
            return (el.text or "") + (child.text or "") + (child.tail or "")
    return str(_STRING(el))


def _text(el: etree._Element) -> str:
    return " ".join(_text_content(el).split())  # collapsed and stripped: str.split knows \xa0 and \u3000 too


def _span(el: etree._Element, attr: str) -> int:
    value = el.get(attr)
    if value is None:  # the usual cell
        return 1
    try:
        return int(value.strip() or 1)
    except ValueError:
        return 1


_CELL_TAGS = frozenset(("td", "th"))
_ROW_GROUPS = frozenset(("thead", "tbody", "tfoot"))


def _rows(table: etree._Element) -> Iterator[etree._Element]:
    """The table's own rows in document order (./tr|./thead/tr|./tbody/tr|./tfoot/tr) by walking its children:
    an XPath call per table and per row cost ~0.3 ms a report, more than reading the cells."""
    for child in table:
        tag = child.tag
        if tag == "tr":
            yield child
        elif tag in _ROW_GROUPS:
            for tr in child:
                if tr.tag == "tr":
                    yield tr


def _grid(table: etree._Element) -> list[list[Cell]]:
    rows = []
    for tr in _rows(table):
        row: list[tuple[Cell, int, int]] = []
        for td in tr:
            if td.tag not in _CELL_TAGS:  # (a comment's tag is a function: not a cell either)
                continue
            text = (td.text or "") if not len(td) else _text_content(td)  # the usual cell has no child element
            text = " ".join(text.split()) if text else ""
            # most cells have no attribute at all: one keys() call instead of two get()s
            row.append(
                (text or None, 1, 1) if not td.keys() else (text or None, _span(td, "rowspan"), _span(td, "colspan"))
            )
        rows.append(row)
    return expand(rows)


_NUMERIC_CELL = re.compile(r"[\d.,\-/ ]+")


def _is_data_table(rows: list[list[Cell]]) -> bool:
    width = max((len(r) for r in rows), default=0)
    if width >= 4:
        return True
    return width >= 2 and len(rows) >= 2 and any(c and _NUMERIC_CELL.fullmatch(c) for r in rows for c in r)


def _lines(
    top: etree._Element, tables: dict[etree._Element, list[list[Cell]]], part: etree._Element | None = None
) -> tuple[list[str], slice | None]:
    """Text with line breaks only at block elements; data tables contribute one line per row. Also where the
    lines of ``part`` (a block element inside ``top``: the article) are, so one walk serves the page and the
    article — walking both cost ~0.5 ms a report."""
    out: list[str] = []
    buf: list[str] = []
    where: slice | None = None

    def flush() -> None:
        line = " ".join("".join(buf).split())
        if line:
            out.append(line)
        buf.clear()

    def walk(el: etree._Element) -> None:
        nonlocal where
        tag = el.tag if isinstance(el.tag, str) else ""  # lower case: libxml2's HTML parser folds names
        if tag and tag not in _SKIP:
            if el in tables:
                flush()
                out.extend(" ".join(c for c in r if c) for r in tables[el] if any(r))
            else:
                block = tag in _BLOCK
                if block:
                    flush()
                start = len(out)
                if el.text:
                    buf.append(el.text)
                for child in el:
                    walk(child)
                if block:
                    flush()
                if el is part:
                    where = slice(start, len(out))
        if el.tail:
            buf.append(el.tail)

    walk(top)
    flush()
    return out, where


def _article_and_page_lines(
    root: etree._Element, body: etree._Element, tables: dict[etree._Element, list[list[Cell]]]
) -> tuple[list[str], list[str]]:
    """(the article's lines, the whole page's). The article's end with its tail, as a walk of it alone has."""
    if root is body or root.tag not in _BLOCK:
        lines = _lines(root, tables)[0]  # an inline article (a <span id=zoom>): its edges join the page's text
        return lines, lines if root is body else _lines(body, tables)[0]
    page, where = _lines(body, tables, root)
    if where is None:  # not inside <body> after all
        return _lines(root, tables)[0], page
    tail = " ".join((root.tail or "").split())
    return page[where] + ([tail] if tail else []), page


def tree(text: str) -> etree._Element | None:
    """A decoded page as lxml's plain HTML tree (None for a page of comments only). Also the list pages' parse
    (scrapers/portals/anchors.py). An XML declaration is dropped: lxml refuses one in a str."""
    return etree.fromstring(_XML_DECL.sub("", text) or "<html></html>", _parser())


def read(data: bytes, source: str, content_type: str | None = None) -> Document:
    text, _enc = decode(data, content_type)
    doc = tree(text)
    if doc is None:  # what lxml.html.document_fromstring says for a page of comments only
        raise etree.ParserError("Document is empty")
    meta: dict[str, str] = {}
    for m in doc.iter("meta"):
        name = m.get("name") or m.get("property")
        content = m.get("content")
        if name and content and content.strip().lower() not in ("", "null", "none"):
            meta.setdefault(name.strip().lower(), content.strip())
    title = doc.find(".//title")
    if title is not None and _text_content(title).strip():
        meta["html_title"] = _text_content(title).strip()
    for pt in doc.iter("publishtime"):
        if _text_content(pt).strip():
            meta.setdefault("publishtime", _text_content(pt).strip())
    body = doc.find("body")
    body = body if body is not None else doc

    root = next((el for el in _content_candidates(doc) if len(_text(el)) >= 80), body)

    data_tables: dict[etree._Element, list[list[Cell]]] = {}
    tables: list[Table] = []
    for t in root.iter("table"):
        if t.find(".//table") is not None:  # a layout table holding other tables: read its children
            continue
        grid = _grid(t)
        if _is_data_table(grid):
            data_tables[t] = grid
            tables.append(Table(rows=tuple(tuple(r) for r in grid)))
    lines, page_lines = _article_and_page_lines(root, body, data_tables)

    found = labelled_page_date("\n".join(page_lines))
    if found:
        meta["page_date"] = found[0].isoformat()
        meta["page_date_text"] = found[1]
    url_date = date_in_url(source)
    if url_date:
        meta["url_date"] = url_date.isoformat()
    attachments = [a.get("href", "").strip() for a in root.iter("a") if _ATTACHMENT.search(a.get("href", ""))]
    if attachments:
        base = source if "://" in source else ""
        meta["attachments"] = "\n".join(dict.fromkeys(urljoin(base, h) if base else h for h in attachments))

    problems: list[str] = []
    visible = sum(len(x) for x in page_lines)
    scripts = sum(1 for _ in doc.iter("script"))
    if visible < 400 and any(p.search(text[:20000]) for p in _CHALLENGE):  # (a report is longer: no search)
        problems.append("网站返回了反爬虫验证页面（瑞数/加速乐等），未取得报告正文")
    elif visible < 150 and scripts >= 1:
        problems.append("页面是脚本外壳（内容由脚本或接口加载），未能取得报告正文")
    return Document(
        source=source, kind="html", lines=tuple(lines), tables=tuple(tables), meta=meta, problems=tuple(problems)
    )
