"""A small watched site with alert channels, for the alert tests: one TRS-style list page on a real
fixture portal, a WeCom-compatible robot and an SMTP server, all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.config import Config, load_config
from bot.fixture_portal import FixturePortal, Route
from bot.notify import deliverer, open_store
from bot.pipeline import scan_all
from bot.sinks import SmtpSink, WeComReceiver
from rules.config import load_rules
from tests.corpus.model import Model, consistent, to_html

RULES = load_rules()
BODY = "示例区王集镇人民政府"
ROBOT_KEY = "robot-key-0123456789abcdef"
OPS_KEY = "ops-key-fedcba9876543210"

CONFIG = """
[service]
database = "{db}"
years = [2023]
unhealthy_after = 2

{rules}
[alerts]
admin = ["ops"]
{alerts}

[[portals]]
name = "测试门户"
kind = "trs"
list_url = "{base}/nb/index.html"
allow_private = true
delay = 0.0
timeout = 3
reconcile_hours = 0

[[portals.bodies]]
name = "{body}"
body_type = "township"
region = "示例区"

[[portals.bodies]]
name = "示例区李庄镇人民政府"
body_type = "township"
region = "示例区"

[[channels]]
name = "robot"
type = "wecom"
url = "{wecom}"
key = {{ env = "NB_TEST_ROBOT_KEY" }}
allow_private = true
timeout = 1.5
{robot_extra}

[[channels]]
name = "ops"
type = "wecom"
url = "{wecom}"
key = {{ env = "NB_TEST_OPS_KEY" }}
allow_private = true
timeout = 1.5

[[channels]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp}
security = "plain"
sender = "nianbao@test.gov.cn"
to = ["duchake@test.gov.cn"]
timeout = 3

{routes}

{scorecard}
"""

DEFAULT_ROUTES = """
[[routes]]
name = "all"
channels = ["robot", "mail"]
"""


def report(defect: bool = True, year: int = 2023) -> Model:
    m = consistent(BODY, year, "F2021", date(year + 1, 1, 20), seed=5)
    if defect:
        m.applications["4"]["total"] = int(m.applications["4"]["total"]) + 5  # type: ignore[arg-type]
    return m


def list_page(*links: tuple[str, str]) -> bytes:
    items = "".join(f'<li><a href="{h}">{html.escape(t)}</a><span>2024-01-20</span></li>' for h, t in links)
    return f'<html><body><ul class="list">{items}</ul><script>createPageHTML(1, 0, "index", "html");</script>'.encode()


@dataclass
class Site:
    portal: FixturePortal
    robot: WeComReceiver
    mail: SmtpSink
    cfg: Path
    tmp: Path

    def publish(self, m: Model, path: str = "/nb/202401/t1.html", title: str | None = None) -> None:
        title = title or f"{m.body}{m.year}年政府信息公开工作年度报告"
        self.portal.routes[path] = Route(to_html(m))
        self.portal.routes["/nb/index.html"] = Route(list_page(("." + path[3:], title)))

    def config(self) -> Config:
        return load_config(self.cfg)

    def scan(self, now: datetime) -> list[Any]:
        config = self.config()
        store, _alerting = open_store(config)
        try:
            results = asyncio.run(scan_all(config, store, RULES, now))
        finally:
            store.close()
        return [e for r in results for e in r.events]

    def deliver(self, now: datetime | Callable[[], datetime], **kw: Any) -> Any:
        config = self.config()
        store, alerting = open_store(config)
        clock = now if callable(now) else (lambda: now)
        try:
            return asyncio.run(deliverer(config, store, alerting).run(clock, **kw))
        finally:
            store.close()

    def robot_texts(self, key: str = ROBOT_KEY) -> list[str]:
        return [r.content for r in self.robot.delivered(key)]


def write_config(tmp: Path, portal: str, robot: WeComReceiver, mail: SmtpSink, **parts: str) -> Path:
    cfg = tmp / "config.toml"
    cfg.write_text(
        CONFIG.format(
            db=(tmp / "db.sqlite").as_posix(),
            base=portal,
            body=BODY,
            wecom=robot.url,
            smtp=mail.port,
            alerts=parts.get("alerts", ""),
            rules=parts.get("rules", ""),
            robot_extra=parts.get("robot_extra", ""),
            routes=parts.get("routes", DEFAULT_ROUTES),
            scorecard=parts.get("scorecard", '[scorecard]\ndigest = "off"'),
        ),
        encoding="utf-8",
    )
    return cfg
