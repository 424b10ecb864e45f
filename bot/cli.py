"""The `nianbao` command line. Sub-commands stay thin: they parse options and call the library."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.checking import Options, run_check, to_json
from bot.summary import overview, render
from rules.config import BODY_TYPES, RulesError, RuleSet, load_rules

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "demo" / "reports"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD / expected YYYY-MM-DD: {text}") from exc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nianbao", description="政府信息公开工作年度报告合规监测 / annual-report compliance monitor"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="检查年报 / check report files or URLs")
    c.add_argument("sources", nargs="+", metavar="SOURCE", help="file (.html .txt .pdf .docx .doc .xls .xlsx) or URL")
    c.add_argument("--json", action="store_true", help="JSON Lines output (see spec/check-json.md)")
    c.add_argument("--year", type=int, help="report year (else inferred)")
    c.add_argument("--body-type", choices=BODY_TYPES, help="else inferred from the body's name")
    c.add_argument("--published", type=_date, help="publication date YYYY-MM-DD (else from the page)")
    c.add_argument("--previous", help="the same body's previous-year report (enables cross-year rules)")
    c.add_argument("--region", help="the body's region, e.g. 江苏省/淮安市 (regional deadlines of rules.toml)")
    c.add_argument("--rules", type=Path, help="rule configuration directory (rules.toml, formats/)")
    c.add_argument("--config", type=Path, default=Path("config.toml"), help="deployment config (default ./config.toml)")
    c.add_argument("--allow-private", action="store_true", help="admit loopback URLs (127.0.0.1)")
    c.add_argument("--brief", action="store_true", help="summary without the tables")
    d = sub.add_parser("demo", help="运行内置示例门户的一轮监测 / one cycle on the bundled sample portal")
    d.add_argument("--json", action="store_true")
    d.add_argument("--full", action="store_true", help="print the tables too")
    d.add_argument("--check-only", action="store_true", help="only check the sample report files")
    for name, text in (
        ("scan", "扫描一轮后退出 / one cycle, then exit"),
        ("run", "持续运行的服务 / the service"),
        ("status", "机关×年度 发布情况 / body × year matrix"),
        ("reports", "已存储的年报 / stored reports"),
        ("show", "一份年报及其问题 / one report and its findings"),
        ("alerts", "当前告警 / firing alerts"),
        ("health", "监测服务自身是否正常 / is the monitor healthy (exit 1 when not)"),
    ):
        sp = sub.add_parser(name, help=text)
        sp.add_argument("--config", type=Path, default=Path("config.toml"))
        if name == "scan":
            sp.add_argument("--portal", help="only this portal (its name in config.toml)")
        if name in ("status", "reports"):
            sp.add_argument("--year", type=int)
        if name in ("status", "reports", "show", "scan", "alerts", "health"):
            sp.add_argument("--json", action="store_true")
        if name == "scan":
            sp.add_argument("--no-send", action="store_true", help="leave alerts in the outbox (the service sends)")
        if name == "alerts":
            sp.add_argument("--all", action="store_true", help="resolved ones too")
        if name == "show":
            sp.add_argument("id", type=int)
    n = sub.add_parser("notify", help="告警通道与发件箱 / alert channels and the outbox")
    nsub = n.add_subparsers(dest="action", required=True)
    nt = nsub.add_parser("test", help="发一条测试消息并显示对方应答 / send a test message, print the answer")
    nt.add_argument("channel")
    nd = nsub.add_parser("deliver", help="发送发件箱中到期的告警 / send what is due")
    nd.add_argument("--wait", type=float, default=0.0, help="keep going up to N seconds (rate limits, retries)")
    ns = nsub.add_parser("status", help="发件箱与通道状态 / outbox and channel state")
    ns.add_argument("--json", action="store_true")
    nr = nsub.add_parser("retry", help="死信重新排队 / requeue dead entries")
    nr.add_argument("ids", nargs="*", type=int, help="outbox ids (default: every dead entry)")
    for sp in (nt, nd, ns, nr):
        sp.add_argument("--config", type=Path, default=Path("config.toml"))
    ru = sub.add_parser("rules", help="规则配置 / the rules admins edit")
    rsub = ru.add_subparsers(dest="action", required=True)
    rc = rsub.add_parser("check", help="校验规则目录（rules.toml + formats/）/ validate, exit 1 on error")
    rc.add_argument("path", nargs="?", type=Path, help="rules directory (default: [rules] dir of config.toml)")
    re_ = rsub.add_parser("explain", help="一项检查做什么、怎么设置 / what a check does and its settings")
    re_.add_argument("what", help="check name (identities) or kind (table.sum)")
    rl = rsub.add_parser("log", help="规则修改记录 / rule changes seen by the service")
    for sp in (rc, re_, rl):
        sp.add_argument("--config", type=Path, default=Path("config.toml"))
    rk = sub.add_parser("recheck", help="按当前规则重新检查已存年报 / re-check stored reports under the current rules")
    rk.add_argument("--year", type=int)
    rk.add_argument("--no-send", action="store_true", help="leave the alerts in the outbox")
    rk.add_argument("--config", type=Path, default=Path("config.toml"))
    se = sub.add_parser("search", help="在已存年报全文中查找 / full-text search of the stored reports")
    se.add_argument("text")
    se.add_argument("--year", type=int)
    se.add_argument("--json", action="store_true")
    se.add_argument("--config", type=Path, default=Path("config.toml"))
    sc = sub.add_parser("scorecard", help="发布与质量情况页面（HTML）/ the supervisor's scorecard page")
    sc.add_argument("--year", type=int, help="report year (default: the latest watched year)")
    sc.add_argument("--region", help="only this region (region of [[portals.bodies]])")
    sc.add_argument("--out", type=Path, help="output file (default scorecard-YEAR.html; - for stdout)")
    sc.add_argument("--config", type=Path, default=Path("config.toml"))
    cc = sub.add_parser("config", help="配置文件 / configuration")
    cc.add_argument("action", choices=["check"])
    cc.add_argument("--config", type=Path, default=Path("config.toml"))
    return p


def _check_rules(args: argparse.Namespace) -> RuleSet:
    """--rules, else the config's [rules] dir, else the bundled rules. The config loader (portal kinds, alert
    channels, bs4, httpx: ~0.3 s of imports) is loaded only when there is a config file to read — a report
    author's `nianbao check draft.docx` has none — and never at the top: each analysis worker re-imports this
    module as its spawn main."""
    if args.rules is not None or not args.config.exists():
        return load_rules(args.rules)
    from bot.config import ConfigError, load_config

    try:
        return load_rules(load_config(args.config).rules_dir)
    except ConfigError as exc:  # reported like a rules error: both are the deployment's configuration
        raise RulesError(str(exc)) from exc


def cmd_check(args: argparse.Namespace) -> int:
    try:
        rules = _check_rules(args)
    except RulesError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    opts = Options(args.year, args.body_type, args.published, args.previous, args.allow_private, args.region)
    worst = 0
    rows = []
    for source in args.sources:
        outcome = run_check(source, rules, opts)
        out = to_json(outcome, rules)
        if args.json:
            print(json.dumps(out, ensure_ascii=False, default=str), flush=True)
        else:
            print(render(out, outcome.findings, rules, brief=args.brief), flush=True)
            print()
        rows.append(out)
        worst = max(worst, outcome.exit_code)
    if getattr(args, "overview", False) and not args.json:
        print(overview(rows))
    return worst


def cmd_demo(args: argparse.Namespace) -> int:
    if not args.check_only:
        from bot.demo import run_demo

        return run_demo(json_out=args.json)
    return cmd_check_demo(args)


def cmd_check_demo(args: argparse.Namespace) -> int:
    sources = sorted(str(p) for p in DEMO_DIR.iterdir() if p.is_file() and not p.name.startswith("."))
    print(f"nianbao demo：检查 {len(sources)} 份内置示例年报（{DEMO_DIR}）\n")
    ns = argparse.Namespace(
        sources=sources,
        json=args.json,
        year=None,
        body_type=None,
        published=None,
        previous=None,
        region=None,
        rules=None,
        allow_private=False,
        brief=not args.full,
        overview=True,
        config=ROOT / "config.toml",
    )
    code = cmd_check(ns)
    print(f"完成。退出码 {code}（0 无错误，1 有错误级问题，2 有文件无法读取）")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot.logs import setup

    setup(args.verbose)
    if args.command == "check":
        return cmd_check(args)
    if args.command == "demo":
        return cmd_demo(args)
    module = next(m for m, commands in _MODULES.items() if args.command in commands)
    handler: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), f"cmd_{args.command}")
    return handler(args)


# where each other command's cmd_<command> lives, imported only for that command: `check` then starts without the
# store, the scheduler, the config loader and the network stack (~0.4 s of imports a report author waited for)
_MODULES = {
    "bot.service": ("scan", "run"),
    "bot.read_commands": ("status", "reports", "show", "config", "notify", "alerts", "search"),
    "bot.admin_commands": ("rules", "recheck", "health"),
    "bot.scorecard": ("scorecard",),
}


if __name__ == "__main__":
    sys.exit(main())
