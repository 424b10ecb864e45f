"""Shared fixtures: the bundled rules and the fixture corpus (tests fail loudly if it is missing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fixture_portal import FixturePortal
from bot.sinks import SmtpSink, WeComReceiver
from rules.config import RuleSet, load_rules
from tests.alerting import OPS_KEY, ROBOT_KEY, Site, write_config

CORPUS = Path(__file__).parent / "corpus"
FILES = CORPUS / "files"


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules()


def corpus_expected() -> dict[str, dict]:
    path = CORPUS / "expected.json"
    assert path.exists(), f"fixture corpus missing: {path} (run python tests/corpus/build.py)"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture()
def make_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    monkeypatch.setenv("NB_TEST_ROBOT_KEY", ROBOT_KEY)
    monkeypatch.setenv("NB_TEST_OPS_KEY", OPS_KEY)
    stack: list = []

    def make(receiver: WeComReceiver | None = None, **parts: str) -> Site:
        portal = FixturePortal().start()
        robot = receiver or WeComReceiver(keys={ROBOT_KEY, OPS_KEY})
        robot.__enter__()
        mail = SmtpSink().__enter__()
        stack.extend([portal.stop, lambda: robot.__exit__(None), lambda: mail.__exit__(None)])
        return Site(portal, robot, mail, write_config(tmp_path, portal.url, robot, mail, **parts), tmp_path)

    yield make
    for stop in reversed(stack):
        stop()
