"""Delivery survives kill -9: a real `nianbao notify deliver` process is killed (SIGKILL) between
"sent" and "recorded", right after claiming, mid-way through a split message, and at random
moments; after a restart every alert has arrived, at most one duplicate per crash, recognisable by
its id — and the database is intact."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.notify import open_store
from bot.service import now_local
from bot.sinks import WeComReceiver
from bot.store import Store
from notifiers.base import Item
from tests.alerting import OPS_KEY, ROBOT_KEY, Site

ROOT = Path(__file__).resolve().parent.parent


def queue(site: Site, n: int, long: bool = False) -> None:
    """``n`` separate alerts in the outbox for the robot (the way a busy cycle leaves them)."""
    store, alerting = open_store(site.config())
    try:
        for i in range(n):
            detail = ("很长的说明。" * 1000) if long else f"第{i}个"
            alerting.push(store, [Item("fire", "portal.unhealthy", "warning", portal=f"门户{i:03d}", detail=detail)],
                          now_local())  # fmt: skip
    finally:
        store.close()


def deliver(site: Site, failpoint: str | None = None, kill_after: float | None = None) -> int:
    env = {**os.environ, "NB_TEST_ROBOT_KEY": ROBOT_KEY, "NB_TEST_OPS_KEY": OPS_KEY}
    env.pop("NIANBAO_FAILPOINT", None)
    if failpoint:
        env["NIANBAO_FAILPOINT"] = failpoint
    cmd = [sys.executable, "-m", "bot.cli", "notify", "deliver", "--config", str(site.cfg), "--wait", "30"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        time.sleep(kill_after)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=90)
    return proc.returncode


def arrivals(robot: WeComReceiver) -> Counter:
    ids = []
    for r in robot.delivered(ROBOT_KEY):
        m = re.search(r"编号 (N\d+)", r.content)
        part = re.search(r"（(\d+)/\d+）\s*$", r.content)
        ids.append((m[1] if m else "?", int(part[1]) if part else 1))
    return Counter(ids)


def integrity(site: Site) -> str:
    store = Store(site.config().database)
    try:
        return store.rows("PRAGMA integrity_check")[0]["integrity_check"]
    finally:
        store.close()


FAST = "per_minute = 10000\n"  # the local robot has no 20/min limit here: the tests are about crashes


@pytest.mark.parametrize(
    ("failpoint", "duplicates"), [("after_send:5", 1), ("before_finish:5", 0), ("after_claim:5", 0)]
)
def test_kill_between_sent_and_recorded_duplicates_at_most_one(make_site, failpoint: str, duplicates: int) -> None:
    site = make_site(receiver=WeComReceiver(keys={ROBOT_KEY, OPS_KEY}, limit=10000), robot_extra=FAST,
                     routes='[[routes]]\nchannels = ["robot"]\n')  # fmt: skip
    queue(site, 12)
    assert deliver(site, failpoint) == -signal.SIGKILL
    assert deliver(site) == 0
    got = arrivals(site.robot)
    assert {i for i, _ in got} == {f"N{i}" for i in range(1, 13)}
    assert sum(c - 1 for c in got.values()) == duplicates
    if duplicates:
        assert got[("N5", 1)] == 2  # the one in flight, re-sent with the same id
    assert integrity(site) == "ok"


def test_kill_in_the_middle_of_a_split_message_resends_only_the_unrecorded_part(make_site) -> None:
    site = make_site(receiver=WeComReceiver(keys={ROBOT_KEY, OPS_KEY}, limit=10000), robot_extra=FAST,
                     routes='[[routes]]\nchannels = ["robot"]\n')  # fmt: skip
    queue(site, 1, long=True)
    assert deliver(site, "after_part:2") == -signal.SIGKILL
    assert deliver(site) == 0
    got = arrivals(site.robot)
    parts = sorted(p for _, p in got)
    assert len(parts) >= 4 and parts == list(range(1, len(parts) + 1))
    assert max(got.values()) == 1  # part 2 was recorded before the kill: the restart sent parts 3… only
    assert integrity(site) == "ok"


def test_random_kill_9_during_delivery_loses_nothing(make_site) -> None:
    robot = WeComReceiver(keys={ROBOT_KEY, OPS_KEY}, limit=10000, delay=0.03)
    site = make_site(receiver=robot, robot_extra=FAST, routes='[[routes]]\nchannels = ["robot"]\n')
    queue(site, 40)
    rnd = random.Random(20261127)
    kills = 0
    for _ in range(10):
        if deliver(site, kill_after=rnd.uniform(0.4, 1.6)) == -signal.SIGKILL:
            kills += 1
    assert deliver(site) == 0
    got = arrivals(robot)
    assert {i for i, _ in got} == {f"N{i}" for i in range(1, 41)}
    assert sum(c - 1 for c in got.values()) <= kills
    assert kills >= 3  # the test really killed deliveries in flight
    assert integrity(site) == "ok"
    store = Store(site.config().database)
    try:
        states = store.rows("SELECT state, count(*) AS n FROM outbox GROUP BY state")
    finally:
        store.close()
    assert states == [{"state": "done", "n": 40}]
