"""The watching service against a real portal server on 127.0.0.1: discovery on every kind with paging,
new / unchanged / edited / withdrawn reports, challenge pages, deadlines, restarts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot import demo
from bot.config import ConfigError, load_config
from bot.fixture_portal import FixturePortal, Route
from bot.pipeline import scan_all
from bot.store import Store
from rules.config import load_rules

NOW = datetime(2026, 11, 27, 9, 0)
RULES = load_rules()


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[tuple[FixturePortal, Path]]:
    with FixturePortal() as portal:
        demo.build(portal)
        yield portal, demo.write_config(tmp_path, portal.url, (tmp_path / "db.sqlite").as_posix())


def scan(cfg: Path, now: datetime = NOW, only: str | None = None) -> tuple[list, list]:
    config = load_config(cfg)
    store = Store(config.database)
    try:
        results = asyncio.run(scan_all(config, store, RULES, now, only))
    finally:
        store.close()
    return results, [e for r in results for e in r.events]


def names(events: list) -> list[str]:
    return [type(e).__name__ for e in events]


def test_first_cycle_discovers_every_kind_with_paging(site) -> None:
    portal, cfg = site
    results, events = scan(cfg)
    hanweb, trs = results
    assert (hanweb.complete, hanweb.links, hanweb.new) == (True, 3, 3)  # 2 in the page + 1 via dataproxy (news skipped)
    assert (trs.complete, trs.pages, trs.links, trs.new) == (True, 2, 2, 2)
    assert ("POST", "/module/web/jpage/dataproxy.jsp", 200) in portal.hits
    assert ("GET", "/bm/nb/index_1.html", 200) in portal.hits
    assert names(events).count("ReportPublished") == 5
    store = Store(load_config(cfg).database)
    rows = {(r["body"], r["year"]): r for r in store.reports()}
    assert rows[("洪泽区人民政府", 2023)]["errors"] == 3 and rows[("洪泽区人民政府", 2023)]["evidence"] == "meta"
    assert rows[("示例区城东街道办事处", 2023)]["published"] == "2024-02-06"  # PDF attachment, page date kept
    assert store.search("行政复议") and store.search("城东街道")  # Chinese full-text search (trigram)
    missed = [e for e in events if type(e).__name__ == "DeadlineMissed"]
    assert {(e.body, e.year) for e in missed} >= {("示例区李庄镇人民政府", y) for y in (2021, 2022, 2023)}


def test_unchanged_second_scan_downloads_and_parses_nothing(site) -> None:
    portal, cfg = site
    scan(cfg)
    before = len(portal.hits)
    results, events = scan(cfg)
    assert events == []
    assert sum(r.unchanged for r in results) == 5 and sum(r.new + r.changed for r in results) == 0
    second = portal.hits[before:]
    articles = [h for h in second if "/art/" in h[1] or "/t2024" in h[1] or "/t2022" in h[1]]
    assert articles and all(status == 304 for _, _, status in articles)  # conditional GET, no re-download
    assert not [h for h in second if "/module/download/" in h[1] or h[1].endswith(".pdf")]
    store = Store(load_config(cfg).database)
    assert store.one("SELECT count(*) AS n FROM versions")["n"] == 5


def test_edited_report_gives_a_new_version_and_report_changed(site) -> None:
    portal, cfg = site
    scan(cfg)
    path = "/art/2022/1/20/art_1001_11.html"
    old = portal.routes[path].body
    portal.routes[path] = Route(
        old.replace("答复".encode("gb18030"), "办理答复".encode("gb18030"), 1), "text/html; charset=gb2312"
    )
    _results, events = scan(cfg)
    assert names(events) == ["ReportChanged"]
    store = Store(load_config(cfg).database)
    assert store.one("SELECT count(*) AS n FROM versions")["n"] == 6


def test_removed_report_is_withdrawn_once(site) -> None:
    portal, cfg = site
    scan(cfg)
    proxy = portal.proxies["/module/web/jpage/dataproxy.jsp"]
    portal.proxies["/module/web/jpage/dataproxy.jsp"] = [r for r in proxy if "art_1001_14" not in r]
    _r, events = scan(cfg)
    assert names(events) == ["ReportWithdrawn"] and events[0].body == "示例区人民政府"
    _r, events = scan(cfg)
    assert events == []


def test_challenge_page_is_blocked_not_nothing_new(site) -> None:
    portal, cfg = site
    scan(cfg)
    ok = portal.routes["/bm/nb/index.html"]
    portal.routes["/bm/nb/index.html"] = Route(
        b"<html><head><meta r='m'></head><body><script>$_ts=window['$_ts'];</script></body></html>", status=412
    )
    results, events = scan(cfg)
    trs = results[1]
    assert not trs.complete and "challenge" in trs.problem and trs.withdrawn == 0
    store = Store(load_config(cfg).database)
    assert store.health("洪泽区部门年报（TRS）")["status"] == "blocked"
    assert "ReportWithdrawn" not in names(events)
    _r, events = scan(cfg)  # the second failure reaches unhealthy_after = 2
    assert names(events) == ["PortalUnhealthy"] and events[0].status == "blocked"
    _r, events = scan(cfg)
    assert events == []  # one alert per episode
    portal.routes["/bm/nb/index.html"] = ok
    _r, events = scan(cfg)
    assert names(events) == ["PortalRecovered"]


def test_deadline_missed_exactly_once_and_restart_adds_nothing(site) -> None:
    _portal, cfg = site
    _r, events = scan(cfg)
    missed = [e for e in events if type(e).__name__ == "DeadlineMissed"]
    assert len(missed) == 5 * 3 - 4  # five expected bodies × three years, four reports found
    _r, events = scan(cfg)  # a new Store on the same file: a restart
    assert events == []
    early = datetime(2024, 1, 15, 9, 0)  # before the 2023 deadline: nothing is missed yet for 2023
    cfg2 = cfg.with_name("early.toml")
    cfg2.write_text(cfg.read_text(encoding="utf-8").replace("db.sqlite", "early.sqlite"), encoding="utf-8")
    _r, events = scan(cfg2, early)
    assert not [e for e in events if type(e).__name__ == "DeadlineMissed" and e.year == 2023]


def test_a_dead_portal_does_not_stop_the_others(site, tmp_path: Path) -> None:
    _portal, cfg = site
    trs = '[[portals]]\nname = "洪泽区部门年报（TRS）"'
    extra = (
        '[[portals]]\nname = "死门户"\nkind = "generic"\nlist_url = "http://127.0.0.1:9/none.html"\n'
        "allow_private = true\ntimeout = 2.0\n\n"
    )
    dead = cfg.read_text(encoding="utf-8").replace(trs, extra + trs, 1)
    cfg.write_text(dead, encoding="utf-8")
    results, _events = scan(cfg)
    by = {r.portal: r for r in results}
    assert not by["死门户"].complete and "network_error" in by["死门户"].problem
    assert by["洪泽区部门年报（TRS）"].complete and by["洪泽区部门年报（TRS）"].new == 2


def test_config_errors_name_the_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[service]\nyears = [2023]\n\n[[portals]]\nname = "a"\nkind = "hanweb"\nlist_url = "http://x"\n'
        'colour = "red"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"config.toml:4: .*colour"):
        load_config(cfg)
    cfg.write_text('[[portals]]\nname = "a"\nkind = "drupal"\nlist_url = "http://x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="drupal"):
        load_config(cfg)
    cfg.write_text(
        '[[portals]]\nname = "a"\nkind = "trs"\nlist_url = "http://x"\n[[portals.bodies]]\n'
        'name = "b"\nbody_type = "ministry"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="body_type"):
        load_config(cfg)


def test_run_service_scans_on_schedule_and_stops_on_sigterm(site) -> None:
    from tests.helpers import run_service_until

    _portal, cfg = site
    db = load_config(cfg).database

    def first_cycle_done() -> bool:
        if not db.exists():
            return False
        store = Store(db)
        try:
            return store.one("SELECT count(*) AS n FROM reports")["n"] == 5
        finally:
            store.close()

    code, err = run_service_until(cfg, first_cycle_done)
    assert first_cycle_done(), "the service did not complete its first cycle"
    assert code == 0, err
    assert "Traceback" not in err and "nianbao running" in err


def test_slow_and_garbage_portals_are_recorded_and_the_rest_continues(site) -> None:
    portal, cfg = site
    scan(cfg)
    portal.routes["/bm/nb/index.html"] = Route(b"<html><body>ok</body></html>", delay=4.0)
    portal.routes["/col/col1001/index.html"] = Route(bytes(range(256)) * 40, "text/html")  # garbage bytes
    text = cfg.read_text(encoding="utf-8").replace("delay = 0.0", "delay = 0.0\ntimeout = 1.0")
    cfg.write_text(text, encoding="utf-8")
    results, events = scan(cfg)
    hanweb, trs = results
    assert not trs.complete and "network_error" in trs.problem  # the stall ran into the 1 s timeout
    assert not hanweb.complete and "datastore" in hanweb.problem  # garbage is a failure, not "no reports"
    assert "ReportWithdrawn" not in names(events)
    store = Store(load_config(cfg).database)
    assert store.health("洪泽区部门年报（TRS）")["status"] == "down"
    assert store.one("SELECT count(*) AS n FROM runs")["n"] == 4
    assert store.one("SELECT count(*) AS n FROM reports WHERE status = 'active'")["n"] == 5


def test_an_empty_list_never_withdraws_everything(site) -> None:
    portal, cfg = site
    scan(cfg)
    portal.routes["/bm/nb/index.html"] = Route("<html><body><ul><li>暂无信息</li></ul></body></html>".encode())
    portal.routes.pop("/bm/nb/index_1.html")
    results, events = scan(cfg)
    assert "ReportWithdrawn" not in names(events) and "暂不判定撤下" in results[1].problem


def test_unchanged_list_skips_known_reports_until_the_reconcile(site) -> None:
    from datetime import timedelta

    portal, cfg = site
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace("reconcile_hours = 0", "reconcile_hours = 24"), encoding="utf-8"
    )
    scan(cfg)
    before = len(portal.hits)
    results, events = scan(cfg, NOW + timedelta(hours=1))
    articles = [h for h in portal.hits[before:] if "/art/" in h[1] or "/bm/nb/20" in h[1]]
    assert events == [] and articles == [] and sum(r.unchanged for r in results) == 5  # list pages only
    path = "/art/2022/1/20/art_1001_11.html"
    edited = portal.routes[path].body.replace("答复".encode("gb18030"), "办理答复".encode("gb18030"), 1)
    portal.routes[path] = Route(edited, "text/html; charset=gb2312")
    _r, events = scan(cfg, NOW + timedelta(hours=2))
    assert events == []  # same list, recent reconcile: the edit waits for the next reconcile
    _r, events = scan(cfg, NOW + timedelta(hours=27))
    assert names(events) == ["ReportChanged"]


def test_scheduler_jobs_coalesce_missed_runs_in_shanghai_time(site) -> None:
    from bot.service import build_scheduler, in_season

    _portal, cfg = site

    async def inspect() -> tuple:  # job defaults apply once the scheduler starts (paused: nothing runs)
        sched = build_scheduler(load_config(cfg), lambda name: None)
        sched.start(paused=True)
        try:
            return str(sched.timezone), sched.get_jobs()
        finally:
            sched.shutdown(wait=False)

    tz, jobs = asyncio.run(inspect())
    assert {j.id for j in jobs} == {"scan:示例区政府信息公开平台（大汉）", "scan:洪泽区部门年报（TRS）"}
    assert tz == "Asia/Shanghai"
    for job in jobs:
        assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time == 24 * 3600
        assert job.trigger.interval.total_seconds() == 3600  # season interval; ticks space out-of-season runs
    assert in_season(datetime(2025, 1, 10)) and in_season(datetime(2025, 4, 15)) and not in_season(datetime(2025, 6, 1))


def test_scan_shows_progress_on_a_terminal_only(site) -> None:
    import os
    import pty
    import subprocess
    import sys

    _portal, cfg = site
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    master, slave = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "scan", "--config", str(cfg)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=slave,
        timeout=120,
        check=False,
    )
    os.close(slave)
    tty_err = os.read(master, 65536).decode("utf-8", "replace")
    os.close(master)
    assert proc.returncode == 0 and "扫描 洪泽区部门年报（TRS）：2/2 份年报" in tty_err
    piped = subprocess.run(
        [sys.executable, "-m", "bot.cli", "scan", "--config", str(cfg)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0 and "扫描 " not in piped.stderr  # quiet when not a TTY


def test_ca_bundle_path_is_checked_at_load(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[[portals]]\nname = "a"\nkind = "trs"\nlist_url = "https://x"\nca_bundle = "certs/ca.pem"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"config.toml:5: .*ca_bundle"):
        load_config(cfg)
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    assert load_config(cfg).portals[0].ca_bundle == str((tmp_path / "certs" / "ca.pem").resolve())


def test_a_portal_with_several_list_urls(site) -> None:
    portal, cfg = site
    portal.routes["/bm/jd/index.html"] = Route(
        '<html><body><ul><li><a href="/art/2023/3/20/art_1001_14.html">示例区人民政府2022年政府信息公开工作年度报告</a>'
        "<span>2023-03-20</span></li></ul></body></html>".encode()
    )
    one = f'list_url = "{portal.url}/bm/nb/index.html"'
    two = f'list_url = ["{portal.url}/bm/nb/index.html", "{portal.url}/bm/jd/index.html"]'
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(one, two), encoding="utf-8")
    assert [c.list_url for c in load_config(cfg).portals[1].kind_configs] == [
        f"{portal.url}/bm/nb/index.html",
        f"{portal.url}/bm/jd/index.html",
    ]
    results, events = scan(cfg, only="洪泽区部门年报（TRS）")
    assert (results[0].complete, results[0].pages, results[0].links, results[0].new) == (True, 3, 3, 3)
    assert names(events).count("ReportPublished") == 3


def test_servers_without_validators_are_compared_by_hash(site) -> None:
    portal, cfg = site
    for route in portal.routes.values():
        route.etag = False
    scan(cfg)
    before = len(portal.hits)
    results, events = scan(cfg)
    second = portal.hits[before:]
    assert events == [] and sum(r.unchanged for r in results) == 5
    assert any("/art/" in p and s == 200 for _, p, s in second)  # fetched in full (no ETag to ask with) …
    assert Store(load_config(cfg).database).one("SELECT count(*) AS n FROM versions")["n"] == 5  # … not re-parsed


def test_a_cosmetic_change_is_not_a_new_version(site) -> None:
    portal, cfg = site
    scan(cfg)
    path = "/art/2022/1/20/art_1001_11.html"
    portal.routes[path] = Route(portal.routes[path].body + b"<!-- visits: 1234 -->", "text/html; charset=gb2312")
    results, events = scan(cfg)
    assert events == [] and sum(r.unchanged for r in results) == 5
    store = Store(load_config(cfg).database)
    assert store.one("SELECT count(*) AS n FROM versions")["n"] == 5
    before = len(portal.hits)
    scan(cfg)  # the new bytes' hash was remembered: compared by ETag now, nothing read again
    assert all(s == 304 for _, p, s in portal.hits[before:] if p == path)


def test_status_reports_show_and_config_check_commands(site) -> None:
    import json
    import os
    import subprocess
    import sys

    _portal, cfg = site
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args, "--config", str(cfg)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert "2 个门户，5 个机关" in cli("config", "check").stdout
    assert cli("scan").returncode == 0
    rows = json.loads(cli("status", "--json", "--year", "2023").stdout)
    by = {r["body"]: r for r in rows}
    assert by["示例区城东街道办事处"]["state"] == "late" and by["示例区城东街道办事处"]["errors"] == 3
    assert by["示例区李庄镇人民政府"]["state"] == "missing" and by["示例区人民政府"]["state"] == "missing"
    table = cli("status").stdout
    assert "逾期" in table and "未发布" in table and "按时" in table
    reports = json.loads(cli("reports", "--json").stdout)
    hongze = next(r for r in reports if r["body"] == "洪泽区人民政府")
    shown = json.loads(cli("show", str(hongze["id"]), "--json").stdout)
    assert {f["where"] for f in shown["findings"]} >= {"litigation/R4:review", "document"}
    assert "表四R4" in cli("show", str(hongze["id"])).stdout
    assert cli("show", "9999").returncode == 2


def fingerprints(store: Store) -> list[tuple[str, str]]:
    rows = store.rows("SELECT r.url, f.fingerprint FROM findings f JOIN reports r ON r.id = f.report_id")
    return sorted((r["url"], r["fingerprint"]) for r in rows)


def test_a_worker_pool_reads_and_checks_the_same_as_in_process(site, tmp_path: Path) -> None:
    """[service] workers = 2: reading and checking on two worker processes changes nothing but speed."""
    _portal, cfg = site
    scan(cfg)
    store = Store(load_config(cfg).database)
    inline = fingerprints(store)
    store.close()
    pooled_cfg = tmp_path / "pooled.toml"
    pooled_cfg.write_text(
        cfg.read_text(encoding="utf-8").replace("unhealthy_after = 2", "unhealthy_after = 2\nworkers = 2")
        .replace("db.sqlite", "pooled.sqlite"),
        encoding="utf-8",
    )  # fmt: skip
    from bot.analysis import _POOLS

    scan(pooled_cfg)
    assert any(a.pool is not None for a in _POOLS.values())  # really on worker processes
    store = Store(load_config(pooled_cfg).database)
    pooled = fingerprints(store)
    store.close()
    assert pooled == inline and len(inline) > 5


def test_full_text_search_indexes_after_the_scan_and_finds_short_terms(site) -> None:
    _portal, cfg = site
    scan(cfg)
    store = Store(load_config(cfg).database)
    try:
        pending = store.one("SELECT count(*) AS n FROM versions")["n"]
        assert store.one("SELECT indexed_upto FROM fts_state")["indexed_upto"] == 0  # nothing indexed in the scan
        assert store.index_text(limit=2) == 2 and store.index_text() == pending - 2 and store.index_text() == 0
        hits = store.search("行政复议")
        assert {h["body"] for h in hits} >= {"洪泽区人民政府"} and all("【行政复议】" in h["snippet"] for h in hits)
        short = store.search("收费")  # two characters: below the trigram index, found by a scan
        assert short and all("收费" in store.current_text(h["id"]) for h in short)
        assert store.search("不存在的词语组合") == [] and store.search('"') == []
        assert {h["year"] for h in store.search("行政复议", year=2023)} == {2023}
    finally:
        store.close()
    done = subprocess.run([sys.executable, "-m", "bot.cli", "search", "行政复议", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and "份年报" in done.stdout and "洪泽区人民政府" in done.stdout
