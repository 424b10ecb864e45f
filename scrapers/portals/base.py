"""Portal kinds: how to find 年报 links on a portal's list pages. One small module per CMS kind.

A kind turns list pages into ReportLinks and says whether its discovery was *complete*: a
challenge page, an error or an empty shell on any list page makes it incomplete, so the pipeline
never reads a blocked portal as "no new reports" or "report withdrawn".
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urljoin

from scrapers.charset import decode
from scrapers.dates import parse_date
from scrapers.net import Fetcher, FetchResult
from scrapers.portals.anchors import anchors

_REPORT = re.compile(r"(政府信息公[开開]|政[务務]公[开開]|信息公[开開]).{0,8}(年度[报報]告|年[报報])")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_LIST_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


@dataclass(frozen=True)
class ReportLink:
    url: str
    title: str
    year: int | None
    list_date: date | None
    portal: str

    @functools.cached_property
    def entry(self) -> str:
        """What the list says about this report, as one line of the list hash. Cached: links of an unchanged
        list page are the very objects of the last cycle (links_from_html remembers them)."""
        return f"{self.url}|{self.title}|{self.list_date}"


@dataclass
class Discovery:
    links: list[ReportLink] = field(default_factory=list)
    pages: list[tuple[str, str]] = field(default_factory=list)  # (url, fetch status) of every list page
    complete: bool = True  # every list page answered: False on any failure (portal health counts it)
    truncated: bool = False  # pagination stopped at max_pages: older items unseen, so absence proves nothing
    problem: str | None = None  # the first failure, in Chinese, for portal health

    @property
    def list_hash(self) -> str:
        """What the list says (links, titles, dates): unchanged hash + recent reconcile = nothing to fetch,
        even on servers that send no ETag / Last-Modified."""
        items = sorted(x.entry for x in self.links)
        return hashlib.sha256("\n".join(items).encode()).hexdigest()[:16]

    def failed(self, res: FetchResult, what: str) -> None:
        self.pages.append((res.url, res.status))
        self.complete = False
        if self.problem is None:
            detail = res.error or (f"HTTP {res.http_status}" if res.http_status else "")
            self.problem = f"{what}：{res.status}{('（' + detail + '）') if detail else ''}"


def merge(parts: list[Discovery]) -> Discovery:
    """One discovery from several list pages of a portal: links de-duplicated by URL, complete only if all were."""
    out = Discovery()
    urls: set[str] = set()
    for d in parts:
        for link in d.links:
            if link.url not in urls:
                urls.add(link.url)
                out.links.append(link)
        out.pages.extend(d.pages)
        out.complete = out.complete and d.complete
        out.truncated = out.truncated or d.truncated
        out.problem = out.problem or d.problem
    return out


def is_report_title(title: str) -> bool:
    return bool(_REPORT.search(re.sub(r"\s+", "", title)))


def report_year(title: str) -> int | None:
    m = _YEAR.search(title)
    return int(m.group(1)) if m else None


def list_date(text: str) -> date | None:
    m = _LIST_DATE.search(text)
    if not m:
        return None
    return parse_date(f"{m.group(1)}-{m.group(2)}-{m.group(3)}")


def tidy_title(title: str) -> str:
    """Whitespace runs collapsed; dropped between Chinese characters (CMS lists pad 示例区 王集镇), kept
    between Latin words, so the title shown to a supervisor is the one the portal shows."""
    title = re.sub(r"\s+", " ", title).strip()
    return re.sub(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])", "", title)


_PARSED: OrderedDict[tuple[bytes, str, str, str], tuple[ReportLink, ...]] = OrderedDict()
_PARSED_MAX = 4096  # list pages (and dataproxy answers) remembered; a portal has a few dozen


def links_from_html(html: str, base: str, portal: str, item_selector: str = "a") -> list[ReportLink]:
    """年报 links in an HTML fragment or page, with the date written beside each (li/tr/div text).

    Remembered by content: an unchanged list page (the usual case, every hour of January) is hashed,
    not parsed again — parsing was most of an unchanged cycle's CPU."""
    key = (hashlib.blake2b(html.encode("utf-8", "surrogatepass"), digest_size=16).digest(), base, portal, item_selector)
    hit = _PARSED.get(key)
    if hit is not None:
        _PARSED.move_to_end(key)
        return list(hit)
    links = _parse_links(html, base, portal, item_selector)
    _PARSED[key] = tuple(links)
    if len(_PARSED) > _PARSED_MAX:
        _PARSED.popitem(last=False)
    return links


def _parse_links(html: str, base: str, portal: str, item_selector: str) -> list[ReportLink]:
    out = []
    for href, title, holder_text in anchors(html, item_selector):
        href, title = href.strip(), title.strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")) or not is_report_title(title):
            continue
        date_ = list_date(holder_text())
        out.append(ReportLink(urljoin(base, href), tidy_title(title), report_year(title), date_, portal))
    return out


def page_text(res: FetchResult) -> str:
    return decode(res.data, res.content_type)[0]


Discover = Callable[[Fetcher, Any], Awaitable[Discovery]]
