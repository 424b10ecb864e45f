"""The elements a list page's item selector picks: each one's href, title, and the text of the list item
that holds it (where the portal writes the date).

Two readers that give the same answers. A bare tag name (``a``, every kind's default) is read from lxml's
own tree; any other CSS selector goes through BeautifulSoup and soupsieve. The lxml reader exists for speed
alone: BeautifulSoup builds a Python object per node, soupsieve compiles its tokeniser on first use
(0.1–0.2 s a process), and ``find_parent`` walks Python objects — a first scan spent ~15 ms of the
service's CPU on every list page, a tenth of all it did. Where lxml refuses a page (NUL bytes, say), the
BeautifulSoup reader answers instead, so the fast path can only be faster, never different
(tests/test_portal_kinds.py compares the two on every fixture page and on generated ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from bs4 import BeautifulSoup, Tag
from lxml import etree

from scrapers.extract.html import tree

# (href, title, the holder's text — asked only for report titles)
Anchor = tuple[str, str, Callable[[], str]]

HOLDERS = ("li", "tr", "dd", "p", "div")
_HOLDER_SET = frozenset(HOLDERS)
# BeautifulSoup keeps the strings inside these apart (Script, Stylesheet, TemplateString, ruby text):
# get_text() leaves them out, at any depth, and so must the lxml reader
_OTHER_STRINGS = frozenset(("script", "style", "template", "rt", "rp"))
_TAG = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def anchors(html: str, selector: str) -> list[Anchor]:
    tag = selector.strip().lower()
    if _TAG.fullmatch(tag) and tag not in _OTHER_STRINGS:
        try:
            return list(_by_tag(html, tag))
        except (ValueError, etree.LxmlError):  # a page lxml will not take as a string: BeautifulSoup copes
            pass
    return list(_by_css(html, selector))


def _by_css(html: str, selector: str) -> Iterator[Anchor]:
    soup = BeautifulSoup(html, "lxml")
    for a in soup.select(selector):
        title = a.get("title") or a.get_text(" ", strip=True) or ""
        yield str(a.get("href") or ""), str(title), lambda a=a: _soup_holder(a).get_text(" ", strip=True)


def _soup_holder(a: Tag) -> Tag:
    return a.find_parent(list(HOLDERS)) or a


def _by_tag(html: str, tag: str) -> Iterator[Anchor]:
    root = tree(html)
    if root is None:  # comments only
        return
    for a in root.iter(tag):
        if any(up.tag == "template" for up in a.iterancestors()):
            continue  # soupsieve does not look into a template's content: it is not part of the page
        yield a.get("href") or "", a.get("title") or _text(a), lambda a=a: _text(_holder(a))


def _holder(a: etree._Element) -> etree._Element:
    return next((el for el in a.iterancestors() if el.tag in _HOLDER_SET), a)


def _text(el: etree._Element) -> str:
    """BeautifulSoup's ``get_text(" ", strip=True)``: every text node stripped, empty ones dropped, joined by a
    space; no comments, no script/style/template/ruby text (inside such an element there is none at all)."""
    if any(up.tag in _OTHER_STRINGS for up in el.iterancestors()):
        return ""
    parts: list[str] = []
    _collect(el, parts)
    return " ".join(parts)


def _collect(el: etree._Element, parts: list[str]) -> None:
    text = (el.text or "").strip()
    if text:
        parts.append(text)
    for child in el:
        if isinstance(child.tag, str) and child.tag not in _OTHER_STRINGS:  # (a comment's tag is a function)
            _collect(child, parts)
        tail = (child.tail or "").strip()
        if tail:
            parts.append(tail)
