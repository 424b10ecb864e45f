"""The read-only commands over the store and the configuration: status, reports, search, show, alerts,
notify, config check. Each opens the store for itself and closes it (`opened`)."""

from __future__ import annotations

import argparse
import json
import sys

from bot import notify
from bot.service import _guard, _load, now_local, opened
from bot.status import matrix, render
from bot.summary import pad

_SEV = {"error": "错误", "warning": "警告", "advisory": "提示"}


@_guard
def cmd_status(args: argparse.Namespace) -> int:
    config, rules = _load(args.config)
    with opened(config) as store:
        rows = matrix(config, store, rules, now_local().date())
    if args.year:
        rows = [r for r in rows if r["year"] == args.year]
    print(json.dumps(rows, ensure_ascii=False) if args.json else render(rows))
    return 0


@_guard
def cmd_reports(args: argparse.Namespace) -> int:
    config, _rules = _load(args.config)
    with opened(config) as store:
        rows = store.reports(args.year)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        print(
            f"  #{r['id']:<4}{pad(r['body'] or '?', 26)}{r['year'] or '?':<6}{r['status']:<10}"
            f"{r['published'] or '-':<12}错误 {r['errors']} 警告 {r['warnings']}  {r['url']}"
        )
    return 0


@_guard
def cmd_search(args: argparse.Namespace) -> int:
    """Which stored reports say this (full text of the current versions)."""
    config, _rules = _load(args.config)
    with opened(config) as store:
        rows = store.search(args.text, args.year)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    print(f"“{args.text}”：{len(rows)} 份年报" + ("（只列前 200 份）" if len(rows) >= 200 else ""))
    for r in rows:
        print(f"  #{r['id']:<4}{pad(r['body'] or '?', 26)}{r['year'] or '?':<6}{r['url']}")
        if r["snippet"]:
            print(f"        {' '.join(r['snippet'].split())}")
    return 0 if rows else 1


@_guard
def cmd_show(args: argparse.Namespace) -> int:
    config, _rules = _load(args.config)
    with opened(config) as store:
        rep = store.report_by_id(args.id)
        findings = store.findings_of(args.id) if rep else []
    if rep is None:
        print(f"没有编号为 {args.id} 的年报 / no report #{args.id}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"report": rep, "findings": findings}, ensure_ascii=False))
        return 0
    print(f"#{rep['id']} {rep['title']}\n  {rep['url']}\n  状态：{rep['status']}  首次发现：{rep['first_seen']}")
    for f in findings:
        print(f"   [{_SEV.get(f['severity'], f['severity'])}] {f['kind']} @ {f['where']}：{f['message']}")
    return 0


@_guard
def cmd_notify(args: argparse.Namespace) -> int:
    config, rules = _load(args.config)
    return notify.cmd_notify(args, config, now_local, rules.templates)


@_guard
def cmd_alerts(args: argparse.Namespace) -> int:
    config, _rules = _load(args.config)
    return notify.cmd_alerts(args, config)


@_guard
def cmd_config(args: argparse.Namespace) -> int:
    config, rules = _load(args.config)
    bodies = sum(len(p.bodies) for p in config.portals)
    print(
        f"配置有效 / config OK: {len(config.portals)} 个门户，{bodies} 个机关，{len(config.channels)} 个告警通道，"
        f"{len(config.policy.routes)} 条路由，数据库 {config.database}，规则 {rules.source}"
    )
    return 0
