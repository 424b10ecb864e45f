"""Property tests of the arithmetic: a consistent table never fails; any single perturbed cell always does."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
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
