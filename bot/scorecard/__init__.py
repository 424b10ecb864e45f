"""The supervisor's scorecard: which bodies published on time, complete and correct, and which did not.

model.py decides (data from the store), charts.py and page.py draw (pure HTML), digest.py says it in a
message, publish.py writes the files, queues the digest and serves the page; here: `nianbao scorecard`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.scorecard.model import Scorecard, build
from bot.scorecard.page import headline_sentence, render_page
from bot.scorecard.publish import write_atomic, write_pages

__all__ = ["Scorecard", "build", "render_page", "write_atomic", "write_pages"]


def cmd_scorecard(args: argparse.Namespace) -> int:
    from bot.service import _guard, _load, now_local, opened

    @_guard
    def run(args: argparse.Namespace) -> int:
        config, rules = _load(args.config)
        now = now_local()
        year = args.year or max(config.watched_years(now.date()))
        regions = {b.region for p in config.portals for b in p.bodies}
        if args.region and args.region not in regions:
            known = "、".join(sorted(r for r in regions if r)) or "（配置中没有填写地区）"
            print(f"没有地区“{args.region}” / unknown region; 已配置的地区：{known}", file=sys.stderr)
            return 2
        with opened(config) as store:
            card = build(config, store, rules, year, now, args.region)
        page = render_page(card, config.scorecard.title)
        if str(args.out) == "-":
            sys.stdout.write(page)
            return 0
        suffix = f"-{args.region}" if args.region else ""
        out = args.out or Path(f"scorecard-{year}{suffix}.html")
        write_atomic(out, page)
        print(headline_sentence(card.total, year))
        print(f"已生成 / written: {out}（{len(page.encode('utf-8')) // 1024} KB，{len(card.rows)} 个机关）")
        return 0

    return run(args)
