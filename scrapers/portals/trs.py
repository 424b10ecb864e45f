"""TRS WCM (拓尔思) lists: index.html, index_1.html … index_{count-1}.html, count read from
createPageHTML(count, current, "index", "html") — parsed, never executed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from scrapers.net import Fetcher
from scrapers.portals.base import Discovery, links_from_html, page_text

_CREATE = re.compile(
    r"createPageHTML\(\s*(?:['\"]?\w+['\"]?\s*,\s*)?(\d+)\s*,\s*(\d+)\s*,\s*['\"](\w+)['\"]\s*,\s*"
    r"['\"](s?html?)['\"]"
)
_COUNT_VAR = re.compile(r"var\s+countPage\s*=\s*(\d+)")


@dataclass(frozen=True)
class TrsConfig:
    """list_url: the column's index.html; item_selector: CSS selector of the links; max_pages bounds paging."""

    name: str
    list_url: str
    item_selector: str = "a"
    max_pages: int = 10


def page_count(html: str) -> tuple[int, str, str]:
    """(pages, stem, extension) from createPageHTML(…) or var countPage = N."""
    m = _CREATE.search(html)
    if m:
        return int(m.group(1)), m.group(3), m.group(4)
    m2 = _COUNT_VAR.search(html)
    return (int(m2.group(1)) if m2 else 1), "index", "html"


async def discover(fetcher: Fetcher, cfg: TrsConfig) -> Discovery:
    found = Discovery()
    first = await fetcher.fetch(cfg.list_url, expect="page")
    if not first.ok:
        found.failed(first, f"列表页 {cfg.list_url}")
        return found
    html = page_text(first)
    count, stem, ext = page_count(html)
    pages = [(first.url, html)]
    for i in range(1, min(count, cfg.max_pages)):
        url = urljoin(first.url, f"{stem}_{i}.{ext}")
        res = await fetcher.fetch(url, expect="page")
        if not res.ok:
            found.failed(res, f"列表页 {url}")
            break
        pages.append((res.url, page_text(res)))
    found.truncated = count > cfg.max_pages
    for url, text in pages:
        found.pages.append((url, "ok"))
        links = links_from_html(text, url, cfg.name, cfg.item_selector)
        found.links.extend(links)
    return found
