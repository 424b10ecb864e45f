"""Generic HTML list pages: CSS selectors for the items, numbered page URLs or a next-page link."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from scrapers.net import Fetcher
from scrapers.portals.base import Discovery, links_from_html, page_text


@dataclass(frozen=True)
class GenericConfig:
    """list_url: first list page; item_selector: CSS selector of the report links;
    page_url: template for further pages, e.g. "index_{n}.html" (n = 1, 2, …), or next_selector: CSS
    selector of a "next page" link; max_pages bounds pagination."""

    name: str
    list_url: str
    item_selector: str = "a"
    page_url: str | None = None
    next_selector: str | None = None
    max_pages: int = 10


async def discover(fetcher: Fetcher, cfg: GenericConfig) -> Discovery:
    found = Discovery()
    url: str | None = cfg.list_url
    for n in range(cfg.max_pages):
        if url is None:
            break
        res = await fetcher.fetch(url, expect="page")
        if not res.ok:
            if n > 0 and res.http_status == 404:  # ran past the last numbered page: not a failure
                break
            found.failed(res, f"列表页 {url}")
            break
        found.pages.append((res.url, res.status))
        html = page_text(res)
        links = links_from_html(html, res.url, cfg.name, cfg.item_selector)
        found.links.extend(links)
        if cfg.page_url:
            url = urljoin(cfg.list_url, cfg.page_url.format(n=n + 1))
        elif cfg.next_selector:
            nxt = BeautifulSoup(html, "lxml").select_one(cfg.next_selector)
            url = urljoin(res.url, nxt["href"]) if nxt is not None and nxt.get("href") else None
        else:
            url = None
    else:
        found.truncated = url is not None
    return found
