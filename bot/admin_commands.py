"""The admin's commands: `rules check|explain|log`, `recheck`, `health` — thin: they parse options and
call bot.rules_admin and bot.health."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from bot import notify
from bot.config import ConfigError, load_config
from bot.service import _guard, _load, describe_event, in_season, now_local, opened
from bot.store import Store
from rules.config import RulesError, load_rules


def cmd_rules(args: argparse.Namespace) -> int:
    """rules check [PATH] | explain WHAT | log: exit 1 when the rules are invalid."""
    from bot.rules_admin import explain

    if args.action == "check":
        directory = args.path
        if directory is None:
            try:
                config = load_config(args.config)
            except ConfigError as exc:
                print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
                return 2
            directory = config.rules_dir
        try:
            rules = load_rules(directory)
        except RulesError as exc:
            print(f"规则有误，未生效 / rules invalid:\n  {exc}", file=sys.stderr)
            return 1
        enabled = sum(1 for c in rules.checks.values() if c.enabled)
        years = sorted(rules.format_years.items(), key=lambda kv: kv[1])
        print(
            f"规则有效 / rules OK: {rules.source}（版本 {rules.version}）：{enabled}/{len(rules.checks)} 项检查启用，"
            f"格式 {', '.join(f'{k}（{v} 年起）' for k, v in years)}，"
            f"{len(rules.regional)} 条地区期限，{len(rules.exemptions)} 条豁免，{len(rules.templates)} 个消息模板"
        )
        return 0
    try:
        config = load_config(args.config)  # no config.toml: the bundled rules are explained
        rules = load_rules(config.rules_dir)
    except (ConfigError, RulesError) as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    if args.action == "explain":
        text = explain(rules, args.what)
        if text is None:
            print(f"没有名为“{args.what}”的检查或问题类型 / no such check or kind", file=sys.stderr)
            return 2
        print(text)
        return 0
    store = Store(config.database)
    try:
        for row in store.rule_changes():
            state = "生效" if row["status"] == "accepted" else "被拒绝"
            files = "、".join(Path(f).name for f in json.loads(row["changed"] or "[]")) or "（启动时）"
            print(f"  {row['at']}  {state:<4} 版本 {row['version'] or '-':<13} {files}  {row['user'] or ''}")
            if row["error"]:
                print(f"      {row['error']}")
    finally:
        store.close()
    return 0


@_guard
def cmd_recheck(args: argparse.Namespace) -> int:
    """Stored reports checked again under the current rules; alerts through the normal lifecycle."""
    from bot.rules_admin import recheck

    config, rules = _load(args.config)
    store, alerting = notify.open_store(config)
    try:
        result = recheck(config, store, alerting, rules, now_local(), args.year)
        stats = notify.deliver_now(config, store, alerting, now_local, rules.templates) if not args.no_send else None
    finally:
        store.close()
    print(
        f"已按规则版本 {rules.version} 重新检查 {result.reports} 份年报：{result.changed} 份的问题有变化，"
        f"撤销逾期告警 {result.revoked} 条，新事件 {len(result.events)} 个"
        + (f"；告警已发送 {stats.sent}" if stats else "")
    )
    for e in result.events:
        print("  " + describe_event(e))
    return 0


@_guard
def cmd_health(args: argparse.Namespace) -> int:
    from bot.health import check_health
    from bot.health import render as render_health

    config, _rules = _load(args.config)
    now = now_local()
    with opened(config) as store:
        h = check_health(config, store, now, in_season(now))
    print(json.dumps(asdict(h), ensure_ascii=False) if args.json else render_health(h))
    return 0 if h.ok else 1
