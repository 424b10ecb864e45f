"""Each portal kind against real pages on a local server: items, dates, paging, charsets, feeds."""

from __future__ import annotations

import asyncio
import json

from bot.fixture_portal import FixturePortal, Route
from scrapers.net import Fetcher, Politeness
from scrapers.portals import KINDS, kind_config
from scrapers.portals.hanweb import HanwebConfig, proxy_request
from scrapers.portals.trs import page_count

LOCAL = Politeness(allow_private=True, retries=0, timeout=5)


def discover(kind: str, **fields: object):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        async with Fetcher(LOCAL) as f:
            return await KINDS[kind][1](f, kind_config(kind, {"name": "p", **fields}))

    return asyncio.run(run())


def test_generic_numbered_pages_gbk_titles_and_dates() -> None:
    li = '<li><a href="{h}">{t}</a> [{d}]</li>'
    with FixturePortal() as p:
        p.routes["/nb/index.html"] = Route(
            (
                '<html><head><meta charset="gbk"></head><body><ul>'
                + li.format(h="a1.html", t="示例区商务局2024年政府信息公开工作年度报告", d="2025-01-20")
                + li.format(h="/news/1.html", t="商务局召开会议", d="2025-01-21")
                + "</ul></body></html>"
            ).encode("gb18030"),
            "text/html",
        )
        p.routes["/nb/index_1.html"] = Route(
            (
                "<html><body><ul>"
                + li.format(h="b1.html", t="2023年示例区商务局政府信息公开工作年度报告", d="2024/01/18")
                + "</ul></body></html>"
            ).encode()
        )
        got = discover("generic", list_url=f"{p.url}/nb/index.html", page_url="index_{n}.html", max_pages=5)
    assert got.complete and not got.truncated
    assert [(x.url.rsplit("/", 1)[1], x.year, str(x.list_date)) for x in got.links] == [
        ("a1.html", 2024, "2025-01-20"),
        ("b1.html", 2023, "2024-01-18"),
    ]


def test_feeds_rss_and_json() -> None:
    rss = (
        "<?xml version='1.0'?><rss><channel><item><title>示例区2024年政府信息公开工作年度报告</title>"
        "<link>http://x.gov.cn/a.html</link><pubDate>2025-01-25</pubDate></item>"
        "<item><title>通知</title><link>http://x.gov.cn/n.html</link></item></channel></rss>"
    )
    js = {
        "data": [
            {
                "title": "示例区交通局关于2024年度政府信息公开工作的年度报告",
                "url": "/c.html",
                "publishTime": "2025-01-26 10:00",
            }
        ]
    }
    with FixturePortal() as p:
        p.routes["/feed.xml"] = Route(rss.encode(), "application/rss+xml")
        p.routes["/api.json"] = Route(json.dumps(js, ensure_ascii=False).encode(), "application/json")
        a = discover("feed", list_url=f"{p.url}/feed.xml")
        b = discover("feed", list_url=f"{p.url}/api.json")
    assert [(x.url, x.year) for x in a.links] == [("http://x.gov.cn/a.html", 2024)]
    assert b.links[0].url.endswith("/c.html") and str(b.links[0].list_date) == "2025-01-26"


def test_empty_shell_and_errors_make_discovery_incomplete() -> None:
    with FixturePortal() as p:
        p.routes["/shell.html"] = Route(b"<html><body><div id='app'></div><script src='/x.js'></script></body></html>")
        p.routes["/err.html"] = Route(b"busy", status=503, headers={"Retry-After": "0"})
        shell = discover("generic", list_url=f"{p.url}/shell.html")
        err = discover("trs", list_url=f"{p.url}/err.html")
    assert not shell.complete and "empty_shell" in shell.problem
    assert not err.complete and "http_error" in err.problem


def test_trs_page_count_variants_and_hanweb_parameters() -> None:
    assert page_count('createPageHTML(5, 0, "index", "shtml");') == (5, "index", "shtml")
    assert page_count("createPageHTML('page_div',7, 1,'index','htm');") == (7, "index", "htm")
    assert page_count("var countPage = 3//共多少页") == (3, "index", "html")
    page = (
        '<nextgroup><![CDATA[<a href="/module/jpage/dataproxy.jsp?page=1&amp;appid=1&amp;webid=9&amp;'
        'columnid=77&amp;unitid=88"></a>]]></nextgroup>'
    )
    url, fields = proxy_request(page, "http://x.gov.cn/col/col77/index.html", HanwebConfig("p", "http://x"))
    assert url == "http://x.gov.cn/module/jpage/dataproxy.jsp"
    assert fields == {"appid": "1", "webid": "9", "columnid": "77", "unitid": "88"}
