"""The alert lifecycle end to end, against real servers on 127.0.0.1: a portal, a WeCom-compatible
robot and an SMTP server. Fire once, resolve once, remind, route, quiet hours, digests, dead
letters, a broken robot key, the rate limit, and hostile titles arriving as inert text."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest

from bot.fixture_portal import Route
from bot.sinks import WeComReceiver
from bot.store import Store
from tests.alerting import BODY, OPS_KEY, ROBOT_KEY, Site, report

NOW = datetime(2026, 11, 27, 9, 0)


def alert_rows(site: Site, state: str | None = None) -> list[dict]:
    store = Store(site.config().database)
    try:
        return store.alerts(state)
    finally:
        store.close()


def test_same_finding_in_ten_scans_is_one_alert_and_a_fix_is_one_resolve(make_site) -> None:
    site = make_site()
    m = report(defect=True)
    site.publish(m)
    for i in range(10):
        if i:  # the page is edited each time (a new version is read and checked again), the defect stays
            route = site.portal.routes["/nb/202401/t1.html"]
            edit = f'</p><p>（第{i}次更新）</p></div><div class="footer">'.encode()
            site.portal.routes["/nb/202401/t1.html"] = Route(
                route.body.replace(b'</p></div><div class="footer">', edit)
            )
        site.scan(NOW + timedelta(hours=i))
        site.deliver(NOW + timedelta(hours=i))
    sums = [a for a in alert_rows(site) if a["kind"] == "table.sum"]
    assert {json.loads(a["item"])["rule"] for a in sums} == {"R1", "R2"}  # row 4's total breaks both
    texts = site.robot_texts()
    for a in sums:  # each fired once, in the new-report message
        assert sum(a["fingerprint"][:8] in t for t in texts) == 1
    first = texts[0]
    assert "发现新发布的年报" in first and "R2" in first and BODY in first and "处理建议" in first
    subjects = [str(m["Subject"]) for m in site.mail.messages]
    assert len(subjects) == 11  # e-mail route: the new report, the other town's missed deadline, nine edits
    assert sum("年报已被修改" in s for s in subjects) == 9

    route = site.portal.routes["/nb/202401/t1.html"]  # a cosmetic change (same words): no version, no alert
    site.portal.routes["/nb/202401/t1.html"] = Route(route.body + b"<!-- counter 12345 -->")
    assert site.scan(NOW + timedelta(hours=11)) == []

    site.publish(report(defect=False))
    site.scan(NOW + timedelta(days=1))
    site.deliver(NOW + timedelta(days=1))
    site.scan(NOW + timedelta(days=2))
    site.deliver(NOW + timedelta(days=2))
    texts = site.robot_texts()
    for a in sums:
        assert sum(a["fingerprint"][:8] in t and "已纠正：表格勾稽关系不成立" in t for t in texts) == 1
    assert [a for a in alert_rows(site, "firing") if a["kind"] == "table.sum"] == []


def test_deadline_missed_fires_reminds_weekly_and_resolves_when_published(make_site) -> None:
    site = make_site()
    site.portal.routes["/nb/index.html"] = Route(b"<html><body><ul class='list'><li>none</li></ul></body></html>")
    site.scan(NOW)  # 2023 reports were due 2024-01-31 and nothing is published
    site.deliver(NOW)
    texts = site.robot_texts()
    assert len(texts) == 1 and "逾期未发布年报 2 条" in texts[0] and "示例区李庄镇人民政府" in texts[0]
    config = site.config()
    from bot.notify import open_store

    store, alerting = open_store(config)
    try:
        assert alerting.remind(store, NOW + timedelta(days=3)) == 0
        assert alerting.remind(store, NOW + timedelta(days=7, minutes=1)) == 2
        assert alerting.remind(store, NOW + timedelta(days=8)) == 0  # once a week, not every pass
    finally:
        store.close()
    site.deliver(NOW + timedelta(days=7, minutes=2))
    assert "提醒：问题仍未解决" in site.robot_texts()[-1]
    site.publish(report(defect=False))
    site.scan(NOW + timedelta(days=9))
    site.deliver(NOW + timedelta(days=9))
    last = site.robot_texts()[-1]
    assert "已补发年报（此前逾期未发布）" in last and BODY in last
    firing = {(a["kind"], a["body"]) for a in alert_rows(site, "firing")}
    assert ("deadline.missing", BODY) not in firing and ("deadline.missing", "示例区李庄镇人民政府") in firing


def test_hostile_titles_arrive_as_inert_text(make_site) -> None:
    site = make_site()
    hostile = "<script>alert(1)</script>[点我](http://evil.example/x)<@all><img src=x onerror=alert(1)>"
    title = f"{BODY}2023年政府信息公开工作年度报告{hostile}"
    site.publish(report(defect=True), title=title)
    site.scan(NOW)
    site.deliver(NOW)
    md = site.robot_texts()[0]
    assert "<script" not in md and "<@all>" not in md and "<img" not in md
    assert "](http://evil" not in md and "[点我]" not in md
    assert "＜script＞" in md  # shown, as text
    msg = site.mail.messages[0]
    html = msg.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and 'href="http://evil' not in html
    assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"])


def test_quiet_hours_hold_messages_until_morning(make_site) -> None:
    site = make_site(
        routes='[[routes]]\nname = "night"\nchannels = ["robot"]\nquiet_hours = "22:00-07:30"\n',
    )
    night = datetime(2026, 11, 27, 23, 15)
    site.publish(report(defect=True))
    site.scan(night)
    site.deliver(night)
    assert site.robot_texts() == []
    site.deliver(datetime(2026, 11, 28, 7, 29))
    assert site.robot_texts() == []
    site.deliver(datetime(2026, 11, 28, 7, 31))
    texts = site.robot_texts()
    assert len(texts) == 2 and "发现新发布的年报" in texts[0] and "逾期未发布年报" in texts[1]


def test_daily_digest_groups_everything_into_one_message(make_site) -> None:
    site = make_site(
        routes='[[routes]]\nname = "digest"\nchannels = ["mail"]\ndigest = "daily"\ndigest_at = "08:30"\n'
        '[[routes]]\nname = "live"\nchannels = ["robot"]\nkinds = ["deadline.*"]\n',
    )
    site.publish(report(defect=True))
    site.scan(NOW)
    site.publish(report(defect=False))
    site.scan(NOW + timedelta(hours=2))
    site.deliver(NOW + timedelta(hours=3))
    assert site.mail.messages == []  # waiting for 08:30 tomorrow
    assert len(site.robot_texts()) == 1 and "逾期未发布年报" in site.robot_texts()[0]  # only deadline kinds
    site.deliver(datetime(2026, 11, 28, 8, 31))
    assert len(site.mail.messages) == 1
    msg = site.mail.messages[0]
    text = msg.get_body(("plain",)).get_content()
    assert str(msg["Subject"]).startswith("【年报监测汇总】")
    assert "发现新发布的年报" in text and "已纠正：表格勾稽关系不成立" in text and "年报已被修改" in text


def test_routing_by_region_kind_and_severity(make_site) -> None:
    site = make_site(
        routes='[[routes]]\nname = "sums"\nchannels = ["robot"]\nkinds = ["table.sum"]\nseverities = ["error"]\n'
        '[[routes]]\nname = "elsewhere"\nchannels = ["mail"]\nbodies = ["示例区李庄镇人民政府"]\n',
    )
    site.publish(report(defect=True))
    site.scan(NOW)
    site.deliver(NOW)
    texts = site.robot_texts()
    assert len(texts) == 1 and "R2" in texts[0] and "发现新发布的年报" not in texts[0]
    subjects = [str(m["Subject"]) for m in site.mail.messages]
    assert len(subjects) == 1 and "示例区李庄镇人民政府" in subjects[0]  # its deadline only


def test_permanent_failure_is_dead_lettered_and_the_admin_is_told(make_site) -> None:
    robot = WeComReceiver(keys={ROBOT_KEY, OPS_KEY})
    site = make_site(receiver=robot, routes='[[routes]]\nchannels = ["robot"]\n')
    site.publish(report(defect=True))
    site.scan(NOW)
    robot.script = [45002]  # content too large: retrying cannot help
    stats = site.deliver(NOW)
    assert stats.dead == 1
    ops = site.robot_texts(OPS_KEY)
    assert len(ops) == 1 and "告警无法送达" in ops[0] and "45002" in ops[0] and "notify retry" in ops[0]
    store = Store(site.config().database)
    try:
        assert store.requeue(None, NOW.isoformat()) == 1
    finally:
        store.close()
    site.deliver(NOW)
    assert len(site.robot_texts()) == 2  # the requeued entry, then the deadline batch


def test_transient_answers_are_retried_in_order_with_backoff(make_site) -> None:
    robot = WeComReceiver(keys={ROBOT_KEY, OPS_KEY}, hang_seconds=4)
    site = make_site(receiver=robot, routes='[[routes]]\nchannels = ["robot"]\n')
    site.publish(report(defect=True))
    site.scan(NOW)
    robot.script = [45009, -1, 500, "hang"]
    t = NOW
    for _ in range(4):
        stats = site.deliver(t)
        assert stats.sent == 0 and stats.retried == 1
        t += timedelta(hours=1)  # past any backoff
    stats = site.deliver(t)
    assert stats.sent == 2
    answers = [r.answer if isinstance(r.answer, str) else (r.answer or {}).get("errcode", 500) for r in robot.received]
    assert answers[:4] == [45009, -1, 500, "hang"]
    texts = site.robot_texts()
    assert "发现新发布的年报" in texts[0] and "逾期未发布年报" in texts[1]  # order kept
    store = Store(site.config().database)
    try:
        attempts = store.rows("SELECT outcome, detail FROM deliveries ORDER BY id")
        backoff = store.rows("SELECT attempts FROM outbox ORDER BY id")
    finally:
        store.close()
    assert [a["outcome"] for a in attempts] == ["transient"] * 4 + ["ok", "ok"]
    assert "no answer" in attempts[3]["detail"] and backoff[0]["attempts"] == 5


def test_a_bad_robot_key_pauses_the_channel_until_the_config_changes(make_site) -> None:
    site = make_site(routes='[[routes]]\nchannels = ["robot"]\n')
    site.robot.keys = {OPS_KEY}  # the robot was removed from its group: every send answers 93000
    site.publish(report(defect=True))
    site.scan(NOW)
    stats = site.deliver(NOW)
    assert stats.paused == 1 and stats.sent == 1  # the admin alert went out on the ops robot
    ops = site.robot_texts(OPS_KEY)
    assert "告警通道不可用" in ops[0] and "93000" in ops[0]
    site.deliver(NOW + timedelta(hours=5))
    assert len(site.robot.received) == 2  # paused: no more tries with the same key
    store = Store(site.config().database)
    try:
        pending = store.rows("SELECT count(*) AS n FROM outbox WHERE channel = 'robot' AND state = 'pending'")
    finally:
        store.close()
    assert pending[0]["n"] == 2  # nothing dropped
    site.robot.keys.add("new-key-2")
    text = site.cfg.read_text(encoding="utf-8").replace(
        'key = { env = "NB_TEST_ROBOT_KEY" }', 'key = { file = "k" }', 1
    )
    (site.tmp / "k").write_text("new-key-2")
    (site.tmp / "k").chmod(0o600)
    site.cfg.write_text(text, encoding="utf-8")
    site.deliver(NOW + timedelta(hours=6))
    assert len(site.robot_texts("new-key-2")) == 2
    assert "告警通道已恢复" in site.robot_texts(OPS_KEY)[-1]


def test_one_hundred_alerts_to_one_robot_respect_the_rate_limit(make_site) -> None:
    robot = WeComReceiver(keys={ROBOT_KEY, OPS_KEY}, limit=20, window=1.0)
    site = make_site(receiver=robot, robot_extra="window_seconds = 1.0", routes='[[routes]]\nchannels = ["robot"]\n')
    config = site.config()
    from bot.notify import open_store
    from notifiers.base import Item

    store, alerting = open_store(config)
    try:
        for i in range(100):  # one hundred alerts at once, each its own message
            alerting.push(store, [Item("fire", "portal.unhealthy", "warning", portal=f"门户{i:03d}")], NOW)
    finally:
        store.close()
    stats = site.deliver(NOW, max_seconds=30, wait_limit=30)
    assert stats.sent == 100 and stats.retried == 0
    got = robot.delivered(ROBOT_KEY)
    assert [f"门户{i:03d}" in r.content for i, r in enumerate(got)] == [True] * 100  # order kept
    assert all(r.answer["errcode"] == 0 for r in robot.received)  # never hit the robot's limit
    times = [r.at for r in got]
    assert max(sum(1 for u in times if t <= u < t + 1.0) for t in times) <= 20
    assert times[-1] - times[0] >= 4.0  # 100 at 20 per second-window: at least four windows


def test_secrets_are_references_and_never_logged(make_site, caplog: pytest.LogCaptureFixture, tmp_path) -> None:
    site = make_site()
    text = site.cfg.read_text(encoding="utf-8")
    from bot.config import ConfigError, load_config

    site.cfg.write_text(text.replace('{ env = "NB_TEST_ROBOT_KEY" }', '"plain-key"', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="引用"):
        load_config(site.cfg)
    (tmp_path / "loose").write_text("k")
    (tmp_path / "loose").chmod(0o644)
    site.cfg.write_text(text.replace('{ env = "NB_TEST_ROBOT_KEY" }', '{ file = "loose" }', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="600"):
        load_config(site.cfg)
    site.cfg.write_text(text.replace("NB_TEST_ROBOT_KEY", "NB_TEST_UNSET_KEY", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="NB_TEST_UNSET_KEY"):
        load_config(site.cfg)
    site.cfg.write_text(text, encoding="utf-8")
    assert ROBOT_KEY not in repr(site.config())
    caplog.set_level(logging.DEBUG)
    site.publish(report(defect=True))
    site.scan(NOW)
    site.robot.script = [93000, -1]
    site.deliver(NOW)
    site.deliver(NOW + timedelta(hours=1))
    store = Store(site.config().database)
    try:
        stored = json.dumps([store.rows(f"SELECT * FROM {t}") for t in ("outbox", "deliveries", "channel_state")])
    finally:
        store.close()
    for secret in (ROBOT_KEY, OPS_KEY):
        assert secret not in caplog.text and secret not in stored


def test_portal_unhealthy_fires_once_and_recovery_resolves(make_site) -> None:
    site = make_site(routes='[[routes]]\nchannels = ["robot"]\nkinds = ["portal.*"]\n')
    site.portal.routes["/nb/index.html"] = Route(b"<html><body>error</body></html>", status=500)
    for h in range(4):  # unhealthy_after = 2: fires at the second failure, once for the whole episode
        site.scan(NOW + timedelta(hours=h))
        site.deliver(NOW + timedelta(hours=h))
    texts = site.robot_texts()
    assert len(texts) == 1 and "门户持续无法访问" in texts[0] and "测试门户" in texts[0] and "连续 2 次" in texts[0]
    site.publish(report(defect=False))
    site.scan(NOW + timedelta(hours=5))
    site.deliver(NOW + timedelta(hours=5))
    texts = site.robot_texts()
    assert len(texts) == 2 and "门户已恢复访问" in texts[1]


def test_a_failing_channel_does_not_hold_back_another(make_site) -> None:
    site = make_site()
    site.cfg.write_text(site.cfg.read_text(encoding="utf-8").replace(f"port = {site.mail.port}", "port = 9"))
    site.publish(report(defect=True))
    site.scan(NOW)
    stats = site.deliver(NOW)
    assert stats.sent == 2 and stats.retried == 1  # robot: both messages; mail: refused, waits for its retry
    assert len(site.robot_texts()) == 2 and site.mail.messages == []


def test_the_running_service_delivers_alerts_and_stops_on_sigterm(make_site) -> None:
    from tests.helpers import run_service_until

    site = make_site()
    site.publish(report(defect=True))
    code, err = run_service_until(site.cfg, lambda: len(site.robot_texts()) >= 2 and len(site.mail.messages) >= 2)
    assert code == 0, err
    assert len(site.robot_texts()) == 2 and len(site.mail.messages) == 2
    assert "发现新发布的年报" in site.robot_texts()[0] and ROBOT_KEY not in err


def test_one_hundred_alerts_to_a_digest_route_become_one_digest_in_order(make_site) -> None:
    robot = WeComReceiver(keys={ROBOT_KEY, OPS_KEY}, limit=20, window=1.0)
    site = make_site(
        receiver=robot,
        robot_extra="window_seconds = 1.0",
        routes='[[routes]]\nchannels = ["robot"]\ndigest = "daily"\ndigest_at = "08:30"\n',
    )
    from bot.notify import open_store
    from notifiers.base import Item

    store, alerting = open_store(site.config())
    try:
        for i in range(100):
            alerting.push(store, [Item("fire", "portal.unhealthy", "warning", portal=f"门户{i:03d}")], NOW)
    finally:
        store.close()
    assert site.deliver(NOW).sent == 0  # 09:00: the digest waits for 08:30 tomorrow
    stats = site.deliver(NOW + timedelta(days=1), max_seconds=10, wait_limit=10)
    assert stats.sent == 1  # one outbox batch …
    parts = [r.content for r in robot.delivered(ROBOT_KEY)]
    assert 1 < len(parts) <= 20 and all(len(p.encode()) <= 4096 for p in parts)  # … in a few 4096-byte parts
    text = "".join(parts)
    positions = [text.index(f"门户{i:03d}") for i in range(100)]
    assert positions == sorted(positions) and "【年报监测汇总】门户持续无法访问 100 条" in parts[0]
