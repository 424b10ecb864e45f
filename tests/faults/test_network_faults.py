"""Every network fault of the open web against the one network module: each fetch ends within its
time budget, is classified (never "nothing new"), and a redirect never reaches another local service
or the intranet. Then whole portals built of faults: recorded in portal health, the good portal beside
them still scanned, one PortalUnhealthy per episode and one recovery."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.fixture_portal import FixturePortal, Route
from bot.notify import open_store
from bot.pipeline import scan_all
from rules.config import load_rules
from scrapers.net import Fetcher, FetchResult, Politeness
from tests.faults.fault_server import FRAMINGS, PAGE, FaultServer

TIMEOUT, BUDGET = 1.0, 3.0


def fetch(url: str, **kw: object) -> tuple[FetchResult, float]:
    pol = Politeness(**{"allow_private": True, "timeout": TIMEOUT, "budget": BUDGET, "retries": 0, **kw})  # type: ignore[arg-type]

    async def go() -> FetchResult:
        async with Fetcher(pol) as f:
            return await f.fetch(url)

    start = time.monotonic()
    res = asyncio.run(go())
    return res, time.monotonic() - start


@pytest.fixture(scope="module")
def faults():
    with FaultServer(hold=8) as server:
        yield server


CASES = [
    ("/stall-headers", "network_error", "ReadTimeout"),
    ("/stall-body", "network_error", "ReadTimeout"),
    ("/slowloris", "network_error", "budget"),
    ("/reset", "network_error", ""),
    ("/truncate", "network_error", ""),
    ("/500", "http_error", ""),
    ("/502", "http_error", ""),
    ("/loop", "http_error", "too many redirects"),
    ("/gzip-bomb", "too_large", "bytes"),
    ("/endless", "too_large", "bytes"),
    ("/huge", "too_large", "bytes"),
    ("/challenge", "challenge", ""),
    ("/to/local", "blocked", "127.0.0.1"),
    ("/to/v6", "blocked", "::1"),
    ("/to/10", "blocked", "10.0.0.1"),
    ("/to/meta", "blocked", "169.254.169.254"),
    ("/to/cgnat", "blocked", "100.64.0.1"),
]


@pytest.mark.parametrize(("path", "status", "detail"), CASES, ids=[c[0] for c in CASES])
def test_each_fault_ends_within_its_budget_and_is_classified(faults, path: str, status: str, detail: str) -> None:
    res, took = fetch(faults.url + path, max_bytes=5 << 20)
    assert res.status == status, (res.status, res.error)
    assert detail in (res.error or "") or detail == ""
    assert took < BUDGET + 1.5, f"{path} took {took:.1f}s"
    assert not res.ok


def test_every_framing_and_content_coding_reads_the_same_page(faults) -> None:
    """Chunked, close-delimited, gzip, zlib-wrapped and raw deflate: the body is the page, byte for byte."""
    for path in FRAMINGS:
        res, _ = fetch(faults.url + path)
        assert res.ok and res.data == PAGE, (path, res.status, res.error, res.data[:60])


def test_a_kept_alive_connection_closed_as_it_is_reused_is_replaced_not_failed(faults) -> None:
    """The server closes a kept-alive connection just as the next request arrives (its idle timeout racing
    ours): the request goes again on a new connection at once, without spending one of the retries."""

    async def go() -> list[FetchResult]:
        async with Fetcher(Politeness(allow_private=True, timeout=TIMEOUT, retries=0)) as f:
            return [await f.fetch(faults.url + "/drop-second") for _ in range(3)]

    before = len(faults.hits)
    results = asyncio.run(go())
    assert [(r.status, r.data) for r in results] == [("ok", PAGE)] * 3, [r.error for r in results]
    assert faults.hits[before:] == ["/drop-second"] * 5  # the second and third each asked twice


def test_redirects_to_private_addresses_are_refused_before_sending(faults) -> None:
    before = len(faults.hits)
    for path in ("/to/local", "/to/10", "/to/meta"):
        fetch(faults.url + path)
    assert faults.hits[before:] == ["/to/local", "/to/10", "/to/meta"]  # the targets were never asked


def test_retry_after_is_honoured_for_429_and_503(faults) -> None:
    for path in ("/429", "/503"):
        res, took = fetch(faults.url + path, retries=1, backoff=0.1)
        assert res.status == "http_error" and res.http_status == int(path[1:])
        assert took >= 1.0  # waited the server's Retry-After (1 s), not the 0.1 s backoff


def test_charset_lies_are_decoded_as_gb18030(faults) -> None:
    from scrapers.extract import extract

    for path in ("/wrong-charset", "/no-charset"):
        res, _ = fetch(faults.url + path)
        assert res.ok
        doc = extract(res.data, "a.html", res.content_type)
        assert "政府信息公开工作年度报告" in doc.text, path


PORTALS = """
[service]
database = "{db}"
years = [2023]
unhealthy_after = 2

{portals}
[[portals]]
name = "正常门户"
kind = "trs"
list_url = "{good}/nb/index.html"
allow_private = true
delay = 0.0

[[portals.bodies]]
name = "示例区王集镇人民政府"
body_type = "township"
"""


def test_fault_portals_are_recorded_and_the_good_one_is_scanned(faults, tmp_path: Path) -> None:
    from tests.alerting import list_page, report
    from tests.corpus.model import to_html

    bad = [path for path, _status, _detail in CASES] + ["/429", "/503"]  # every failing fault, as a list page
    portals = "".join(
        f'[[portals]]\nname = "故障{p}"\nkind = "generic"\nlist_url = "{faults.url}{p}"\nallow_private = true\n'
        f"delay = 0.0\ntimeout = {TIMEOUT}\n\n"
        for p in bad
    )
    with FixturePortal() as good:
        good.routes["/nb/202401/t1.html"] = Route(to_html(report(defect=False)))
        good.routes["/nb/index.html"] = Route(
            list_page(("./202401/t1.html", "示例区王集镇人民政府2023年政府信息公开工作年度报告"))
        )
        cfg = tmp_path / "config.toml"
        cfg.write_text(PORTALS.format(db=(tmp_path / "db.sqlite").as_posix(), portals=portals, good=good.url))
        config = load_config(cfg)
        store, _alerting = open_store(config)
        rules = load_rules()
        now = datetime(2026, 11, 27, 9, 0)
        try:
            start = time.monotonic()
            results = asyncio.run(scan_all(config, store, rules, now))
            took = time.monotonic() - start
            again = asyncio.run(scan_all(config, store, rules, now + timedelta(hours=1)))
            health = {r["portal"]: r for r in store.rows("SELECT * FROM portal_health")}
            events = store.rows("SELECT type, payload FROM events WHERE type = 'PortalUnhealthy'")
        finally:
            store.close()
    by_name = {r.portal: r for r in results}
    assert by_name["正常门户"].complete and by_name["正常门户"].new == 1  # unaffected by its neighbours
    assert took < 90
    for p in bad:
        assert not by_name[f"故障{p}"].complete
        assert health[f"故障{p}"]["status"] in ("down", "blocked") and health[f"故障{p}"]["failures"] == 2
    assert health["故障/challenge"]["status"] == "blocked"
    assert len(events) == len(bad)  # one per portal for the episode, not one per scan
    assert all(not r.complete for r in again if r.portal != "正常门户")
