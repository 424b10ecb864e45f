"""Side by side: urlwatch (from PyPI, in its own venv made here) and nianbao watching the same list pages
of the portal simulator for changes. Prints the ratio "nianbao's change-detection cycle / urlwatch's".

    python bench/urlwatch_compare.py [--bodies 5000] [--portals 20]

The cycle compared is the one that matters every hour of January: nothing changed since the last
look (the median of five such cycles on each side). urlwatch fetches each list page and diffs it;
nianbao fetches the list pages (conditional GET), parses the links, and needs no request for known
reports until the reconcile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.simulator import RemoteSimulator  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.notify import open_store  # noqa: E402
from bot.pipeline import scan_all  # noqa: E402
from rules.config import load_rules  # noqa: E402

VENV = ROOT / "var" / "bench-urlwatch-venv"
CYCLES = 5  # each side's figure is the median of five unchanged cycles: one cycle is as noisy as this VM


def urlwatch() -> Path:
    """urlwatch in its own venv (made once, under var/), never in nianbao's."""
    exe = VENV / "bin" / "urlwatch"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "urlwatch>=2.28,<3"], check=True)
    return exe


def run_urlwatch(exe: Path, urls: list[str], tmp: Path) -> float:
    jobs = "\n---\n".join(f"name: p{i}\nurl: {u}" for i, u in enumerate(urls))
    (tmp / "urls.yaml").write_text(jobs + "\n", encoding="utf-8")
    (tmp / "urlwatch.yaml").write_text("report:\n  stdout:\n    enabled: true\n    color: false\n", encoding="utf-8")
    cmd = [str(exe), "--urls", str(tmp / "urls.yaml"), "--config", str(tmp / "urlwatch.yaml"),
           "--cache", str(tmp / "cache.db")]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)  # first look: fills the cache
    cycles = []
    for _ in range(CYCLES):  # the cycles measured: nothing changed
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        cycles.append(time.perf_counter() - t0)
    return statistics.median(cycles)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bodies", type=int, default=5000)
    ap.add_argument("--portals", type=int, default=20)
    args = ap.parse_args()
    exe = urlwatch()
    rules = load_rules()
    with tempfile.TemporaryDirectory() as t, RemoteSimulator(args.bodies, args.portals, pdf_every=0) as sim:
        tmp = Path(t)
        urls = sim.list_pages()
        cfg = tmp / "config.toml"
        text = sim.config_toml((tmp / "db.sqlite").as_posix())  # the first look on two worker processes:
        text = text.replace("years = [2023]\n", "years = [2023]\nworkers = 2\n", 1)  # not what is measured
        cfg.write_text(text, encoding="utf-8")
        config = load_config(cfg)
        store, _ = open_store(config)
        now = datetime(2026, 11, 27, 9, 0)
        asyncio.run(scan_all(config, store, rules, now))  # first look: every report read and stored
        cycles = []
        for hour in range(1, CYCLES + 1):  # nothing changed
            t0 = time.perf_counter()
            asyncio.run(scan_all(config, store, rules, now + timedelta(hours=hour)))
            cycles.append(time.perf_counter() - t0)
        ours = statistics.median(cycles)
        store.close()
        theirs = run_urlwatch(exe, urls, tmp)
    out = {
        "list_pages_for_urlwatch": len(urls),
        "nianbao_cycle_s": round(ours, 2),
        "urlwatch_cycle_s": round(theirs, 2),
        "ratio_nianbao_over_urlwatch": round(ours / theirs, 2),
        "speedup": round(theirs / ours, 2),
        "note": "urlwatch only diffs the pages; nianbao also parses every link and checks it against the store",
    }
    print(json.dumps(out, ensure_ascii=False))
    verdict = f"{theirs / ours:.1f}× faster" if ours < theirs else f"{ours / theirs:.1f}× slower"
    print(f"\nchange-detection cycle, nothing new: nianbao {ours:.2f} s, urlwatch {theirs:.2f} s "
          f"→ nianbao/urlwatch = {ours / theirs:.2f} (nianbao {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
