"""Benchmark the watching service on the portal simulator (127.0.0.1 only): first full scan, rescan with
nothing new, rescan with 1% new reports; requests, bytes, reports parsed per CPU-second, peak RSS, SQLite
size per 1,000 reports, time from a report appearing to its alert in the outbox.

    python bench/scan.py [--bodies 5000] [--portals 20] [--latency 0] [--per-host N] [--concurrency 4]

Prints one JSON document and a short table. Timing lives here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import TreePeak, children  # noqa: E402
from bench.simulator import RemoteSimulator  # noqa: E402
from rules.config import load_rules  # noqa: E402
from rules.normalize import prepare  # noqa: E402

EXCLUDE: set[int] = set()  # the portal simulator's process: the portals' CPU is not nianbao's


def _live_children() -> list[int]:
    """Our running child processes (the analysis workers, a parsing child), not the simulator."""
    return [pid for pid in children(os.getpid()) if pid not in EXCLUDE]


def process_cpu(pid: int, waited_for: bool = False) -> float:
    """CPU seconds of one process (all its threads) from /proc; ``waited_for``: with its finished children's."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):  # gone meanwhile
        return 0.0
    return sum(int(x) for x in fields[11 : 15 if waited_for else 13]) / os.sysconf("SC_CLK_TCK")


def cpu() -> float:
    """CPU seconds of this process, its finished children, its live ones (the worker pool) and theirs (the
    sandboxed PDF parsers a worker waits for: before session 11 these were left out, ~0.75 CPU-s a PDF)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    own = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return own + sum(process_cpu(pid, waited_for=True) for pid in _live_children())


def peak_rss_mb() -> tuple[float, float]:
    """Peak RSS of this process, and of this process plus its live workers."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = 0.0
    for pid in _live_children():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    workers += int(line.split()[1]) / 1024
        except OSError:
            pass
    return own, own + workers


def warm_up(an: Any) -> None:
    """Every worker of the pool past its start (imports, rules): one short call each, all at once."""
    if an.pool is not None:
        asyncio.run(_all_once(an.pool, len(an.pool.workers)))


async def _all_once(pool: Any, n: int) -> None:
    await asyncio.gather(*(pool.run(time.sleep, 0.3) for _ in range(n)))  # the least busy worker takes each


def _arithmetic(args: argparse.Namespace, reference: dict, requests0: list[int], lists0: list[int], sim: Any) -> dict:
    """Politeness against CPU for the first scan. Politeness alone: a portal's list pages one after another (a
    page names the next), its other requests ``lanes`` at a time, each ``latency`` long; the portals run side by
    side, so the busiest one is the floor. The CPU: the wall of the same scan with no latency, measured — the
    CPU-seconds over the cores understate it at the crossover (three processes and the simulator never share two
    cores perfectly, so at the crossover that arithmetic called CPU-bound runs politeness-bound)."""
    lanes = min(args.concurrency, args.per_host or args.concurrency)
    lists = [b - a for a, b in zip(lists0, sim.list_requests_by_portal, strict=True)]
    total = [b - a for a, b in zip(requests0, sim.requests_by_portal, strict=True)]
    floor, n_lists, n_other = max(
        ((n + math.ceil((t - n) / lanes)) * args.latency, n, t - n) for n, t in zip(lists, total, strict=True)
    )
    cpu_wall = reference["wall_s"]
    return {
        "lanes_per_portal": lanes,
        "busiest_list_requests": n_lists,
        "busiest_other_requests": n_other,
        "politeness_floor_s": round(floor, 2),
        "cpu_bound_wall_s": cpu_wall,
        "bound_by": "politeness" if cpu_wall < floor else "CPU",
        # the same bodies on P portals: the floor shrinks as 1/P, the CPU's wall does not move, so politeness
        # binds while P < P_now × floor / CPU wall
        "politeness_bound_up_to_portals": round(args.portals * floor / cpu_wall, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bodies", type=int, default=5000)
    ap.add_argument("--portals", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds per request (simulated)")
    ap.add_argument("--per-host", type=int, default=None, help="simulated per-host connection limit")
    ap.add_argument("--concurrency", type=int, default=4, help="nianbao's per-host concurrency")
    ap.add_argument("--pdf-every", type=int, default=250, help="every N-th report is a PDF attachment (0: none)")
    ap.add_argument("--workers", type=int, default=None, help="analysis processes (default: one per CPU; 0: none)")
    ap.add_argument("--json-only", action="store_true")
    args = ap.parse_args()
    # the service's modules are imported here, not at the top: the analysis workers re-import this script as
    # their spawn main, and would carry the network stack and the store the service's own CLI keeps out of them
    from bot.analysis import analyser
    from bot.config import load_config
    from bot.notify import open_store
    from bot.pipeline import scan_all

    rules = load_rules()
    out: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform()}, "params": vars(args)}  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as tmp,
        RemoteSimulator(args.bodies, args.portals, args.latency, args.per_host, args.pdf_every) as sim,
        TreePeak({sim.pid}) as tree,
    ):
        EXCLUDE.add(sim.pid)
        withheld = sim.withhold(0.01)  # 1% publish later
        key = Path(tmp) / "bench.key"  # a channel, so alerts are enqueued (never sent: scans only fill the outbox)
        key.write_text("bench-key")
        key.chmod(0o600)

        def configured(name: str) -> tuple[Any, Any]:
            db, cfg = Path(tmp) / f"{name}.sqlite", Path(tmp) / f"{name}.toml"
            text = sim.config_toml(db.as_posix(), args.concurrency)
            text += ('\n[[channels]]\nname = "bench"\ntype = "wecom"\nkey = { file = "bench.key" }\n'
                     'url = "http://127.0.0.1:9/"\nallow_private = true\n')  # fmt: skip
            if args.workers is not None:
                text = text.replace("years = [2023]\n", f"years = [2023]\nworkers = {args.workers}\n", 1)
            cfg.write_text(text, encoding="utf-8")
            config = load_config(cfg)
            return config, open_store(config)[0]

        config, store = configured("bench")
        now = datetime(2026, 11, 27, 9, 0)

        def run(label: str, when: datetime, cfg: Any = config, st: Any = store) -> dict:
            r0, b0, c0, s0, k0 = sim.requests, sim.bytes, cpu(), time.process_time(), tree.cpu_s
            p0 = process_cpu(sim.pid)
            t0 = time.perf_counter()
            results = asyncio.run(scan_all(cfg, st, rules, when))
            sampler = tree.cpu_s - k0  # the memory sampler's thread: the benchmark's, not nianbao's
            wall, used, service = time.perf_counter() - t0, cpu() - c0 - sampler, time.process_time() - s0 - sampler
            parsed = sum(r.new + r.changed for r in results)
            return {
                "scan": label,
                "wall_s": round(wall, 2),
                "cpu_s": round(used, 2),
                "service_cpu_s": round(service, 2),  # the event loop's process; the rest: analysis workers
                "requests": sim.requests - r0,
                "bytes": sim.bytes - b0,
                "reports_new_or_changed": parsed,
                "reports_per_cpu_s": round(parsed / used, 1) if used else None,
                "complete": all(r.complete for r in results),
                "errors": sum(r.errors for r in results),
                "simulator_cpu_s": round(process_cpu(sim.pid) - p0, 2),  # the portals', not nianbao's
            }

        # the analysis workers start as the running service has them: before its scans, once per service start
        # (a daily scan in January finds them started), and the service builds the normaliser's tables as it
        # starts (bot.service.serve). That start-up CPU is printed on its own.
        c0, k0, t0 = cpu(), tree.cpu_s, time.perf_counter()
        prepare()
        warm_up(analyser(rules, config.workers))
        used = cpu() - c0 - (tree.cpu_s - k0)
        out["start"] = {"cpu_s": round(used, 2), "wall_s": round(time.perf_counter() - t0, 2)}
        reference = None
        if args.latency:
            # what the CPU alone needs: the same first scan (its own empty database) with no latency at all, so
            # nothing waits but the cores. Measured, not estimated: at the crossover CPU-seconds / cores
            # understates it (three processes and the simulator never share two cores perfectly)
            sim.set_latency(0.0)
            config0, store0 = configured("reference")
            with tree.paused():
                reference = run("the same, no latency", now, config0, store0)
            store0.close()
            sim.set_latency(args.latency)
        per_portal0, lists0 = sim.requests_by_portal, sim.list_requests_by_portal
        first = run("first full scan", now)
        if reference is not None:
            out["cpu_bound_reference"] = reference
            first.update(_arithmetic(args, reference, per_portal0, lists0, sim))
        versions0 = store.one("SELECT count(*) AS n FROM versions")["n"]
        again = run("rescan, nothing new", now + timedelta(hours=1))
        reparsed = store.one("SELECT count(*) AS n FROM versions")["n"] - versions0
        published = sim.publish_new(0.01)
        before = store.one("SELECT max(id) AS m FROM outbox")["m"] or 0
        t_pub = time.perf_counter()
        new = run("rescan, 1% new", now + timedelta(hours=2))
        latency = time.perf_counter() - t_pub
        alerts = store.one("SELECT count(*) AS n FROM outbox WHERE id > ?", (before,))["n"]
        reports = store.one("SELECT count(*) AS n FROM reports")["n"]
        store.close()
        own_peak, with_workers_peak = peak_rss_mb()
        size = sum(p.stat().st_size for p in Path(tmp).glob("bench.sqlite*"))
        out.update(
            {
                "scans": [first, again, new],
                "rescan_versions_added": reparsed,
                "withheld_then_published": [withheld, published],
                "alerts_enqueued_after_publish": alerts,
                "report_to_outbox_s": round(latency, 2),
                "reports_stored": reports,
                "sqlite_mb_per_1000_reports": round(size / 1e6 / max(reports, 1) * 1000, 2),
                "peak_rss_mb": round(own_peak, 1),
                "peak_rss_mb_with_workers": round(with_workers_peak, 1),
                "peak_tree_rss_mb": round(tree.mb, 1),  # sampled: the workers' PDF parsers included
            }
        )
    print(json.dumps(out, ensure_ascii=False))
    if not args.json_only:
        print(f"\n{'scan':<24}{'wall s':>8}{'cpu s':>8}{'requests':>10}{'MB':>8}{'parsed':>8}{'per cpu-s':>10}")
        for s in out["scans"]:
            print(f"{s['scan']:<24}{s['wall_s']:>8}{s['cpu_s']:>8}{s['requests']:>10}{s['bytes'] / 1e6:>8.1f}"
                  f"{s['reports_new_or_changed']:>8}{s['reports_per_cpu_s'] or '-':>10}")  # fmt: skip
        f = out["scans"][0]
        if "bound_by" in f:
            r = out["cpu_bound_reference"]
            print(f"first scan: politeness alone needs ≥ {f['politeness_floor_s']} s (the busiest portal's "
                  f"{f['busiest_list_requests']} list pages one after another, its {f['busiest_other_requests']} "
                  f"other requests {f['lanes_per_portal']} at a time, {args.latency:g} s each); the same scan with "
                  f"no latency, where only the cores bind, took {r['wall_s']} s ({r['cpu_s']} CPU-s): bound by "
                  f"{f['bound_by']}; wall {f['wall_s']} s. CPU {f['cpu_s']} s, of them the service's "
                  f"{f['service_cpu_s']} s, the workers' {f['cpu_s'] - f['service_cpu_s']:.2f} s "
                  f"({f['cpu_s'] / max(1, f['requests']) * 1000:.1f} ms a request). Politeness binds the same "
                  f"bodies on up to ≈ {f['politeness_bound_up_to_portals']} portals scanned at once")  # fmt: skip
        w = out["start"]
        print(f"service start before the scans (analysis workers, the normaliser's tables; once per service start): "
              f"{w['cpu_s']} CPU-s, "
              f"{w['wall_s']} s — not in the scans' figures")  # fmt: skip
        print(f"rescan re-parsed: {out['rescan_versions_added']} versions; peak RSS {out['peak_rss_mb']} MB "
              f"(with the workers' own peaks {out['peak_rss_mb_with_workers']} MB; the whole process tree at once, "
              f"sampled every 50 ms, the workers' PDF parsers included: {out['peak_tree_rss_mb']} MB); "
              f"SQLite {out['sqlite_mb_per_1000_reports']} MB per 1,000 reports; new report → outbox "
              f"{out['report_to_outbox_s']} s (the scan that found it)")  # fmt: skip
    failed = [s["scan"] for s in out["scans"] if not s["complete"] or s["errors"]]
    if failed:  # a scan that reached no portal (or lost reports) is fast for the wrong reason
        sys.exit(f"not measurements: these scans were incomplete or had errors: {', '.join(failed)}")


if __name__ == "__main__":
    main()
