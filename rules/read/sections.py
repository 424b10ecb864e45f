"""Find the six statutory sections by meaning and order, not by exact numbering (lesson 7)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rules.formats import SectionSpec
from rules.memo import ByIdentity, bounded_per_object
from rules.normalize import norm, strip_numbering
from rules.read.align import align_scores, similarity
from rules.report import SectionHit

_TOP = re.compile(r"^[一二三四五六七八九十]{1,2}[、.]")
_NUM_ONLY = re.compile(r"^[一二三四五六七八九十]{1,2}[、.]?$")
_CN = "一二三四五六七八九十"
_DIGIT = re.compile(r"\d")


def heading_lines(lines: tuple[str, ...]) -> list[tuple[int, str]]:
    """Candidate headings: top-level numbered lines, with a bare “四、” joined to the next line."""
    out = []
    i = 0
    while i < len(lines):
        n = norm(lines[i])
        if _NUM_ONLY.match(n) and i + 1 < len(lines):
            joined = lines[i] + lines[i + 1]
            out.append((i, joined))
            i += 2
            continue
        if _TOP.match(n) and len(n) <= 40 and len(_DIGIT.findall(n)) <= 4:
            out.append((i, lines[i]))
        elif len(n) <= 30 and not _TOP.match(n):
            out.append((i, lines[i]))  # an unnumbered heading is accepted only when it matches closely
        i += 1
    return out


@lru_cache(maxsize=4096)
def _line(line: str) -> tuple[str, str, bool]:
    n = norm(line)
    return n, strip_numbering(n), bool(_TOP.match(n))


@dataclass(frozen=True)
class _Heading:
    """What scoring a line against one section needs, prepared once per section list: reading the spec
    through an lru_cache hashed the whole dataclass on every (line, section) pair (~0.3 ms a report never seen)."""

    forms: tuple[str, ...]  # the heading and its aliases, normalised and unnumbered
    keywords: tuple[str, ...]
    numeral: str  # 一 … 六: a heading numbered as its section scores a little more


def _headings(specs: tuple[SectionSpec, ...]) -> tuple[_Heading, ...]:
    return tuple(
        _Heading(
            tuple(strip_numbering(norm(x)) for x in (s.heading, *s.aliases)),
            tuple(norm(k) for k in s.keywords),
            _CN[s.no - 1],
        )
        for s in specs
    )


_HEADINGS = ByIdentity(_headings)  # per section list (the format's own tuple), for the rules' life


def _score(n: str, core: str, numbered: bool, h: _Heading) -> float:
    if not numbered:  # only a (near-)exact match counts: a ratio >= 0.95 needs lengths within ~10 %
        close = [f for f in h.forms if 2 * min(len(core), len(f)) >= 0.95 * (len(core) + len(f))]
        best = max((similarity(core, f) for f in close), default=0.0)
        return best if best >= 0.95 else 0.0
    best = max(similarity(core, f) for f in h.forms)
    if best < 0.6 and h.keywords:
        hits = sum(1 for k in h.keywords if k in core)
        if hits and len(core) <= 30:
            best = max(best, 0.6 + 0.05 * hits)
    if n[0] == h.numeral:
        best += 0.1
    return best


_LINE_SCORES = bounded_per_object(16384)  # per section list: candidate lines; headings recur, table rows mostly not


def _line_scores(line: str, specs: tuple[SectionSpec, ...]) -> tuple[float, ...]:
    """A candidate line against every section at once, remembered per line: one lookup a line instead of one
    per (line, section) pair (~114 pairs a report)."""
    memo = _LINE_SCORES(specs)
    got = memo.get(line)
    if got is None:
        n, core, numbered = _line(line)
        got = memo.put(line, tuple(_score(n, core, numbered, h) for h in _HEADINGS(specs)))
    return got


def find_sections(lines: tuple[str, ...], specs: tuple[SectionSpec, ...]) -> tuple[list[SectionHit], dict[int, str]]:
    cands = heading_lines(lines)
    # not align_memo(): the candidates include the title line, which names the body, so no two reports share them
    pairs = align_scores([_line_scores(line, specs) for _, line in cands], threshold=0.65)
    hits = {}
    for ci, si, _ in pairs:
        line_no, text = cands[ci]
        spec = specs[si]
        core = strip_numbering(norm(text))
        exact = core == strip_numbering(norm(spec.heading))
        hits[spec.no] = SectionHit(spec.no, True, text.strip(), exact, line_no)
    out = [hits.get(s.no, SectionHit(s.no, False)) for s in specs]
    bodies: dict[int, str] = {}
    found = sorted((h.line, h.no) for h in out if h.found and h.line is not None)
    for k, (start, no) in enumerate(found):
        end = found[k + 1][0] if k + 1 < len(found) else len(lines)
        skip = 2 if _NUM_ONLY.match(norm(lines[start])) else 1
        bodies[no] = "\n".join(lines[start + skip : end])
    return out, bodies
