"""RSS, Atom and JSON feeds of a column (some portals and 集约化平台 search APIs offer one)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from scrapers.net import Fetcher
from scrapers.portals.base import Discovery, ReportLink, is_report_title, list_date, page_text, report_year


@dataclass(frozen=True)
class FeedConfig:
    """list_url: the feed; items_key: for JSON, the key holding the list of items (default: items/data/list)."""

    name: str
    list_url: str
    items_key: str | None = None


def _json_links(text: str, base: str, cfg: FeedConfig) -> list[ReportLink]:
    data = json.loads(text)
    items = data
    if isinstance(data, dict):
        keys = [cfg.items_key] if cfg.items_key else ["items", "data", "list", "results", "records"]
        items = next((data[k] for k in keys if k and isinstance(data.get(k), list)), [])
    out = []
    for it in items if isinstance(items, list) else []:
        if not isinstance(it, dict):
            continue
        title = str(it.get("title") or it.get("name") or "")
        url = str(it.get("url") or it.get("link") or it.get("href") or "")
        when = str(it.get("date") or it.get("pubDate") or it.get("publishTime") or it.get("published") or "")
        if url and is_report_title(title):
            out.append(ReportLink(urljoin(base, url), title, report_year(title), list_date(when), cfg.name))
    return out


def _xml_links(text: str, base: str, cfg: FeedConfig) -> list[ReportLink]:
    soup = BeautifulSoup(text, "xml")
    out = []
    for item in soup.find_all(["item", "entry"]):
        title = item.find("title").get_text(strip=True) if item.find("title") else ""
        link = item.find("link")
        url = (link.get("href") or link.get_text(strip=True)) if link else ""
        when = item.find(["pubDate", "updated", "published", "dc:date"])
        if url and is_report_title(title):
            out.append(
                ReportLink(
                    urljoin(base, url), title, report_year(title), list_date(when.get_text() if when else ""), cfg.name
                )
            )
    return out


async def discover(fetcher: Fetcher, cfg: FeedConfig) -> Discovery:
    found = Discovery()
    res = await fetcher.fetch(cfg.list_url, expect="feed")
    if not res.ok:
        found.failed(res, f"订阅源 {cfg.list_url}")
        return found
    found.pages.append((res.url, res.status))
    text = page_text(res).strip()
    try:
        found.links = _json_links(text, res.url, cfg) if text[:1] in "[{" else _xml_links(text, res.url, cfg)
    except (ValueError, TypeError) as exc:
        found.complete = False
        found.problem = f"订阅源格式错误：{type(exc).__name__}"
    return found
