"""Mutation tests: one change to a clean report → exactly the kind of finding that change implies."""

from __future__ import annotations

import random
from datetime import date

import pytest

from tests.helpers import check_bytes, model

M = model


def clean(fmt: str = "F2021", seed: int = 5) -> M.Model:
    year = 2022 if fmt == "F2021" else 2020
    return M.consistent("示例区东湖街道办事处", year, fmt, date(year + 1, 1, 15), seed=seed)


RENDER = {
    "html": (lambda m: M.to_html(m), "r.html"),
    "pipe": (lambda m: M.to_pipe_text(m), "r.txt"),
    "layer": (lambda m: M.to_layer_text(m), "r.txt"),
}


@pytest.mark.parametrize("fmt", ["F2019", "F2021"])
@pytest.mark.parametrize("shape", sorted(RENDER))
def test_clean_report_has_no_findings(fmt: str, shape: str, rules) -> None:
    render, name = RENDER[shape]
    _report, findings = check_bytes(render(clean(fmt)), name, rules)
    assert findings == []


def _app_cells(m: M.Model) -> list[tuple[str, str]]:
    return [(r, c) for r in m.applications for c in M.COLS]


@pytest.mark.parametrize("fmt", ["F2019", "F2021"])
def test_every_table3_and_table4_number_changed_gives_a_sum_finding(fmt: str, rules) -> None:
    base = clean(fmt)
    targets = [("applications", r, c) for r, c in _app_cells(base)] + [("litigation", k, "") for k in base.litigation]
    for table, row, col in targets:
        m = base.copy()
        if table == "applications":
            m.applications[row][col] += 1  # type: ignore[operator]
            path = f"applications/{row}:{col}"
        else:
            m.litigation[row] += 1  # type: ignore[operator]
            path = f"litigation/{row}"
        _r, findings = check_bytes(M.to_html(m), "r.html", rules)
        sums = [f for f in findings if f.kind == "table.sum"]
        assert sums, f"changing {path} was not caught"
        assert all(f.rule in ("R1", "R2", "R3", "R4") and f.rule in f.where for f in sums)
        assert any(path in f.data["cells"] for f in sums), f"{path} not named in {[f.where for f in sums]}"
        prose = {"content.prose_mismatch"} if (row, col) in (("1", "total"), ("3.7", "total")) else set()
        assert {f.kind for f in findings} == {"table.sum"} | prose, (path, [f.message for f in findings])


@pytest.mark.parametrize("shape", ["pipe", "layer"])
def test_changed_number_in_flattened_text_is_caught(shape: str, rules) -> None:
    rnd = random.Random(7)
    base = clean("F2021")
    render, name = RENDER[shape]
    for row, col in rnd.sample(_app_cells(base), 12):
        m = base.copy()
        m.applications[row][col] += 3  # type: ignore[operator]
        _r, findings = check_bytes(render(m), name, rules)
        assert any(f.kind == "table.sum" for f in findings), (row, col)


@pytest.mark.parametrize("shape", ["html", "pipe"])
def test_blanking_a_cell_gives_table_blank(shape: str, rules) -> None:
    rnd = random.Random(3)
    base = clean("F2021")
    render, name = RENDER[shape]
    for row, col in rnd.sample(_app_cells(base), 10):
        m = base.copy()
        m.applications[row][col] = None
        _r, findings = check_bytes(render(m), name, rules)
        blanks = [f for f in findings if f.kind == "table.blank"]
        assert [f.where for f in blanks] == [f"applications/{row}"], [f.message for f in findings]
        assert blanks[0].data["columns"] == [col]
        assert not [f for f in findings if f.kind == "table.sum"]  # a blank is not also an arithmetic error


@pytest.mark.parametrize("section", range(1, 7))
def test_deleting_a_heading_gives_section_missing(section: int, rules) -> None:
    m = clean("F2021")
    m.headings[section - 1] = None
    _r, findings = check_bytes(M.to_html(m), "r.html", rules)
    missing = [f.where for f in findings if f.kind == "section.missing"]
    assert missing == [f"section/{section}"]


def test_f2019_labels_in_a_2022_report(rules) -> None:
    old = M.consistent("示例区东湖街道办事处", 2022, "F2019", date(2023, 1, 15), seed=5)
    _r, findings = check_bytes(M.to_html(old), "r.html", rules)
    assert {"format.outdated"} & {f.kind for f in findings}
    new = clean("F2021")
    tables = M.html_tables(new)
    tables[2] = M.html_tables(old)[2]
    _r, findings = check_bytes(M.to_html(new, tables=tables), "r.html", rules)
    assert {"format.mixed"} & {f.kind for f in findings}


def test_run_together_digits_are_split_when_unambiguous(rules) -> None:
    m = clean("F2021")
    new = dict.fromkeys(M.COLS, 0) | {"natural": 1, "commercial": 2, "total": 3}
    for c in M.COLS:  # keep R1–R3 true: the change flows into （七）总计 and 本年新收
        delta = new[c] - m.applications["3.3.1"][c]  # type: ignore[operator]
        m.applications["3.7"][c] += delta  # type: ignore[operator]
        m.applications["1"][c] += delta  # type: ignore[operator]
    m.applications["3.3.1"] = new
    m.prose[1] = m.prose[1][:2]
    report, findings = check_bytes(M.to_layer_text(m, run_together=("3.3.1",)), "r.txt", rules)
    assert report.tables["applications"]["3.3.1"] == m.applications["3.3.1"]
    assert not [f for f in findings if f.severity == "error"], [f.message for f in findings]
