"""The deadline watch: for every expected body and report year, once the deadline (+ grace) has passed with no
report stored, one DeadlineMissed — exactly once (the store keys the event), and in one transaction per pass
so a season's misses become one message per channel. Runs after every scan cycle and after a rules change.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.config import Config
from bot.events import DeadlineMissed
from bot.store import Store
from rules.config import RuleSet


def deadline_events(config: Config, store: Store, rules: RuleSet, today: date, stamp: str) -> list[Any]:
    """DeadlineMissed, exactly once per expected body and year, when deadline + grace passed with no report."""
    out = []
    with store.tx():  # one transaction: the misses found in one pass become one message per channel
        _deadline_pass(config, store, rules, today, stamp, out)
    return out


def _deadline_pass(config: Config, store: Store, rules: RuleSet, today: date, stamp: str, out: list[Any]) -> None:
    published = store.published_body_years()  # one query, not one per body and year
    grace = timedelta(days=config.deadline_grace_days)
    dues: dict[tuple[int, str, str], date] = {}  # 5,000 bodies share a handful of (year, type, region) deadlines
    for portal in config.portals:
        for body in portal.bodies:
            for year in config.watched_years(today):
                if (body.name, year) in published:
                    continue
                key = (year, body.body_type, body.region)
                due = dues.get(key)
                if due is None:
                    due = dues[key] = rules.deadline(year, body.body_type, body.region)
                if today <= due + grace:
                    continue
                if rules.exempt(body.name, year, "deadline", "deadline.missing", today):
                    continue
                ev = store.record_once(
                    DeadlineMissed(body.name, body.body_type, year, due.isoformat(), portal.name),
                    f"missed|{body.name}|{year}|{due.isoformat()}",  # a moved deadline may be missed anew
                    stamp,
                )
                if ev:
                    out.append(ev)
