"""Property tests: a consistent table never fails, any single perturbed cell always does; and every fast path
(normalisation, alignment, span grids, generated formulas) equals the slow one it replaced."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rules.checks.base import Context
from rules.checks.tables import identities
from rules.config import load_rules
from rules.read.document import read
from rules.read.rows import Row
from rules.read.tables import read_matrix
from scrapers.document import Document, Table
from tests.helpers import model as M

RULES = load_rules()
F21 = RULES.formats["F2021"]
ROWS = ["1", "2", *M.RESULT_ROWS["F2021"], "3.7", "4"]
APPLICANT = M.COLS[:-1]


@st.composite
def consistent_table(draw: st.DrawFn) -> dict[str, dict[str, int]]:
    t: dict[str, dict[str, int]] = {}
    for r in M.RESULT_ROWS["F2021"]:
        t[r] = {c: draw(st.integers(0, 500)) for c in APPLICANT}
    t["3.7"] = {c: sum(t[r][c] for r in M.RESULT_ROWS["F2021"]) for c in APPLICANT}
    t["2"] = {c: draw(st.integers(0, 50)) for c in APPLICANT}
    t["4"] = {c: draw(st.integers(0, 50)) for c in APPLICANT}
    t["1"] = {c: t["3.7"][c] + t["4"][c] - t["2"][c] for c in APPLICANT}
    for c in APPLICANT:
        if t["1"][c] < 0:
            t["4"][c] -= t["1"][c]
            t["1"][c] = 0
    for r in t:
        t[r]["total"] = sum(t[r][c] for c in APPLICANT)
    return t


def _findings(apps: dict) -> list:
    report = read(Document("x", "html", lines=("x",)), RULES.formats)
    from dataclasses import replace

    report = replace(report, tables={"applications": apps}, format_used={"applications": "F2021"})
    return identities(report, Context("identities", RULES, RULES.check("identities")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_table())
def test_consistent_tables_pass(apps: dict) -> None:
    assert _findings(apps) == []


@settings(max_examples=80, deadline=None)
@given(consistent_table(), st.sampled_from(ROWS), st.sampled_from(M.COLS), st.integers(1, 9), st.booleans())
def test_any_single_perturbation_fails(apps: dict, row: str, col: str, delta: int, down: bool) -> None:
    if down and apps[row][col] >= delta:
        delta = -delta
    apps[row][col] += delta
    found = _findings(apps)
    assert found and any(f"applications/{row}:{col}" in f.data["cells"] for f in found)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 10**6).map(str)), max_size=12), max_size=40
    ),
    st.booleans(),
)
def test_reader_never_raises_on_arbitrary_tables(cells: list[list], known: bool) -> None:
    table = Table(rows=tuple(tuple(r) for r in cells), rows_known=known)
    doc = Document("x", "html", lines=tuple(str(c) for r in cells for c in r if c), tables=(table,))
    read(doc, RULES.formats)
    read_matrix(
        [Row(("一、本年新收政府信息公开申请数量",), tuple(str(x) for x in range(3)), False, "line")],
        F21.tables["applications"],
        "lines",
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    consistent_table(),
    st.lists(
        st.tuples(st.sampled_from(ROWS), st.sampled_from([*APPLICANT, "total"]),
                  st.one_of(st.integers(-5, 900), st.none(), st.just("—"), st.just(True), st.floats(0, 9))),
        max_size=4,
    ),
    st.lists(st.sampled_from(ROWS), max_size=2),
)  # fmt: skip
def test_the_identity_fast_path_agrees_with_the_full_evaluation(table, edits, dropped) -> None:
    """quick_sides() may only ever say what evaluate() says: same sides when it answers, else it defers."""
    from rules.expr import evaluate, quick_sides

    data = {"applications": {r: dict(cols) for r, cols in table.items()}}
    for row, col, value in edits:
        data["applications"][row][col] = value
    for row in dropped:
        data["applications"].pop(row, None)
    universe = F21.universe(data)
    for rule in F21.identities:
        for _combo, ident in rule.formulas:
            if not ident.tables <= {"applications"}:
                continue
            quick = quick_sides(ident, data, lambda: universe)
            full = evaluate(ident, data, universe)
            if quick is not None:
                assert full.computable and (full.lhs, full.rhs) == quick, ident.text
            else:
                assert not full.computable, ident.text  # it defers only what evaluate() cannot compute either


# Chinese prose with everything that makes NFKC interesting: full-width forms, compatibility ideographs,
# circled numbers, combining marks, Hangul jamo, characters beyond the BMP, whitespace of every kind.
_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4E60),
    st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),
    st.sampled_from(list("，。、：；（）“”《》【】〔〕於傢—–·•①㈠㎡\u3000\u00a0 \t\n0123456789abcAB.、")),
    st.sampled_from(["\u0301", "\u0308", "\u1100", "\u1161", "\u11a8", "\uac00", "\u0b47", "\u0b3e", "\uf900"]),
    st.characters(min_codepoint=0x1D400, max_codepoint=0x1D40F),
    st.characters(codec="utf-8"),
)


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=60))
@example("123、a1、b.5、12、3、٣、（一）１、")
@example("關於第二十條第（一）項 “依申請” ①㈠\u3000e\u0301")
def test_the_fast_normalisation_equals_the_reference(text: str) -> None:
    """norm() avoids NFKC over whole texts and str.translate; it must give exactly what they give."""
    import re
    import unicodedata

    from rules import normalize as N

    assert N._nfkc(text) == unicodedata.normalize("NFKC", text)
    t = N._T2S.convert(unicodedata.normalize("NFKC", text)).translate(str.maketrans(N._EXTRA))
    t = re.sub(r"(?<![\d.])(\d{1,2})、", r"\1.", re.sub(r"\s+", "", t))
    assert N._normalise(text) == t


def _reference_align(s: list[list[float]], threshold: float) -> list[tuple[int, int, float]]:
    """The cell-by-cell dynamic programme align_scores() replaced (kept here as its oracle)."""
    n, m = len(s), len(s[0]) if s else 0
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = s[i][j] + best[i + 1][j + 1] if s[i][j] >= threshold else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    out, i, j = [], 0, 0
    while i < n and j < m:
        if s[i][j] >= threshold and abs(best[i][j] - (s[i][j] + best[i + 1][j + 1])) < 1e-9:
            out.append((i, j, s[i][j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


_SCORE = st.sampled_from([0.0, 0.3, 0.6, 0.61, 0.85, 0.88, 0.9, 1.0, 1.01])
_MATRIX = st.integers(1, 12).flatmap(
    lambda m: st.lists(st.lists(_SCORE, min_size=m, max_size=m), min_size=1, max_size=14)
)


@settings(max_examples=300, deadline=None)
@given(_MATRIX, st.sampled_from([0.5, 0.6, 0.65]))
@example([[0.3, 0.6], [0.6, 0.3]], 0.6)  # scores exactly at the threshold count
@example([[0.0, 0.0, 0.9], [0.9, 0.0, 0.0], [0.0, 0.61, 0.0]], 0.6)  # a later take that beats an earlier one
def test_the_row_wise_alignment_equals_the_cell_by_cell_one(matrix: list[list[float]], threshold: float) -> None:
    from rules.read.align import align_scores

    assert align_scores(matrix, threshold) == _reference_align(matrix, threshold)


def _reference_expand(rows: list[list[tuple]], max_span: int = 60) -> list[list]:
    """The slot-dictionary expansion grid.expand() replaced (kept here as its oracle)."""
    grid: dict[tuple[int, int], object] = {}
    n_rows = width = 0
    for r, row in enumerate(rows):
        n_rows, c = r + 1, 0
        for text, rowspan, colspan in row:
            while (r, c) in grid:
                c += 1
            rs, cs = min(max(rowspan, 1), max_span), min(max(colspan, 1), max_span)
            for dr in range(rs):
                for dc in range(cs):
                    grid.setdefault((r + dr, c + dc), text)
            c += cs
            width = max(width, c)
    n_rows = max([n_rows] + [rr + 1 for rr, _ in grid])
    return [[grid.get((r, c)) for c in range(width)] for r in range(n_rows)]


_SPAN_CELL = st.tuples(st.one_of(st.none(), st.text("abc1", max_size=2)), st.integers(-1, 4), st.integers(-1, 4))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_SPAN_CELL, max_size=6), max_size=7), st.sampled_from([2, 3, 60]))
def test_the_row_wise_grid_equals_the_slot_dictionary(rows: list[list[tuple]], max_span: int) -> None:
    from scrapers.extract.grid import expand

    assert expand(rows, max_span) == _reference_expand(rows, max_span)


_KEY = st.sampled_from(["a", "1"])
_LEAF = st.one_of(st.integers(-3, 9), st.floats(-2, 2, allow_nan=False), st.none(), st.just("—"), st.just(True))


def _level(inner: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly both keys present (so whole paths resolve), sometimes one missing, sometimes a stray value."""
    full = st.fixed_dictionaries({"a": inner, "1": inner})
    return st.one_of(full, full, full, st.dictionaries(_KEY, inner, max_size=1), _LEAF)


_NODE = _level(_level(_level(_LEAF)))  # table → row → column → cell
_TERM = st.one_of(
    st.tuples(_KEY, _KEY, _KEY).map(lambda p: "t." + ".".join(f'"{k}"' for k in p)),
    st.integers(0, 5).map(str),
    st.just("1.5"),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("+-"), _TERM), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from("+-"), _TERM), min_size=1, max_size=4),
    st.dictionaries(st.just("t"), _NODE, max_size=1),
)
@example([("+", 'c."a"."a"."a"'), ("-", "1.5")], [("-", 'c."a"."1"."a"')], {"t": {}})
@example(
    [("+", 't."a"."a"."a"')],
    [("-", "2"), ("+", 't."1"."a"."1"')],
    {"t": {"a": {"a": {"a": 3}}, "1": {"a": {"1": 2.5}}}},
)
@example([("+", 't."a"."a"."a"')], [("+", "0")], {"t": {"a": {"a": {"a": None}}}})
@example([("+", 't."a"."a"."a"')], [("+", "0")], {"t": {"a": {"a": {"a": "—"}}}})
@example([("+", 't."a"."a"."a"')], [("+", "0")], {"t": {"a": {"a": {"a": True}}}})
@example([("+", 't."a"."a"."a"')], [("+", "0")], {"t": {"a": "—"}})
@example([("+", 't."a"."a"."a"')], [("+", "0")], {"t": {"a": {"a": 7}}})
def test_the_generated_identity_equals_the_path_walk(left: list, right: list, data: dict) -> None:
    """Identity.quick (generated code) gives exactly what walking each reference's path gives."""
    from rules.expr import _walk_sides, parse_identity

    side = lambda terms: " ".join(f"{op} {t}" for op, t in terms).lstrip("+ ")  # noqa: E731
    ident = parse_identity(f"{side(left) or '0'} = {side(right) or '0'}")
    assert ident.quick is not None
    got, want = ident.quick(data), _walk_sides(ident, data)
    assert got == want and type(got) is type(want), (ident.text, data)
    if got is not None:
        assert [type(v) for v in got] == [type(v) for v in want]


def test_the_ranges_the_nfkc_tables_skip_are_stable_on_this_python() -> None:
    """_nfkc_tables() skips CJK ideographs and Hangul syllables: NFKC leaves them as they are, and what a
    syllable decomposes into is marked (so a text with jamo takes the exact path)."""
    import unicodedata

    from rules import normalize as N

    _changing, marks = N._nfkc_tables()
    for cp in [*range(0x4E00, 0xA000), *range(0xAC00, 0xD7A4)]:
        c = chr(cp)
        assert unicodedata.normalize("NFKC", c) == c and not unicodedata.combining(c), hex(cp)
        assert all(marks.match(x) for x in unicodedata.normalize("NFD", c)[1:]), hex(cp)


_T2S_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # Simplified and Traditional alike
    st.sampled_from(list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下")),
    st.sampled_from(["深沈", "憑藉", "反覆", "什麼", "瞭解", "乾燥", "著作", "關於", "\uf900", "𠀾", "。\n", " "]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_T2S_ALPHABET, max_size=400).map("".join))
@example("深" * 199 + "沈")  # a phrase whose characters do not change on their own (沈 stays 沈; 深沈 → 深沉)
@example("什" + "么" * 250)
def test_texts_skipped_by_the_t2s_change_set_are_those_opencc_leaves_alone(text: str) -> None:
    """to_simplified() leaves a text without any character of the change set unconverted: it must equal what
    OpenCC itself makes of every text, long (not cached) and short (cached) alike."""
    from rules import normalize as N

    assert N._t2s_changes() is not None  # the shipped list matches the installed OpenCC: the skip is in use
    want = N._T2S.convert(text)
    assert N.to_simplified(text) == want
    assert N.to_simplified(text + "。" * 200) == N._T2S.convert(text + "。" * 200)


def test_the_shipped_t2s_change_set_is_what_the_installed_opencc_changes(tmp_path) -> None:
    """rules/t2s_changes.txt against the installed OpenCC's own dictionaries (dumped with its opencc_dict tool):
    every character a first candidate changes (at its position; every character of a key whose value differs in
    length). On a new OpenCC this fails and prints the list to ship."""
    import importlib.metadata
    import subprocess
    from pathlib import Path

    import opencc

    from rules import normalize as N

    root = Path(opencc.__file__).parent / "clib"
    changes: set[str] = set()
    for name in ("TSPhrases", "TSCharacters", "TSCharactersExt", "CJK_Compatibility_Ideographs"):
        out = tmp_path / f"{name}.txt"
        subprocess.run(
            [root / "bin" / "opencc_dict", "-i", root / "share" / "opencc" / f"{name}.ocd2", "-o", out, "-f", "ocd2",
             "-t", "text"],
            check=True,
            timeout=60,
        )  # fmt: skip
        for line in out.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            key, values = line.split("\t")
            first = values.split(" ")[0]
            if first != key:
                changes.update(k for k, v in zip(key, first, strict=True) if k != v) if len(first) == len(key) else (
                    changes.update(key)
                )
    lines = [x for x in N._CHANGES.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]
    shipped = set("".join(lines[1:]))
    want = "".join(sorted(changes))
    assert lines[0] == f"opencc {importlib.metadata.version('opencc')}" == f"opencc {opencc.__version__}", want
    assert shipped == changes, want
    assert len(changes) > 5000 and "沈" in changes and "於" in changes and "中" not in changes


def test_the_nfkc_tables_equal_the_brute_force_over_every_character() -> None:
    """_nfkc_tables() looks closer only at characters with a decomposition; the brute force normalises every
    character of the BMP three ways. Same skipped ranges, same two patterns."""
    import unicodedata

    from rules import normalize as N

    changing: list[int] = []
    marks: set[int] = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF or 0x4E00 <= cp <= 0x9FFF or 0xAC00 <= cp <= 0xD7A3:
            continue
        c = chr(cp)
        if unicodedata.combining(c) or any(unicodedata.combining(x) for x in unicodedata.normalize("NFKD", c)):
            marks.add(cp)
        marks.update(ord(x) for x in unicodedata.normalize("NFD", c)[1:])
        if unicodedata.normalize("NFKC", c) != c:
            changing.append(cp)
    one = "[" + N._ranges(changing) + "]"
    want_changing = one + one + "*"
    want_marks = "[" + N._ranges(sorted(marks)) + "\U00010000-\U0010ffff]"
    got_changing, got_marks = N._nfkc_tables()
    assert got_changing.pattern == want_changing
    assert got_marks.pattern == want_marks


_WORDS = st.sampled_from(
    ["", " ", "\xa0", "\u3000", "\n\t", "2024-01-20", "[2023/1/8]", "示例区2023年政府信息公开工作年度报告", "通知",
     "&amp;", "&nbsp;", "&lt;b&gt;", "<!-- 注释 -->", "<br>", "<?php x ?>", "<![CDATA[c]]>"]
)  # fmt: skip
_ATTRS = st.dictionaries(
    st.sampled_from(["href", "title", "HREF", "class"]),
    st.sampled_from(["", " ", "a.html", " /b/c.html ", "#top", "javascript:void(0)", "年度报告", "x&amp;y", "\xa0"]),
    max_size=3,
)


def _attrs(attrs: dict[str, str]) -> str:
    return "".join(f' {k}="{v}"' for k, v in attrs.items())


_TAGS = st.sampled_from(
    ["a", "A", "li", "div", "p", "tr", "td", "dd", "span", "ul", "table", "script", "style", "template", "rt", "rp",
     "ruby", "b", "noscript", "title"]
)  # fmt: skip
_HTML = st.recursive(
    _WORDS,
    lambda inner: st.builds(
        lambda tag, attrs, kids: f"<{tag}{_attrs(attrs)}>{''.join(kids)}</{tag}>",
        _TAGS,
        _ATTRS,
        st.lists(inner, max_size=4),
    ),
    max_leaves=25,
)


def _both_anchor_readers(html: str, tag: str) -> tuple[list, list]:
    import warnings

    from bs4 import XMLParsedAsHTMLWarning

    from scrapers.portals import anchors as A

    def run(reader):  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # (the XML declaration case)
            return [(href, title, holder()) for href, title, holder in reader(html, tag)]

    return run(A._by_tag), run(A._by_css)


@settings(max_examples=300, deadline=None)
@given(st.lists(_HTML, max_size=4), st.sampled_from(["", "<html><body>", "<?xml version='1.0' encoding='utf-8'?>"]))
@example(['<li><a href="a.html">示例区2023年政府信息公开工作年度报告</a><script>x</script> [2024-01-20]</li>'], "")
@example(["<template><li><a>t</a> 2024-01-20</li></template>", "<ruby>报<rt>bao</rt></ruby><a>x</a>"], "")
def test_the_lxml_anchor_reader_equals_beautifulsoups(parts: list[str], head: str) -> None:
    """Links of a list page by tag name from lxml's tree: hrefs, titles and holder texts exactly as
    BeautifulSoup's select() / get_text(" ", strip=True) / find_parent() give them."""
    fast, slow = _both_anchor_readers(head + "".join(parts), "a")
    assert fast == slow
    fast, slow = _both_anchor_readers("".join(parts), "li")
    assert fast == slow


def test_the_anchor_readers_agree_on_every_simulated_and_fixture_list_page() -> None:
    from bench.simulator import Simulator
    from scrapers.charset import decode
    from scrapers.portals.hanweb import records

    pages = []
    with Simulator(60, 6, pdf_every=20) as sim:
        for p in sim.portals:
            for route in p.server.routes.values():
                if "html" in (route.content_type or "") or route.body.lstrip().startswith(b"<"):
                    pages.append(decode(route.body, route.content_type)[0])
    pages += ["".join(records(html)) for html in pages if "<datastore>" in html]  # Hanweb's records, as read
    links = 0
    for html in pages:
        fast, slow = _both_anchor_readers(html, "a")
        assert fast == slow
        links += len(fast)
    assert len(pages) > 60 and links > 60


_JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(),
    st.dates(), st.datetimes(), st.just({1, 2}), st.builds(lambda: RULES.check("identities")),
)  # fmt: skip
_JSON_VALUE = st.recursive(
    _JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none()), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUE)
@example({"big": 2**70, "surrogate": "\ud800", 1: (1.5, None)})
def test_the_stores_json_is_what_the_json_module_wrote(value: object) -> None:
    """bot/store.py writes its JSON columns with orjson where it can: the same JSON as json.dumps(value,
    ensure_ascii=False, default=str) gave — dates, datetimes, sets and dataclasses through str; big integers and
    lone surrogates through the json module — up to spacing."""
    import json

    from bot.store import _dumps

    assert json.loads(_dumps(value)) == json.loads(json.dumps(value, ensure_ascii=False, default=str))


_GLOB_TERM = st.one_of(
    _TERM,
    st.sampled_from(['sum(t."*"."a"."a")', 'sum(t."a"."*"."1")', 'sum(t."1"."a"."*")', 'sum(t."*"."*"."a")',
                     'sum(t."1*"."a"."a")', 'sum(t."*"."a")', 'sum(u."*"."a"."a")']),
)  # fmt: skip
_UNIVERSE = st.dictionaries(
    st.sampled_from([("t",), ("t", "a"), ("t", "1", "a")]), st.lists(_KEY, max_size=2, unique=True), max_size=3
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("+-"), _GLOB_TERM), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from("+-"), _GLOB_TERM), min_size=1, max_size=4),
    st.dictionaries(st.just("t"), _NODE, max_size=1),
    _UNIVERSE,
)
@example([("+", 'sum(t."*"."a"."a")')], [("+", "3")], {"t": {"a": {"a": {"a": 1}}, "1": {"a": {"a": 2.5}}}}, {})
@example([("+", 'sum(t."*"."a"."a")')], [("+", "0")], {"t": {"a": {"a": {"a": 1}}}}, {("t",): ["1"]})
def test_the_spelled_out_glob_formula_equals_the_path_walk(left: list, right: list, data: dict, universe: dict) -> None:
    """A glob formula generated for the keys its globs meet (and remembered) gives what walking it gives."""
    from rules.expr import _walk_sides, parse_identity, quick_sides

    side = lambda terms: " ".join(f"{op} {t}" for op, t in terms).lstrip("+ ")  # noqa: E731
    ident = parse_identity(f"{side(left) or '0'} = {side(right) or '0'}")
    want = _walk_sides(ident, data, lambda: universe)
    for _ in range(2):  # generated, then remembered
        got = quick_sides(ident, data, lambda: universe)
        assert got == want and type(got) is type(want), (ident.text, data, universe)
        if got is not None:
            assert [type(v) for v in got] == [type(v) for v in want]


def test_a_page_lxml_refuses_is_read_by_beautifulsoup(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A list page lxml will not take as a string falls back to the other reader instead of failing the portal's
    discovery (lxml's refusal is simulated: the strings it refuses — an encoding declaration — are stripped)."""
    from scrapers.portals import anchors as A

    html = '<ul><li><a href="a.html">示例区2023年政府信息公开工作年度报告</a> 2024-01-20</li></ul>'
    want = [(href, title, holder()) for href, title, holder in A._by_css(html, "a")]

    def refuse(*args: object) -> None:
        raise ValueError("Unicode strings with encoding declaration are not supported")

    monkeypatch.setattr(A.etree, "fromstring", refuse)
    got = [(href, title, holder()) for href, title, holder in A.anchors(html, "a")]
    assert got == want and got[0][0] == "a.html" and "2024-01-20" in got[0][2]
