"""Dates as portals and reports write them (2025-01-20, 2025/1/20, 2025年1月20日, 二〇二一年一月二十五日)."""

from __future__ import annotations

import re
from datetime import date

_CN_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUMERIC = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_CHINESE = re.compile(
    r"([〇○零O一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,4})日"
)
_URL_DATE = re.compile(r"(?:/t|/)((?:19|20)\d{2})(\d{2})(\d{2})[_/]|/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/")
_PAGE_LABEL = re.compile(
    r"(发布日期|发布时间|公开日期|發布日期|發布時間|公開日期|信息提供日期|发文日期|PubDate)\s*[:：]?\s*"
    r"((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})"
)


def _safe(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _cn_number(s: str) -> int:
    """十 → 10, 二十五 → 25, 三十一 → 31."""
    if "十" not in s:
        return _CN_DIGITS.get(s, 0)
    tens, _, ones = s.partition("十")
    return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)


def parse_date(text: str) -> date | None:
    """The first full date in ``text``, or None."""
    m = _NUMERIC.search(text)
    if m:
        return _safe(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _CHINESE.search(text)
    if m:
        year = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
        return _safe(year, _cn_number(m.group(2)), _cn_number(m.group(3)))
    return None


def date_in_url(url: str) -> date | None:
    m = _URL_DATE.search(url)
    if not m:
        return None
    g = [x for x in m.groups() if x]
    return _safe(int(g[0]), int(g[1]), int(g[2]))


def labelled_page_date(text: str) -> tuple[date, str] | None:
    """A date written next to 发布日期/发布时间/公开日期 on an article page: (date, the matched text)."""
    m = _PAGE_LABEL.search(text)
    if not m:
        return None
    d = parse_date(m.group(2))
    return (d, m.group(0)) if d else None
