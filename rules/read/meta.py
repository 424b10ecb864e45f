"""Title, body, body type, report year and publication evidence, from metadata first, then text."""

from __future__ import annotations

import re
from datetime import date

from rules.normalize import norm, to_simplified
from rules.report import Published
from scrapers.dates import parse_date
from scrapers.document import Document

_REPORT_WORDS = re.compile(r"(政府信息公开|政务公开|信息公开)(工作)?(的)?年度?报告")
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?")
_ORG_END = (
    "政府",
    "局",
    "委员会",
    "办事处",
    "办公室",
    "中心",
    "院",
    "所",
    "厅",
    "部",
    "委",
    "街道",
    "管委会",
    "署",
    "会",
    "处",
    "站",
    "队",
    "公司",
    "集团",
    "镇",
    "乡",
)


def _clean_title(t: str) -> str:
    t = re.split(r"[_|]| - |—", t)[0] if len(t) > 25 and _REPORT_WORDS.search(norm(t)) else t
    return re.sub(r"\s+", "", t).strip()


def infer_title(doc: Document) -> str | None:
    for key in ("articletitle", "docx_title", "html_title"):
        t = doc.meta.get(key)
        if t and _REPORT_WORDS.search(norm(t)):
            return to_simplified(_clean_title(t))
    for i, line in enumerate(doc.lines[:15]):
        n = norm(line)
        if _REPORT_WORDS.search(n) and len(n) <= 80:
            title = line.strip()
            prev = doc.lines[i - 1].strip() if i else ""
            needs_body = _TITLE_YEAR.match(n) or not _body_from_title(to_simplified(norm(title)))
            if needs_body and prev and norm(prev).endswith(_ORG_END) and len(norm(prev)) <= 40:
                title = prev + title
            return to_simplified(re.sub(r"\s+", "", title))
    return None


def _body_from_title(title: str) -> str | None:
    t = norm(title)
    for pat in (
        r"^(?P<b>.+?)关于(?P<y>\d{4})年度?.*报告",
        r"^(?P<b>.+?)(?P<y>\d{4})年度?",
        r"^(?P<y>\d{4})年度?(?P<b>.+?)(政府信息公开|政务公开|信息公开)",
    ):
        m = re.match(pat, t)
        if m and m.group("b"):
            b = re.sub(r"(关于|的)$", "", m.group("b"))
            if len(b) >= 2 and not _REPORT_WORDS.search(b):
                return b
    return None


def infer_body(title: str | None, doc: Document) -> str | None:
    if title:
        b = _body_from_title(title)
        if b:
            return to_simplified(b)
    # the signature (落款) above the date at the end of the report
    tail = list(doc.lines[-6:])
    for i in range(len(tail) - 1, 0, -1):
        if parse_date(tail[i]) and norm(tail[i - 1]).endswith(_ORG_END) and len(norm(tail[i - 1])) <= 40:
            return to_simplified(norm(tail[i - 1]))
    return None


def infer_body_type(body: str | None) -> str | None:
    if not body:
        return None
    b = norm(body)
    if re.search(r"街道(办事处|办)?$|街道办事处", b):
        return "subdistrict"
    if re.search(r"(镇|乡)(人民政府|政府)$", b):
        return "township"
    if re.search(r"(省|市|区|县|自治州|州|盟|旗|自治县)(人民政府|政府)$", b):
        return "government"
    return "department"


def infer_year(title: str | None, text: str) -> int | None:
    if title:
        m = _TITLE_YEAR.search(norm(title))
        if m:
            return int(m.group(1))
    n = norm(text[:3000])
    m = re.search(r"统计(期限|期间|时限|区间)?.{0,8}?((?:19|20)\d{2})年1月1日", n)
    if m:
        return int(m.group(2))
    m = re.search(r"((?:19|20)\d{2})年度?政府信息公开", n)
    return int(m.group(1)) if m else None


def signature_date(doc: Document) -> tuple[date, str] | None:
    """The date under the signature (落款) in the last lines."""
    for line in reversed(doc.lines[-5:]):
        if len(norm(line)) <= 20:
            d = parse_date(norm(line)) or parse_date(line)
            if d:
                return d, line.strip()
    return None


def publication(doc: Document, given: date | None = None) -> Published:
    """Strongest evidence first: given, PubDate meta, the page's 发布日期, the list page's date, the first
    time the bot saw it, a date in the URL, the signature date (落款)."""
    if given:
        return Published(given, "given")
    for key in ("pubdate", "publishtime", "firstpublishtime", "publishdate"):
        if doc.meta.get(key):
            d = parse_date(doc.meta[key])
            if d:
                return Published(d, "meta", f"{key}={doc.meta[key]}")
    if doc.meta.get("page_date"):
        return Published(date.fromisoformat(doc.meta["page_date"]), "page", doc.meta.get("page_date_text"))
    if doc.meta.get("list_date"):
        return Published(date.fromisoformat(doc.meta["list_date"]), "list", None)
    if doc.meta.get("first_seen"):
        return Published(date.fromisoformat(doc.meta["first_seen"]), "first_seen", None)
    if doc.meta.get("url_date"):
        return Published(date.fromisoformat(doc.meta["url_date"]), "url", doc.source)
    sig = signature_date(doc)
    if sig:
        return Published(sig[0], "signature", sig[1])
    return Published(None, None)
