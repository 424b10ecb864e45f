"""The service as an operator meets it: one instance per database, SIGTERM in the middle of work,
`nianbao health` telling the truth (and failing when something needs a person), the heartbeat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bot.cli import main
from bot.fixture_portal import Route
from bot.health import check_health
from bot.store import Store
from tests.alerting import report
from tests.procs import children

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 9, 0)


def start(cfg: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(cfg)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(pred, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_a_second_instance_on_the_same_database_says_so_and_exits(make_site) -> None:
    site = make_site()
    site.publish(report(defect=False))
    first = start(site.cfg)
    try:
        assert wait_for(lambda: Path(str(site.config().database) + ".lock").exists())
        second = subprocess.run(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(site.cfg)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 3 and "另一个 nianbao 实例" in second.stderr and str(first.pid) in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0


def test_sigterm_in_the_middle_of_a_slow_scan_exits_cleanly_within_the_grace(make_site) -> None:
    site = make_site()
    m = report(defect=False)
    site.publish(m)
    site.portal.routes["/nb/202401/t1.html"] = Route(site.portal.routes["/nb/202401/t1.html"].body, delay=30)
    proc = start(site.cfg)
    try:
        assert wait_for(lambda: any(p == "/nb/202401/t1.html" for _, p, _ in site.portal.hits))  # mid-scan
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=40)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert took < 20 and "Traceback" not in err  # the 10 s grace, then the scan is abandoned (redone next start)
    store = Store(site.config().database)
    try:
        assert store.rows("PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    finally:
        store.close()


def test_health_is_green_after_a_good_cycle_and_red_for_each_problem(make_site, capsys) -> None:
    site = make_site(routes='[[routes]]\nchannels = ["robot"]\n')
    site.publish(report(defect=False))
    assert main(["scan", "--config", str(site.cfg)]) == 0
    assert main(["health", "--config", str(site.cfg)]) == 0
    assert "运行正常" in capsys.readouterr().out
    config = site.config()
    store = Store(config.database)
    try:
        later = datetime.fromisoformat(store.one("SELECT max(finished_at) AS t FROM runs")["t"]) + timedelta(days=2)
        stale = check_health(config, store, later, in_season=False)
        assert not stale.ok and any("服务可能已停止" in p for p in stale.problems)
        store.db.execute("UPDATE channel_state SET state = 'ok'")  # (none yet)
        with store.tx():
            store.set_channel_state("robot", "broken", "2026-11-27T09:00:00", "93000", "x")
            store.enqueue("robot", "r", [{"action": "fire", "kind": "x"}], "2020-01-01T00:00:00", False,
                          "2020-01-01T00:00:00")  # fmt: skip
            store.db.execute(
                "INSERT INTO rule_changes(at, status, version, files, error) VALUES ('t', 'rejected', '', '{}', 'x:1')"
            )
        red = check_health(config, store, datetime.fromisoformat(later.isoformat()) - timedelta(days=2), False)
    finally:
        store.close()
    text = "\n".join(red.problems)
    assert not red.ok and "已暂停" in text and "发件箱积压" in text and "规则修改被拒绝" in text
    assert main(["health", "--config", str(site.cfg)]) == 1


def test_the_heartbeat_is_pinged_after_each_cycle(make_site) -> None:
    from tests.helpers import run_service_until

    site = make_site(rules='heartbeat_url = "{url}/ping"\n')
    text = site.cfg.read_text(encoding="utf-8").replace("{url}", site.portal.url)
    site.cfg.write_text(text, encoding="utf-8")
    site.portal.routes["/ping"] = Route(b"OK", "text/plain")
    site.publish(report(defect=False))
    code, err = run_service_until(site.cfg, lambda: any(p == "/ping" for _, p, _ in site.portal.hits))
    assert code == 0, err
    assert any(p == "/ping" for _, p, _ in site.portal.hits)


def test_scraped_cr_lf_cannot_forge_log_lines() -> None:
    import logging

    from bot.logs import OneLine

    record = logging.LogRecord("x", logging.WARNING, "f", 1, "report %s: %s", ("http://a/b\r\nERROR forged", 404), None)
    assert OneLine().filter(record) and "\n" not in record.getMessage() and "ERROR forged" in record.getMessage()


POOL_CHILD = r"""
import asyncio, sys
from bot.analysis import analyser
from rules.config import load_rules
from scrapers.extract import extract

async def main():
    an = analyser(load_rules(), 2)
    doc = extract(open(sys.argv[1], "rb").read(), "a.html")
    await an.read(doc, None, None)
    await asyncio.gather(an.read(doc, None, None), an.read(doc, None, None))
    print("ready", flush=True)
    await asyncio.sleep(120)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_analysis_workers_leave_with_a_killed_parent(tmp_path: Path) -> None:
    """[service] workers > 0, then kill -9 of the service: its worker processes do not linger."""
    from tests.conftest import FILES

    script = tmp_path / "pool.py"
    script.write_text(POOL_CHILD, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(FILES / "clean-f2021-gbk.html")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        workers = children(proc.pid)
        assert len(workers) >= 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        left = lambda: [w for w in workers if _alive(w)]  # noqa: E731
        assert wait_for(lambda: not left(), timeout=10), [Path(f"/proc/{w}/cmdline").read_bytes()[:120] for w in left()]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
