"""Cell text → value. Blank, "0" and "/" stay distinct, because the blank and arithmetic rules need it."""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from rules.normalize import norm
from rules.report import Value

_UNITS = re.compile(r"(万元|元|件|个|项|条|次|人次|宗|份|起)$")
_INT = re.compile(r"^[+-]?\d+$")
_DEC = re.compile(r"^[+-]?\d+\.\d+$")
_PLACEHOLDERS = {"/", "-", "--", "—", "——", "无", "空", "×", "x", "X", "\\", "－", "/0"}


def parse_value(text: str | None) -> Value:
    """Number when the cell is a number (units and thousands separators allowed), else the text."""
    if text is None:
        return None
    return _parse_value(text) if len(text) <= 40 else _parse(text)


@lru_cache(maxsize=50_000)  # "0", "1", "/" …: a table's cells repeat within a report and across a season
def _parse_value(text: str) -> Value:
    return _parse(text)


def _parse(text: str) -> Value:
    t = norm(text).replace(",", "")
    if not t:
        return None
    t = _UNITS.sub("", t)
    if _INT.match(t):
        return int(t)
    if _DEC.match(t):
        return float(t)
    return text.strip()


@lru_cache(maxsize=50_000)
def is_value_text(text: str | None) -> bool:
    """True for what can sit in a data cell: blank, a number, or a short placeholder like “/”."""
    if text is None:
        return True
    t = norm(text).replace(",", "")
    if not t:
        return True
    if t in _PLACEHOLDERS:
        return True
    t = _UNITS.sub("", t)
    return bool(_INT.match(t) or _DEC.match(t))


_NUM_TOKEN = re.compile(r"^-?\d[\d,]*(?:\.\d+)?(?:万元|元)?$")
_GLUED = re.compile(r"^(.*\D)(\d+)$")
_ENDS_NUMBERING = re.compile(r"[.、)）]$")


def _is_number_token(token: str) -> bool:
    return _number_token(token) if len(token) <= 40 else _number_or_placeholder(token)


@lru_cache(maxsize=4096)  # short tokens only: a Chinese line without spaces is one token that never recurs
def _number_token(token: str) -> bool:
    return _number_or_placeholder(token)


def _number_or_placeholder(token: str) -> bool:
    t = norm(token)
    return bool(_NUM_TOKEN.match(t)) or t in _PLACEHOLDERS


def split_numbers(line: str) -> tuple[str, list[str]]:
    """Split a text-layer line into (label, trailing number tokens): “一、本年新收… 95 0 0 95”."""
    parts = line.split()
    k = len(parts)
    while k and _is_number_token(parts[k - 1]):
        k -= 1
    nums = parts[k:]
    label = " ".join(parts[:k])
    # a label glued to its first number (“数量95”) in text layers
    m = _GLUED.match(label) if nums and label else None
    if m and not _ENDS_NUMBERING.search(m.group(1)) and len(m.group(2)) <= 6 and not label.endswith(("项", "年")):
        label, nums = m.group(1), [m.group(2), *nums]
    return label.strip(), nums


def split_run_together(tokens: list[str], n: int, total_last: bool, limit: int = 200_000) -> list[str] | None:
    """Recover ``n`` numbers from tokens whose digits ran together (“95000095” → 95 0 0 0 0 0 95).

    Extra cuts are only accepted when they make the row consistent (the last column is the sum of
    the others when ``total_last``), and only when exactly one such split exists.
    """
    if len(tokens) >= n or not tokens or not all(t.isdigit() for t in tokens):
        return None
    need = n - len(tokens)
    slots = [(i, j) for i, t in enumerate(tokens) for j in range(1, len(t))]
    if len(slots) < need:
        return None
    solutions = []
    for count, cuts in enumerate(itertools.combinations(slots, need)):
        if count > limit:
            return None
        pieces: list[str] = []
        for i, t in enumerate(tokens):
            pos = [j for (ti, j) in cuts if ti == i]
            bounds = [0, *pos, len(t)]
            pieces.extend(t[a:b] for a, b in itertools.pairwise(bounds))
        if any(len(p) > 1 and p[0] == "0" for p in pieces):
            continue
        vals = [int(p) for p in pieces]
        if total_last and vals[-1] != sum(vals[:-1]):
            continue
        solutions.append(pieces)
        if len(solutions) > 1:
            break
    if len(solutions) == 1:
        return solutions[0]
    # all single digits is the only reading when every cut is needed
    if not total_last and sum(len(t) for t in tokens) == n:
        return [c for t in tokens for c in t]
    return None
