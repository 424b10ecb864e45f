"""Getting the scorecard to people: the files the service rewrites after a cycle, the periodic digest
(queued through the outbox like every alert, so it is retried, rate-limited and never lost) and the
read-only pages served on a local port (the page and /healthz)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import WEEKDAYS, Config
from bot.scorecard.digest import digest_message
from bot.scorecard.model import build
from bot.scorecard.page import render_page
from bot.store import Store
from notifiers.base import Item, Message
from rules.config import RuleSet

DIGEST_KIND = "scorecard.digest"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


def write_atomic(path: Path, text: str) -> None:
    """Write beside, then rename: a reader (the page server, a browser) never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_pages(config: Config, store: Store, rules: RuleSet, now: datetime) -> list[Path]:
    """Every watched year's page at [scorecard] path (the latest year there, others beside it)."""
    years = config.watched_years(now.date())
    latest = max(years)
    written = []
    for year in years:
        target = config.scorecard.year_path(year, latest)
        if target is None:
            continue
        write_atomic(target, render_page(build(config, store, rules, year, now), config.scorecard.title))
        written.append(target)
    return written


# ---------------------------------------------------------------------------------------------- digest
DIGEST_GRACE = timedelta(hours=12)


def digest_period(config: Config, now: datetime) -> str | None:
    """The period whose digest is due at ``now`` ("2026-W48", "2026-11-27"), or None. Due from the
    configured moment for DIGEST_GRACE: a service that was down at 09:00 still sends it at 10:00, but a
    service first started on a Friday does not send Monday's."""
    sc = config.scorecard
    if sc.digest == "off" or not sc.digest_channels:
        return None
    hour, minute = (int(x) for x in sc.digest_at.split(":"))
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if sc.digest == "weekly":
        moment += timedelta(days=WEEKDAYS.index(sc.digest_day) - now.weekday())
    if not moment <= now < moment + DIGEST_GRACE:
        return None
    if sc.digest == "daily":
        return moment.date().isoformat()
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def enqueue_digest(config: Config, store: Store, now: datetime) -> int:
    """Queue this period's digest for each digest channel, once (the period is the outbox route)."""
    period = digest_period(config, now)
    if period is None:
        return 0
    route = f"scorecard:{period}"
    if store.has_route_entry(route):
        return 0
    stamp = now.isoformat(timespec="seconds")
    year = max(config.watched_years(now.date()))
    period_name = "日报" if config.scorecard.digest == "daily" else "周报"
    item = Item("notice", DIGEST_KIND, "info", year=year, detail=period_name)
    with store.tx():
        for channel in config.scorecard.digest_channels:
            store.enqueue(channel, route, [asdict(item)], stamp, False, stamp)
    return len(config.scorecard.digest_channels)


def digest_composer(
    config: Config, store: Store, rules: Callable[[], RuleSet], now: Callable[[], datetime]
) -> Callable[[list[Item], str], Message]:
    """Builds the digest when it is sent (the figures of that moment), with the page attached."""

    def compose(items: list[Item], msg_id: str) -> Message:
        item = items[0]
        at = now()
        year = item.year or max(config.watched_years(at.date()))
        card = build(config, store, rules(), year, at, item.region or None)
        page = render_page(card, config.scorecard.title)
        url = f"http://{config.scorecard.bind}:{config.scorecard.port}/" if config.scorecard.port else None
        period = item.detail or "周报"
        return digest_message(card, page, msg_id, worst=config.scorecard.digest_worst, page_url=url, period=period)

    return compose


# ---------------------------------------------------------------------------------------------- serving
def page_route(config: Config, health: Callable[[], dict[str, Any]]) -> Callable[[str], tuple[int, str, bytes]]:
    """/ (the latest year), /scorecard-YEAR.html and /healthz; nothing else, nothing writable."""
    sc = config.scorecard
    other_year = re.compile(rf"/{re.escape(sc.path.stem)}-(\d{{4}}){re.escape(sc.path.suffix)}") if sc.path else None

    def target(path: str) -> Path | None:
        if sc.path is None:
            return None
        if path in ("/", f"/{sc.path.name}"):
            return sc.path
        if other_year and other_year.fullmatch(path):  # a fixed shape: nothing else reaches the disk
            return sc.path.with_name(path[1:])
        return None

    def route(path: str) -> tuple[int, str, bytes]:
        if path == "/healthz":
            state = health()
            body = json.dumps(state, ensure_ascii=False, indent=1, default=str).encode("utf-8")
            return (200 if state.get("ok") else 503), "application/json; charset=utf-8", body
        found = target(path)
        if found is None:
            return 404, TEXT, "没有这个页面 / not found\n".encode()
        try:
            return 200, HTML, found.read_bytes()
        except FileNotFoundError:
            return 503, TEXT, "页面尚未生成，第一轮扫描后即可查看 / not generated yet\n".encode()

    return route
