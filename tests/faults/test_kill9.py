"""kill -9, fifty times, at random points of scanning, storing and delivering: a real `nianbao scan`
process (one cycle, then delivery) is killed while the portal keeps publishing and editing. Afterwards
the database is intact, every report's latest version is stored, every new-report alert has arrived,
and duplicates are at most one per kill — each recognisable by its id."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

from bot.fixture_portal import Route
from bot.sinks import WeComReceiver
from bot.store import Store
from tests.alerting import OPS_KEY, ROBOT_KEY, Site
from tests.corpus.model import consistent, to_html

ROOT = Path(__file__).resolve().parents[2]
KILLS = 50


def body(i: int) -> str:
    return f"示例区第{i}镇人民政府"


def publish(site: Site, n: int, edits: dict[int, int]) -> dict[str, bytes]:
    """Reports 0..n-1 on the list page; report i in its edits[i]-th version. Returns url path → bytes."""
    pages, items = {}, []
    for i in range(n):
        m = consistent(body(i), 2023, "F2021", date(2024, 1, 20), seed=100 + i)
        data = to_html(m)
        if edits.get(i):
            note = f'</p><p>（第{edits[i]}次修订）</p></div><div class="footer">'.encode()
            data = data.replace(b'</p></div><div class="footer">', note)
        path = f"/nb/202401/t{i}.html"
        site.portal.routes[path] = Route(data)
        pages[path] = data
        items.append(
            f'<li><a href=".{path[3:]}">{body(i)}2023年政府信息公开工作年度报告</a><span>2024-01-20</span></li>'
        )
    script = '<script>createPageHTML(1, 0, "index", "html");</script>'
    page = f'<html><body><ul class="list">{"".join(items)}</ul>{script}</body></html>'
    site.portal.routes["/nb/index.html"] = Route(page.encode())
    return pages


def run_scan(site: Site, kill_after: float | None) -> int:
    env = {**os.environ, "NB_TEST_ROBOT_KEY": ROBOT_KEY, "NB_TEST_OPS_KEY": OPS_KEY, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "scan", "--config", str(site.cfg)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    if kill_after is not None:
        time.sleep(kill_after)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=120)
    return proc.returncode


def test_fifty_kill_9s_lose_nothing(make_site) -> None:
    robot = WeComReceiver(keys={ROBOT_KEY, OPS_KEY}, limit=100000, delay=0.05)
    site = make_site(receiver=robot, robot_extra="per_minute = 100000", routes='[[routes]]\nchannels = ["robot"]\n')
    rnd = random.Random(50)
    n, edits = 4, {}
    kills = attempts = 0
    while kills < KILLS and attempts < KILLS * 3:
        attempts += 1
        if attempts % 5 == 0:
            n += 2  # the portal publishes …
        edits[rnd.randrange(n)] = attempts  # … and edits, so every cycle has work to be killed in
        publish(site, n, edits)
        if run_scan(site, kill_after=rnd.uniform(0.5, 1.8)) == -signal.SIGKILL:
            kills += 1
    pages = publish(site, n, edits)
    assert run_scan(site, None) == 0 and run_scan(site, None) == 0  # the restarts finish the work
    store = Store(site.config().database)
    try:
        assert store.rows("PRAGMA integrity_check")[0]["integrity_check"] == "ok"
        stored = {r["url"].split(":", 2)[2].split("/", 1)[1]: r for r in store.rows("SELECT * FROM reports")}
        pending = store.rows("SELECT count(*) AS n FROM outbox WHERE state != 'done'")[0]["n"]
        published = store.rows("SELECT payload FROM events WHERE type = 'ReportPublished'")
    finally:
        store.close()
    assert kills == KILLS, f"only {kills} kills landed mid-work in {attempts} attempts"
    for path, data in pages.items():  # no lost version: every report's latest bytes are its current version
        assert stored[path.lstrip("/")]["content_hash"] == hashlib.sha256(data).hexdigest(), path
    assert pending == 0 and len(published) == n
    texts = [r.content for r in robot.delivered(ROBOT_KEY)]
    for i in range(n):  # no lost alert
        assert any(body(i) in t and "发现新发布的年报" in t for t in texts), body(i)
    ids = Counter(
        m for t in texts for m in re.findall(r"编号 (N\d+(?:\+\d+)?)", t) if "（" not in t.split("编号")[0][-3:]
    )
    duplicates = sum(c - 1 for c in ids.values())
    assert duplicates <= kills, (duplicates, kills)
