"""Shared fixtures: the bundled rules and the fixture corpus (tests fail loudly if it is missing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rules.config import RuleSet, load_rules

CORPUS = Path(__file__).parent / "corpus"
FILES = CORPUS / "files"


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules()


def corpus_expected() -> dict[str, dict]:
    path = CORPUS / "expected.json"
    assert path.exists(), f"fixture corpus missing: {path} (run python tests/corpus/build.py)"
    return json.loads(path.read_text(encoding="utf-8"))
