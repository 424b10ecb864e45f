"""URL → Document, shared by `nianbao check URL` and the scan pipeline: fetch, extract, and when the
page only links its report (PDF/DOC/…), read the best attachment while keeping the page's dates."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from scrapers.document import Document, unreadable
from scrapers.extract import extract

if TYPE_CHECKING:  # annotations only: the analysis workers import this module, not the network stack
    from scrapers.net import Fetcher

MAX_ATTACHMENTS = 3
# what the article page knows better than its attachment: publication evidence and the title
PAGE_EVIDENCE = (
    "pubdate",
    "publishtime",
    "firstpublishtime",
    "publishdate",
    "page_date",
    "page_date_text",
    "url_date",
    "articletitle",
    "html_title",
)


Extract = Callable[[bytes, str, str | None], Awaitable[Document]]


async def extract_in_thread(data: bytes, url: str, ctype: str | None) -> Document:
    """In-process extraction off the event loop (lxml and a PDF's child release the GIL)."""
    return await asyncio.to_thread(extract, data, url, ctype)


def links_attachments(doc: Document) -> bool:
    """An article page that links its report (PDF/DOC/…) rather than holding the tables itself."""
    return doc.kind == "html" and len(doc.tables) < 3 and bool(doc.meta.get("attachments"))


async def document_from(fetcher: Fetcher, url: str, data: bytes, ctype: str | None) -> tuple[Document, str | None]:
    """(Document, the attachment URL it came from or None)."""
    return await with_attachments(fetcher, await extract_in_thread(data, url, ctype))


async def with_attachments(
    fetcher: Fetcher, doc: Document, extractor: Extract = extract_in_thread
) -> tuple[Document, str | None]:
    """The page's Document, or the best of its attachments when it only links its report."""
    if not links_attachments(doc):
        return doc, None
    best, used = doc, None
    for link in [u for u in doc.meta["attachments"].splitlines() if u.startswith("http")][:MAX_ATTACHMENTS]:
        res = await fetcher.fetch(link, expect="binary")
        if not res.ok:
            continue
        att = await extractor(res.data, res.url, res.content_type)
        if att.unreadable or len(att.tables) <= len(best.tables):
            continue
        best = replace(att, meta={**att.meta, **{k: doc.meta[k] for k in PAGE_EVIDENCE if k in doc.meta}})
        used = link
    return best, used


async def fetch_document(fetcher: Fetcher, url: str) -> tuple[Document, str | None]:
    res = await fetcher.fetch(url, expect="document")
    if not res.ok:
        why = res.error or f"HTTP {res.http_status}"
        return unreadable(url, "url", f"无法下载（{res.status}：{why}）/ could not fetch"), None
    return await document_from(fetcher, res.url, res.data, res.content_type)
