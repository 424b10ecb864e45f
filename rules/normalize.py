"""Text normalisation for matching only; messages always quote the original text.

Traditional→Simplified (OpenCC), full-width→half-width, ``1、``→``1.``, no whitespace, unified
brackets and quotes, so that 第二十條第（一）項 and 第二十条第(一)项 compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
_SPACE = re.compile(r"\s+")
# Characters OpenCC leaves alone but reports mix freely (关于/關于/关於, 于/於 …).
_EXTRA = str.maketrans(
    {
        "於": "于",
        "傢": "家",
        "纔": "才",
        "祇": "只",
        "〔": "[",
        "〕": "]",
        "【": "[",
        "】": "]",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "「": '"',
        "」": '"',
        "、": "、",
        "—": "-",
        "–": "-",
        "－": "-",
        "～": "~",
        "•": ".",
        "·": ".",
        "．": ".",
    }
)


_CACHED_UP_TO = 200  # characters: labels and headings recur and are cached; whole paragraphs never recur


def to_simplified(text: str) -> str:
    return _to_simplified(text) if len(text) <= _CACHED_UP_TO else _T2S.convert(text)


@lru_cache(maxsize=16384)  # labels recur; a year of unique lines must not pile up
def _to_simplified(text: str) -> str:
    return _T2S.convert(text)


def norm(text: str | None) -> str:
    """Canonical form for matching: simplified, half-width, no spaces, 1、→1."""
    if not text:
        return ""
    return _norm(text) if len(text) <= _CACHED_UP_TO else _norm_long(text)


@lru_cache(maxsize=16384)  # a cache of long texts only held memory: 16,384 unique paragraphs of a season
def _norm(text: str) -> str:
    return _normalise(text)


@lru_cache(maxsize=4)  # a report's whole text is normalised by several checks in a row; a few, never a season
def _norm_long(text: str) -> str:
    return _normalise(text)


def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)  # full-width digits/letters/brackets → half-width
    t = to_simplified(t).translate(_EXTRA)
    t = _SPACE.sub("", t)
    t = re.sub(r"(?<![\d.])(\d{1,2})、", r"\1.", t)
    return t


_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]|\d{1,2}[.、．](?!\d))+")


def strip_numbering(normed: str) -> str:
    """Drop leading outline numbers (一、 (三) 2.) from already-normalised text."""
    return _NUMBERING.sub("", normed)


def numbering(normed: str) -> str:
    m = _NUMBERING.match(normed)
    return m.group(0) if m else ""
