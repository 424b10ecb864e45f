"""`nianbao health`: is the monitor itself working? Last good cycle per portal, whether the service is
still cycling at all, the outbox backlog and its oldest undelivered alert, dead letters, paused channels,
the rules in force. Exit 1 when anything needs a person — a cron job or an external monitor can page on it
(and the optional heartbeat URL, pinged after each cycle, catches the monitor's own death)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Config
from bot.store import Store


@dataclass
class Health:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    portals: list[dict[str, Any]] = field(default_factory=list)
    outbox: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)
    last_cycle: str | None = None

    def bad(self, text: str) -> None:
        self.ok = False
        self.problems.append(text)


def _ago(now: datetime, stamp: str | None) -> float | None:
    return (now - datetime.fromisoformat(stamp)).total_seconds() / 3600 if stamp else None


def check_health(config: Config, store: Store, now: datetime, in_season: bool) -> Health:
    h = Health()
    stamp = now.isoformat(timespec="seconds")
    for p in config.portals:
        every = p.season_every_hours if in_season else p.every_hours
        last_ok = store.last_run(p.name, ok_only=True)
        state = store.health(p.name) or {}
        row = {
            "portal": p.name,
            "last_ok": last_ok,
            "status": state.get("status", "never"),
            "failures": state.get("failures", 0),
            "problem": state.get("last_error"),
        }
        h.portals.append(row)
        if row["status"] in ("down", "blocked") and row["failures"] >= config.unhealthy_after:
            why = "被反爬拦截" if row["status"] == "blocked" else "无法访问"
            h.bad(f"门户“{p.name}”连续 {row['failures']} 次{why}：{row['problem'] or ''}")
        age = _ago(now, last_ok)
        if age is None:
            h.bad(f"门户“{p.name}”还没有成功扫描过")
        elif age > every * 3 + 1:
            h.bad(f"门户“{p.name}”已 {age:.1f} 小时没有成功扫描（应每 {every:g} 小时一次）")
    last = store.last_run()
    h.last_cycle = last
    if config.portals:
        shortest = min((p.season_every_hours if in_season else p.every_hours) for p in config.portals)
        age = _ago(now, last)
        if age is not None and age > shortest * 3 + 1:
            h.bad(f"服务可能已停止：最近一轮扫描结束于 {last}（{age:.1f} 小时前）")
    h.outbox = store.outbox_backlog(stamp)
    dead = h.outbox["dead"]
    age = _ago(now, h.outbox["oldest_due"])
    if age is not None and age * 60 > config.health_backlog_minutes:
        h.bad(
            f"发件箱积压：{h.outbox['due']} 条告警待发，最早的产生于 {h.outbox['oldest_due']}（{age * 60:.0f} 分钟前）"
        )
    if dead:
        h.bad(f"{dead} 条告警发送失败已转入死信（nianbao notify status；修正后 nianbao notify retry）")
    for c in config.channels:
        st = store.channel_state(c.name)
        if st and st["state"] == "broken":
            h.bad(f"告警通道“{c.name}”已暂停：{st['reason']}")
    change = store.last_rule_change()
    accepted = store.last_rule_change(accepted_only=True)
    h.rules = {"version": accepted["version"] if accepted else None, "since": accepted["at"] if accepted else None}
    if change and change["status"] == "rejected":
        h.bad(f"规则修改被拒绝，仍使用版本 {h.rules['version']}：{change['error']}")
    return h


def render(h: Health) -> str:
    lines = [("✔ 运行正常" if h.ok else "✘ 需要处理") + f"（最近一轮扫描：{h.last_cycle or '无'}）"]
    for p in h.portals:
        lines.append(f"  门户 {p['portal']}：{p['status']}，最近成功 {p['last_ok'] or '从未'}")
    o = h.outbox
    lines.append(f"  发件箱：待发 {o['due']}（最早 {o['oldest_due'] or '-'}），定时 {o['scheduled']}，死信 {o['dead']}")
    lines.append(f"  规则版本：{h.rules.get('version') or '-'}（自 {h.rules.get('since') or '-'}）")
    lines.extend(f"  ! {p}" for p in h.problems)
    return "\n".join(lines)
