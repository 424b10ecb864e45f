"""Every fixture of the corpus gives exactly the findings its injected defect (or real mistake) implies."""

from __future__ import annotations

import shutil

import pytest

from bot.checking import Options, run_check
from tests.conftest import FILES, corpus_expected

EXPECTED = corpus_expected()


def test_corpus_is_large_and_varied() -> None:
    names = list(EXPECTED)
    assert len(names) >= 15
    kinds = {n.rsplit(".", 1)[1] for n in names}
    assert {"html", "pdf", "docx", "txt"} <= kinds
    assert any("traditional" in n for n in names) and any(EXPECTED[n]["format"] == "F2019" for n in names)
    assert any(EXPECTED[n]["format"] == "F2021" for n in names)
    for name in names:
        assert (FILES / name).is_file(), f"missing fixture file {name}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(name: str, rules) -> None:
    exp = EXPECTED[name]
    previous = str(FILES / exp["previous"]) if exp.get("previous") else None
    outcome = run_check(str(FILES / name), rules, Options(previous=previous))
    if exp.get("needs") == "antiword" and not shutil.which("antiword"):
        assert outcome.error and "antiword" in outcome.error  # the clear "unsupported" answer, never a crash
        return
    assert outcome.error is None, outcome.error
    got = sorted((f.severity, f.kind, f.where) for f in outcome.findings)
    want = sorted(tuple(x) for x in exp["findings"])
    assert got == want, "\n".join(f"{f.severity} {f.kind} {f.where}: {f.message}" for f in outcome.findings)
    r = outcome.report
    assert (r.year, r.format, r.body, r.body_type) == (exp["year"], exp["format"], exp["body"], exp["body_type"])


def test_no_false_errors_on_clean_reports(rules) -> None:
    """Zero error-level findings on every clean report of the corpus (synthetic and real)."""
    clean = [n for n, e in EXPECTED.items() if not any(f[0] == "error" for f in e["findings"])]
    assert len(clean) >= 10
    for name in clean:
        exp = EXPECTED[name]
        if exp.get("needs") and not shutil.which(exp["needs"]):
            continue
        previous = str(FILES / exp["previous"]) if exp.get("previous") else None
        outcome = run_check(str(FILES / name), rules, Options(previous=previous))
        errors = [f"{f.kind} {f.where}: {f.message}" for f in outcome.findings if f.severity == "error"]
        assert not errors, f"{name}: {errors}"
