"""Text normalisation for matching only; messages always quote the original text.

Traditional→Simplified (OpenCC), full-width→half-width, ``1、``→``1.``, no whitespace, unified
brackets and quotes, so that 第二十條第（一）項 and 第二十条第(一)项 compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import opencc

_T2S = opencc.OpenCC("t2s")
# Characters OpenCC leaves alone but reports mix freely (关于/關于/关於, 于/於 …). Applied by a regex
# over just these characters: str.translate looks every character of a long text up in a dict (0.4 ms
# for a 3,000-character report), the regex scans in C and calls back only where one occurs.
_EXTRA = {
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
    "—": "-",
    "–": "-",
    "•": ".",
    "·": ".",
}
_EXTRA_RE = re.compile("[" + "".join(_EXTRA) + "]")


def _ranges(points: list[int]) -> str:
    out: list[list[int]] = []
    for cp in points:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in out)


@lru_cache(maxsize=1)
def _nfkc_tables() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(characters NFKC changes, characters that can take part in a composition), from this Python's
    Unicode data, built on first use (~0.1 s a process). Without the second kind in a text, NFKC works
    character by character, so only the (few) changing characters need it — unicodedata.normalize on a
    whole report costs ~150 ns per character, nearly all of them CJK ideographs it leaves as they are."""
    changing: list[int] = []
    marks: set[int] = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul vowels, finals
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF or 0x4E00 <= cp <= 0x9FFF or 0xAC00 <= cp <= 0xD7A3:
            continue  # surrogates; CJK ideographs and Hangul syllables: stable, they compose nothing further
        c = chr(cp)
        if unicodedata.combining(c):
            marks.add(cp)
        if not unicodedata.decomposition(c):  # NFD, NFKD and NFKC all leave it as it is (the algorithmic
            continue  # decomposition, Hangul syllables', is skipped above): 0.09 → 0.03 s a process
        nfd = unicodedata.normalize("NFD", c)
        marks.update(ord(x) for x in nfd[1:])  # a character that follows a base in some composition
        nfkd = unicodedata.normalize("NFKD", c)
        if any(unicodedata.combining(x) for x in nfkd):
            marks.add(cp)
        if unicodedata.normalize("NFKC", c) != c:
            changing.append(cp)
    marked = _ranges(sorted(marks)) + "\U00010000-\U0010ffff"  # beyond the BMP: the exact, slow path
    # "[…][…]*", not "[…]+": a pattern that opens with a character class lets the regex engine skip ahead to
    # the next such character; one that opens with a repeat is tried at every position (64 → 24 µs per report text)
    one = "[" + _ranges(changing) + "]"
    return re.compile(one + one + "*"), re.compile("[" + marked + "]")


def _nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), equal to it for every text, fast for Chinese prose."""
    if text.isascii():
        return text
    changing, marks = _nfkc_tables()
    if marks.search(text):
        return unicodedata.normalize("NFKC", text)
    for full, half in _FREQUENT:  # str.replace scans in C; a regex callback costs ~1 µs per occurrence
        text = text.replace(full, half)
    return changing.sub(lambda m: _nfkc_run(m.group()), text)


# the full-width punctuation of every Chinese sentence: ~150 occurrences in a report
_FREQUENT = tuple((c, unicodedata.normalize("NFKC", c)) for c in "，：；（）？！％\u3000")


@lru_cache(maxsize=1024)
def _nfkc_run(run: str) -> str:
    return unicodedata.normalize("NFKC", run)


_CACHED_UP_TO = 200  # characters: labels and headings recur and are cached; whole paragraphs never recur
_CHANGES = Path(__file__).with_name("t2s_changes.txt")


@lru_cache(maxsize=1)
def _t2s_changes() -> re.Pattern[str] | None:
    """A regex for the characters OpenCC's t2s can change, or None (then every text is converted).

    Most reports are Simplified already, and OpenCC still walks their every character through its dictionaries
    (~120 µs per 2,700 characters; three or four long texts a report). A text with none of these characters comes back
    unchanged — every replacement is a dictionary entry that changes at least one character, and the list holds
    each such character of the installed dictionaries — so it is not converted at all. The list is checked
    against the dictionaries of the OpenCC it names (tests/test_properties.py); under another version it is not used."""
    try:
        lines = [line for line in _CHANGES.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
        if lines[0].split()[1] != getattr(opencc, "__version__", None):  # (importlib.metadata: +20 ms a process)
            return None
    except (OSError, IndexError):
        return None
    bmp = sorted({ord(c) for c in "".join(lines[1:]) if ord(c) < 0x10000})
    # beyond the BMP as one range (such a text is converted): the regex engine tests a set of BMP characters
    # with a bitmap, but a set holding astral characters as a list of ranges, one by one (3 ms a report)
    return re.compile("[" + _ranges(bmp) + "\U00010000-\U0010ffff]")


def _convert(text: str) -> str:
    changes = _t2s_changes()
    return text if changes is not None and not changes.search(text) else _T2S.convert(text)


def prepare() -> None:
    """Build the lazy tables (NFKC's characters, t2s's list: ~0.1 s of CPU) now. A process that will
    normalise many texts calls this at its start, so a service's first scan and a worker's first report
    do not pay for them; a one-off command that normalises one label never does."""
    _nfkc_tables()
    _t2s_changes()


def to_simplified(text: str) -> str:
    return _to_simplified(text) if len(text) <= _CACHED_UP_TO else _convert(text)


@lru_cache(maxsize=16384)  # labels recur; a year of unique lines must not pile up
def _to_simplified(text: str) -> str:
    return _convert(text)


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
    t = _nfkc(text)  # full-width digits/letters/brackets → half-width
    t = to_simplified(t)
    t = _EXTRA_RE.sub(lambda m: _EXTRA[m.group()], t)
    t = "".join(t.split())  # no whitespace (str.split: the same characters as \s, without a call per run)
    return _list_numbers(t) if "、" in t else t


def _list_numbers(t: str) -> str:
    """1、→1. where one or two digits, not preceded by a digit or a point, stand before 、 (a list item, not
    a date or an amount). By splitting at 、: a regex opening with \\d is tried at every position of the text
    (~50 µs for a report's 2,700 characters, three such texts a report), and a lookbehind was slower still."""
    parts = t.split("、")
    items = {i for i, before in enumerate(parts[:-1]) if before[-1:].isdecimal() and _lists_here(before)}
    if not items:  # the usual text: 、 between words only, returned as it is
        return t
    out = []
    for i, part in enumerate(parts[:-1]):
        out += (part, "." if i in items else "、")
    out.append(parts[-1])
    return "".join(out)


def _lists_here(before: str) -> bool:
    """Whether the text before a 、 ends in one or two digits that a digit or a point does not precede."""
    n = len(before)
    digits = 1
    while digits < 3 and digits < n and before[n - 1 - digits].isdecimal():
        digits += 1
    return digits < 3 and (digits == n or before[n - 1 - digits] != ".")


_NUMBERING = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]|\d{1,2}[.、．](?!\d))+")


def strip_numbering(normed: str) -> str:
    """Drop leading outline numbers (一、 (三) 2.) from already-normalised text."""
    return _NUMBERING.sub("", normed)


def numbering(normed: str) -> str:
    m = _NUMBERING.match(normed)
    return m.group(0) if m else ""
