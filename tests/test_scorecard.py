"""The supervisor's scorecard: figures from real scans, the page's safety and self-containment, the
digest through a real WeCom-compatible robot and SMTP server, the read-only page server."""

from __future__ import annotations

import base64
import email
import hashlib
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.notify import open_store
from bot.scorecard import build, render_page
from bot.scorecard.model import Row, assemble
from bot.scorecard.publish import digest_period, enqueue_digest, page_route, write_pages
from scrapers.net import PageServer
from tests.alerting import BODY, RULES, report

HOSTILE = "<img src=x onerror=alert(1)>"
NOW = datetime(2024, 4, 10, 9, 30)  # after both deadlines of the 2023 reports


def _card(site, now: datetime = NOW, region: str | None = None):
    config = site.config()
    store, _ = open_store(config)
    try:
        return build(config, store, RULES, 2023, now, region)
    finally:
        store.close()


def _hostile_site(make_site):
    """One body publishes (defective, its list title carrying markup); the other never does."""
    site = make_site()
    site.publish(report(defect=True), title=f"{HOSTILE}{BODY}2023年政府信息公开工作年度报告")
    site.scan(NOW)
    return site


def test_figures_rows_and_findings_come_from_the_scan(make_site) -> None:
    card = _card(_hostile_site(make_site))
    by_body = {r.body: r for r in card.rows}
    assert set(by_body) == {BODY, "示例区李庄镇人民政府"}
    published, missing = by_body[BODY], by_body["示例区李庄镇人民政府"]
    assert published.state == "on_time" and published.published == "2024-01-20" and published.days_late is None
    assert published.has_errors and any(p.kind == "table.sum" and p.cells for p in published.problems)
    assert missing.state == "missing" and missing.deadline == "2024-01-31" and missing.days_late == 70
    total = card.total
    assert (total.expected, total.on_time, total.late, total.missing, total.with_errors) == (2, 1, 0, 1, 1)
    assert [f.region for f in card.regions] == ["示例区", "合计"]
    assert card.kinds[0][0] == "table.sum" and card.kinds[0][3] == 1
    assert [r.body for r in card.worst()] == ["示例区李庄镇人民政府", BODY]  # missing before "has errors"


def test_the_page_is_self_contained_escaped_and_locked_by_csp(make_site) -> None:
    page = render_page(_card(_hostile_site(make_site)))
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page and "onerror=" not in page.replace("onerror=alert(1)&gt;", "")
    assert not re.search(r"<(link|script)[^>]+(src|href)=", page), "no external assets"
    assert not re.search(r'(src|href)="https?://(?!127\.0\.0\.1)', page), "only report links leave the page"
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    for tag in ("script", "style"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp  # the page's own script and style, and nothing else, may run
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert page.count("<svg") == 2 and "@media print" in page
    assert page.count('<tr data-name="') == 2 and 'id="d-' in page  # rows and the details section


def test_region_filter_and_an_empty_year(make_site) -> None:
    site = _hostile_site(make_site)
    assert _card(site, region="别的区").rows == ()
    card = _card(site, now=datetime(2024, 1, 10))  # before the deadline: nobody is late yet
    assert {r.state for r in card.rows} == {"on_time", "pending"}
    page = render_page(assemble(2030, [], NOW, NOW.date()))
    assert "应发布年报的机关 0 个" in page and "未发现错误或警告" in page


def test_digest_is_due_once_per_period_and_not_on_a_late_first_start(make_site) -> None:
    site = make_site(scorecard='[scorecard]\ndigest = "weekly"\ndigest_day = "mon"\ndigest_at = "09:00"')
    config = site.config()
    assert config.scorecard.digest_channels == ("robot", "mail")  # every channel but the admin one
    monday = datetime(2026, 11, 23, 9, 0)
    assert digest_period(config, monday) == "2026-W48"
    assert digest_period(config, datetime(2026, 11, 23, 8, 59)) is None
    assert digest_period(config, datetime(2026, 11, 23, 20, 59)) == "2026-W48"  # down at 09:00, up by 21:00
    assert digest_period(config, datetime(2026, 11, 27, 10, 0)) is None  # first started on a Friday
    store, _ = open_store(config)
    try:
        assert enqueue_digest(config, store, monday) == 2
        assert enqueue_digest(config, store, datetime(2026, 11, 23, 10, 0)) == 0  # once per week
        assert enqueue_digest(config, store, datetime(2026, 11, 30, 9, 5)) == 2
    finally:
        store.close()
    daily = make_site(scorecard='[scorecard]\ndigest = "daily"\ndigest_at = "08:30"\ndigest_channels = ["mail"]')
    cfg = daily.config()
    assert digest_period(cfg, datetime(2026, 11, 27, 8, 30)) == "2026-11-27"
    assert cfg.scorecard.digest_channels == ("mail",)


def test_the_digest_arrives_by_mail_with_the_page_and_by_robot_as_a_table(make_site) -> None:
    site = make_site(scorecard='[scorecard]\ndigest = "weekly"\nport = 8765')
    site.publish(report(defect=True), title=f"{HOSTILE}{BODY}2023年政府信息公开工作年度报告")
    site.scan(NOW)
    config = site.config()
    store, _ = open_store(config)
    try:
        enqueue_digest(config, store, datetime(2024, 4, 8, 9, 1))  # a Monday
    finally:
        store.close()
    stats = site.deliver(datetime(2024, 4, 8, 9, 2))
    assert stats.sent >= 2
    [payload] = [r.payload for r in site.robot.delivered() if r.payload.get("msgtype") == "markdown_v2"]
    table = payload["markdown_v2"]["content"]
    assert "| 地区 | 应发布 | 按时 | 逾期发布 | 逾期未发布 | 未到期 | 有错误 |" in table
    assert "| 示例区 | 2 | 1 | 0 | 1 | 0 | 1 |" in table and "**合计**" in table
    assert "1. 示例区李庄镇人民政府：逾期" in table and "[查看完整页面](http://127.0.0.1:8765/)" in table
    [mail] = [m for m in site.mail.messages if "周报" in str(m["Subject"])]
    parsed = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
    [attached] = list(parsed.iter_attachments())
    assert attached.get_filename() == "scorecard-2023.html" and attached.get_content_type() == "text/html"
    page = attached.get_payload(decode=True).decode("utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page
    html_part = parsed.get_body(("html",)).get_content()
    assert "示例区李庄镇人民政府" in html_part and "按时 1" in str(mail["Subject"])


def test_page_server_serves_read_only(make_site) -> None:
    site = _hostile_site(make_site)
    config = site.config()
    store, _ = open_store(config)
    try:
        [written] = write_pages(config, store, RULES, NOW)
    finally:
        store.close()
    assert written == config.scorecard.path and written.parent == site.tmp / "var"
    health = {"ok": True}
    server = PageServer("127.0.0.1", 0, page_route(config, lambda: health)).start()
    try:
        with urllib.request.urlopen(server.url + "/", timeout=5) as resp:
            assert resp.status == 200 and resp.headers["X-Content-Type-Options"] == "nosniff"
            assert resp.read() == written.read_bytes()
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as resp:
            assert json.loads(resp.read()) == {"ok": True}
        health["ok"] = False
        for path, method, status in (("/healthz", "GET", 503), ("/", "POST", 405), ("/../db.sqlite", "GET", 404),
                                     ("/scorecard-2019.html", "GET", 503)):  # fmt: skip
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(urllib.request.Request(server.url + path, method=method, data=b"" if method ==
                                       "POST" else None), timeout=5)  # fmt: skip
            assert err.value.code == status, path
            err.value.close()
    finally:
        server.stop()


def test_cli_writes_the_page_and_refuses_an_unknown_region(make_site, tmp_path: Path) -> None:
    site = _hostile_site(make_site)
    out = tmp_path / "卡.html"
    run = [sys.executable, "-m", "bot.cli", "scorecard", "--config", str(site.cfg), "--year", "2023"]
    done = subprocess.run([*run, "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "应发布年报的机关 2 个" in done.stdout and out.read_text(encoding="utf-8").startswith("<!doctype html>")
    bad = subprocess.run([*run, "--region", "火星区"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "火星区" in bad.stderr and "示例区" in bad.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('digest = "monthly"', "weekly, daily or off"),
        ('digest_day = "funday"', "digest_day"),
        ('digest_at = "25:00"', "HH:MM"),
        ('digest_channels = ["nope"]', "no channel named 'nope'"),
        ('path = "x.pdf"', ".html"),
        ("colour = 1", "unknown key"),
    ],
)
def test_bad_scorecard_settings_name_the_line(make_site, setting: str, message: str) -> None:
    site = make_site(scorecard=f"[scorecard]\n{setting}")
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        load_config(site.cfg)
    line = int(re.search(r"config\.toml:(\d+)", str(err.value)).group(1))
    named = site.cfg.read_text(encoding="utf-8").splitlines()[line - 1].strip()
    assert named.startswith(setting.split(" ")[0]) or named == "[scorecard]"  # the key, or its section


def test_rows_sort_worst_first_within_a_region() -> None:
    def row(body: str, state: str, days: int | None = None) -> Row:
        return Row(body, "township", "甲区", "p", 2023, "2024-01-31", state, None, None, days, None, None, None)

    card = assemble(2023, [row("丙", "on_time"), row("乙", "missing", 3), row("甲", "late", 9)], NOW, NOW.date())
    assert [r.body for r in card.rows] == ["乙", "甲", "丙"]
    assert card.total.expected == 3 and card.total.published == 2


def test_the_running_service_serves_the_page_and_healthz(make_site) -> None:
    import socket

    from tests.helpers import run_service_until

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    site = make_site(scorecard=f'[scorecard]\ndigest = "off"\nport = {port}')
    site.publish(report(defect=True))
    got: dict[str, object] = {}

    def served() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                got["page"] = resp.read().decode("utf-8")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    got["health"] = (resp.status, json.loads(resp.read()))
            except urllib.error.HTTPError as err:
                got["health"] = (err.code, json.loads(err.read()))
                err.close()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        return "<tr data-name=" in str(got["page"]) and "checked_at" in str(got.get("health"))

    code, err = run_service_until(site.cfg, served, timeout=60)
    assert code == 0, err
    assert "示例区王集镇人民政府" in str(got["page"]), err
    status, health = got["health"]  # type: ignore[misc]
    assert status in (200, 503) and health["ok"] == (status == 200) and "outbox" in health
    assert f"served read-only at http://127.0.0.1:{port}/" in err
