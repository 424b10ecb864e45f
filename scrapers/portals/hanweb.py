"""大汉 Hanweb "jpage" columns: the first records sit in <datastore> CDATA inside a script (invisible to
a plain HTML parse); more come from dataproxy.jsp, called with startrecord/endrecord/perpage and the
page's parameters as form fields. Groups may overlap by one record: links are de-duplicated by URL."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

from scrapers.net import Fetcher
from scrapers.portals.base import Discovery, ReportLink, links_from_html, page_text

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href=['\"]([^'\"]+)['\"]", re.S)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>|totalRecord\s*[:=]\s*(\d+)", re.I)
_PERPAGE = re.compile(r"perpage\s*[:=]\s*['\"]?(\d+)", re.I)
_PROXY = re.compile(r"['\"]([^'\"]*dataproxy\.jsp)[^'\"]*['\"]")
_PARAMS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname", "permissiontype")
_PARAM_RE = re.compile(r"\b(" + "|".join(_PARAMS) + r")\s*[:=]\s*['\"]?([^'\",;&\s<>]+)")


@dataclass(frozen=True)
class HanwebConfig:
    """list_url: the column page /col/col{id}/index.html; dataproxy: endpoint path when the page does not
    name it (default /module/web/jpage/dataproxy.jsp); perpage: records per page; max_pages bounds paging."""

    name: str
    list_url: str
    dataproxy: str | None = None
    perpage: int = 15
    group_pages: int = 3
    max_pages: int = 10


def records(xml: str) -> list[str]:
    return _RECORD.findall(xml)


def _links(fragments: list[str], base: str, portal: str) -> list[ReportLink]:
    return links_from_html("".join(fragments), base, portal) if fragments else []


def proxy_request(page: str, page_url: str, cfg: HanwebConfig) -> tuple[str, dict[str, str]]:
    """The dataproxy URL and its form fields, from the nextgroup link or the page's script parameters."""
    fields: dict[str, str] = {}
    proxy = cfg.dataproxy
    m = _NEXTGROUP.search(page)
    if m:
        href = htmllib.unescape(m.group(1))
        proxy = proxy or urlsplit(href).path
        fields.update(parse_qsl(urlsplit(href).query))
    if not proxy:
        pm = _PROXY.search(page)
        proxy = pm.group(1) if pm else "/module/web/jpage/dataproxy.jsp"
    for key, value in _PARAM_RE.findall(page):
        fields.setdefault(key, value)
    fields.pop("page", None)
    return urljoin(page_url, proxy), fields


async def discover(fetcher: Fetcher, cfg: HanwebConfig) -> Discovery:
    found = Discovery()
    first = await fetcher.fetch(cfg.list_url, expect="page")
    if not first.ok:
        found.failed(first, f"栏目页 {cfg.list_url}")
        return found
    page = page_text(first)
    if "<datastore" not in page:  # not a jpage column (moved, redesigned, error page): never "no reports"
        found.pages.append((first.url, "wrong_content_type"))
        found.complete = False
        found.problem = f"栏目页 {cfg.list_url} 中没有大汉 datastore 记录（页面结构可能已改变）"
        return found
    found.pages.append((first.url, first.status))
    recs = records(page)
    links = {x.url: x for x in _links(recs, first.url, cfg.name)}
    tm = _TOTAL.search(page)
    total = int(next(g for g in tm.groups() if g)) if tm else len(recs)
    pm = _PERPAGE.search(page)
    perpage = int(pm.group(1)) if pm else cfg.perpage
    seen = len(recs)
    proxy, fields = proxy_request(page, first.url, cfg)
    group = perpage * cfg.group_pages
    calls = 0
    while seen < total:
        if calls * cfg.group_pages >= cfg.max_pages:
            found.truncated = True
            break
        start, end = seen + 1, min(total, seen + group)
        form = {**fields, "startrecord": str(start), "endrecord": str(end), "perpage": str(perpage)}
        res = await fetcher.fetch(proxy, expect="page", method="POST", form=form)
        calls += 1
        if not res.ok:
            found.failed(res, f"翻页接口 {proxy}")
            break
        found.pages.append((f"{proxy}?startrecord={start}", res.status))
        xml = page_text(res)
        got = records(xml)
        tm = _TOTAL.search(xml)
        total = int(next(g for g in tm.groups() if g)) if tm else total
        if not got:
            break
        for link in _links(got, first.url, cfg.name):
            links.setdefault(link.url, link)
        seen = end
    found.links = list(links.values())
    return found
