"""Wiring the alert side together (config → channels, the network transport, the worker) and the
`nianbao notify …` / `nianbao alerts` commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.alerts import Alerting
from bot.config import Config
from bot.delivery import Deliverer, Stats
from bot.scorecard.publish import DIGEST_KIND, digest_composer
from bot.store import Store
from bot.summary import pad
from notifiers.base import Item, NotifyError, Transport
from notifiers.render import render
from rules.config import RuleSet, load_rules
from scrapers import net


async def _send_mail(**kw: Any) -> net.Answer:
    server = net.MailServer(
        kw["host"], kw["port"], kw["security"], kw["username"], kw["password"], kw["timeout"], kw["ca_bundle"]
    )
    return await asyncio.to_thread(net.send_mail, server, kw["sender"], kw["recipients"], kw["message"])


TRANSPORT = Transport(post_json=net.post_json, send_mail=_send_mail)


def open_store(config: Config) -> tuple[Store, Alerting]:
    """The store with the alert lifecycle attached: every event it records fills the outbox."""
    alerting = Alerting(config.policy)
    return Store(config.database, on_event=alerting), alerting


def deliverer(
    config: Config,
    store: Store,
    alerting: Alerting,
    templates: dict[str, dict[str, str]] | None = None,
    rules: Callable[[], RuleSet] | None = None,
    **kw: Any,
) -> Deliverer:
    """The worker, with the scorecard digest composed at sending time (under ``rules()``, the rules in
    force: the service swaps them on a reload; one-shot commands load them when a digest is due)."""
    channels = {c.name: c.build() for c in config.channels}
    hashes = {c.name: c.fingerprint for c in config.channels}
    loaded: list[RuleSet] = []

    def current_rules() -> RuleSet:
        if rules is not None:
            return rules()
        if not loaded:
            loaded.append(load_rules(config.rules_dir))
        return loaded[0]

    composers = {DIGEST_KIND: digest_composer(config, store, current_rules, _now)}
    return Deliverer(
        store, alerting, channels, TRANSPORT, config_hashes=hashes, templates=templates, composers=composers, **kw
    )


def _now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)


def deliver_now(
    config: Config,
    store: Store,
    alerting: Alerting,
    now: Callable[[], datetime],
    templates: dict[str, dict[str, str]] | None = None,
    **kw: Any,
) -> Stats:
    if not config.channels:
        return Stats()
    return asyncio.run(deliverer(config, store, alerting, templates).run(now, **kw))


def test_message(channel: str, now: datetime) -> Any:
    item = Item(
        "notice",
        "report.published",
        "info",
        body="测试机关（这是一条测试消息）",
        year=now.year - 1,
        title="nianbao 通道测试：收到即表示配置正确",
        url="https://example.gov.cn/",
        detail=f"通道 {channel} 于 {now:%Y-%m-%d %H:%M} 发出",
    )
    return render(f"T{now:%H%M%S}", [item])


def cmd_notify(
    args: argparse.Namespace, config: Config, now: Callable[[], datetime], templates: dict[str, dict[str, str]]
) -> int:
    names = [c.name for c in config.channels]
    if args.action == "test":
        spec = next((c for c in config.channels if c.name == args.channel), None)
        if spec is None:
            print(f"没有名为“{args.channel}”的通道 / no such channel (configured: {', '.join(names) or '无'})",
                  file=sys.stderr)  # fmt: skip
            return 2
        channel = spec.build()
        try:
            answer = asyncio.run(channel.send(test_message(spec.name, now()), TRANSPORT))
        except NotifyError as err:
            kind = (
                "通道不可用 / channel broken"
                if err.broken
                else ("永久失败 / permanent" if err.permanent else "暂时失败 / transient")
            )
            print(f"{spec.name}: 发送失败（{kind}）：{err.detail}")
            return 1
        print(f"{spec.name}: 已送达 / delivered — {answer}")
        return 0
    store, alerting = open_store(config)
    try:
        if args.action == "deliver":
            stats = deliver_now(config, store, alerting, now, templates, max_seconds=args.wait, wait_limit=args.wait)
            print(f"已发送 {stats.sent}，待重试 {stats.retried}，转入死信 {stats.dead}，通道暂停 {stats.paused}")
            return 0
        if args.action == "retry":
            n = store.requeue(args.ids or None, now().isoformat(timespec="seconds"))
            print(f"已重新排队 {n} 条 / requeued {n}")
            return 0
        rows = store.outbox_summary()
        if args.json:
            print(json.dumps({"outbox": rows, "channels": [store.channel_state(n) for n in names]}, ensure_ascii=False))
            return 0
        print("  " + pad("通道", 24) + pad("状态", 10) + "条数  最早")
        for r in rows:
            print("  " + pad(r["channel"], 24) + pad(r["state"], 10) + f"{r['n']:>4}  {r['oldest']}")
        for n in names:
            st = store.channel_state(n)
            if st and st["state"] == "broken":
                print(f"  ! 通道 {n} 已暂停（{st['since']}）：{st['reason']}")
        return 0
    finally:
        store.close()


def cmd_alerts(args: argparse.Namespace, config: Config) -> int:
    store = Store(config.database)
    try:
        rows = store.alerts(None if args.all else "firing")
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        item = json.loads(r["item"])
        who = item.get("body") or item.get("portal") or "?"
        print(f"  {r['fingerprint']}  {pad(r['state'], 9)}{pad(r['kind'], 22)}{pad(who, 28)}{item.get('year') or '':<6}"
              f"自 {r['first_fired']}")  # fmt: skip
    return 0
