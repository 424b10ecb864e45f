"""Order-preserving best matching of found items to expected items (sections, rows, columns).

Real reports renumber, promote sub-topics and repeat labels; matching by meaning *and order*
resolves what a label alone cannot (“其他” the column header vs “3.其他” the row).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import TypeVar

from rules.memo import ByIdentity

A = TypeVar("A")
B = TypeVar("B")


@lru_cache(maxsize=50_000)
def similarity(found: str, expected: str) -> float:
    """1.0 exact; high for truncation or extra wrapping text; else a sequence ratio (cached: labels recur)."""
    if not found or not expected:
        return 0.0
    if found == expected:
        return 1.0
    short = min(len(found), len(expected))
    if expected.startswith(found) and (len(found) >= 3 or len(found) * 2 >= len(expected)):
        return 0.9  # truncated label (本年新 for 本年新制作数量)
    if found.startswith(expected) and short >= 2:
        return 0.88  # wrapped continuation joined on
    if expected in found and len(expected) >= 2:
        return 0.85 if len(expected) * 3 >= len(found) else 0.6
    sm = SequenceMatcher(None, found, expected, autojunk=False)
    if sm.real_quick_ratio() < 0.5 or sm.quick_ratio() < 0.5:
        return sm.quick_ratio()  # an upper bound already too low to matter: skip the full comparison
    return sm.ratio()


def align(
    found: Sequence[A], expected: Sequence[B], score: Callable[[A, B], float], threshold: float = 0.6
) -> list[tuple[int, int, float]]:
    """Monotonic assignment maximising the summed score; returns (found index, expected index, score)."""
    return align_scores([[score(f, e) for e in expected] for f in found], threshold)


def align_scores(s: Sequence[Sequence[float]], threshold: float = 0.6) -> list[tuple[int, int, float]]:
    """align() on a ready score matrix (s[i][j]: found i against expected j), for callers that score a
    found item against all expected ones at once (and can cache that row)."""
    n = len(s)
    m = len(s[0]) if n else 0
    if not n or not m:
        return []
    # best[i][j]: the best sum using found[i:] and expected[j:]; each row is the suffix maximum of "take (i, j)
    # or skip i". Most found items reach no expected one (a section heading among a report's lines), and
    # the rest one or two of ~30 labels: a row is the row below, raised only from those few takes on (a max()
    # per slot of every row: 0.35 ms an alignment on average over the corpus and simulated reports; now 0.1).
    best = [[0.0] * (m + 1)] * (n + 1)  # (rows are never changed in place: one may serve several i)
    for i in range(n - 1, -1, -1):
        below, row = best[i + 1], s[i]
        best[i] = below
        if max(row) < threshold:
            continue
        takes = [(j, t) for j, v in enumerate(row) if v >= threshold and (t := v + below[j + 1]) > below[j]]
        if not takes:
            continue
        own = best[i] = below[:]
        reach = -1.0
        for k, take in reversed(takes):  # below is non-increasing: the slots up to k that ``reach`` tops
            reach = max(reach, take)  # form a run ending at k, found by bisection
            lo, hi = 0, k
            while lo < hi:
                mid = (lo + hi) // 2
                if below[mid] < reach:
                    hi = mid
                else:
                    lo = mid + 1
            own[lo : k + 1] = [reach] * (k + 1 - lo)
    out = []
    i = j = 0
    while i < n and j < m:
        if s[i][j] >= threshold and abs(best[i][j] - (s[i][j] + best[i + 1][j + 1])) < 1e-9:
            out.append((i, j, s[i][j]))
            i += 1
            j += 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


_MEMO: ByIdentity[OrderedDict[Hashable, list[tuple[int, int, float]]]] = ByIdentity(lambda expected: OrderedDict())
_MEMO_MAX = 1024  # label sequences remembered per expected list (a format has a handful of lists)


def align_memo(
    signature: Hashable, expected: Sequence[B], run: Callable[[], list[tuple[int, int, float]]]
) -> list[tuple[int, int, float]]:
    """align() remembered by what the score depends on (``signature``: the found items' label texts) and
    the expected items (the format's own objects, by identity). Reports copy the standard form, so most
    tables of a season carry the very same label sequence: the alignment is computed once per sequence."""
    memo = _MEMO(expected)
    hit = memo.get(signature)
    if hit is not None:
        memo.move_to_end(signature)
        return hit
    pairs = memo[signature] = run()
    if len(memo) > _MEMO_MAX:
        memo.popitem(last=False)
    return pairs
