"""Benchmark `nianbao check`: median time per report by input kind, on this machine.

    python bench/check.py            (or: make bench)

Prints one JSON document and a short table. Targets (issue 2): HTML/text ≤ 20 ms per report,
a 10-page PDF ≤ 1.5 s. Timing lives here, never in tests.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules.config import load_rules  # noqa: E402
from rules.engine import check  # noqa: E402
from rules.read.document import forget_seen_reports, read  # noqa: E402
from scrapers.extract import extract  # noqa: E402

FILES = ROOT / "tests" / "corpus" / "files"
TARGETS_MS = {"html": 20.0, "text": 20.0, "pdf-10-pages": 1500.0}


def cpu_s() -> float:
    """CPU seconds of this process and its finished children (a PDF is parsed in a sandboxed child)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def one(data: bytes, name: str, rules, cold: bool = True) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall ms, CPU ms). The issue's throughput target is per CPU-second, and CPU time is what this VM's
    slow stretches (another guest on the host) disturb least; the per-report targets are wall times."""
    if cold:  # forget this very file's alignments: the figure is for a report never seen before
        forget_seen_reports()
    t, c = time.perf_counter(), cpu_s()
    report = read(extract(data, name), rules.formats)
    check(report, rules)
    return (time.perf_counter() - t) * 1000, (cpu_s() - c) * 1000


def calibrate() -> float:
    """Seconds for 10⁷ Python additions in a function (best of 3). This VM's speed swings by up to 1.7×
    within an hour; the figure is printed beside the others as an indication of the machine's state only
    (a loop of locals is less affected than code that walks dicts and strings)."""
    best = float("inf")
    for _ in range(3):
        t, s = time.perf_counter(), 0
        for i in range(10_000_000):
            s += i
        best = min(best, time.perf_counter() - t)
    return round(best, 2)


def main() -> None:
    speed = calibrate()
    rules = load_rules()
    groups: dict[str, list[Path]] = {"html": [], "text": [], "docx": [], "pdf": []}
    for p in sorted(FILES.iterdir()):
        kind = {".html": "html", ".txt": "text", ".docx": "docx", ".pdf": "pdf"}.get(p.suffix)
        if kind:
            groups[kind].append(p)
    groups["pdf-10-pages"] = [ROOT / "bench" / "data" / "report-10p.pdf"]
    results = {}
    for kind, paths in groups.items():
        repeats = 3 if kind.startswith("pdf") else 15
        per_file, best, warm, cpu = [], [], [], []
        for p in paths:
            data = p.read_bytes()
            one(data, p.name, rules)  # warm-up: imports, caches
            runs = [one(data, p.name, rules) for _ in range(repeats)]
            per_file.append(statistics.median(w for w, _ in runs))
            best.append(min(w for w, _ in runs))  # the least disturbed run of this file
            cpu.append(statistics.median(c for _, c in runs))
            warm.append(statistics.median(one(data, p.name, rules, cold=False)[0] for _ in range(repeats)))
        results[kind] = {
            "files": len(paths),
            "median_ms": round(statistics.median(per_file), 1),
            "best_median_ms": round(statistics.median(best), 1),
            "max_ms": round(max(per_file), 1),
            "cpu_median_ms": round(statistics.median(cpu), 1),
            "warm_median_ms": round(statistics.median(warm), 1),  # the same labels seen before (memo hits)
            "target_ms": TARGETS_MS.get(kind),
        }
        if kind in TARGETS_MS:
            results[kind]["meets_target"] = results[kind]["median_ms"] <= TARGETS_MS[kind]
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "loop_10e7_s": speed,
    }
    print(json.dumps({"benchmark": "check", "machine": machine, "results": results}, ensure_ascii=False, indent=1))
    print(f"\n{'kind':<14}{'files':>6}{'median ms':>12}{'best ms':>9}{'max ms':>10}{'target':>9}{'warm median':>13}"
          f"{'CPU median':>12}")  # fmt: skip
    for kind, r in results.items():
        target = f"{r['target_ms']:.0f}" if r["target_ms"] else "-"
        print(
            f"{kind:<14}{r['files']:>6}{r['median_ms']:>12}{r['best_median_ms']:>9}{r['max_ms']:>10}{target:>9}"
            f"{r['warm_median_ms']:>13}{r['cpu_median_ms']:>12}"
        )
    html, html_wall = results["html"]["cpu_median_ms"], results["html"]["median_ms"]
    print(
        f"\nHTML check throughput: {1000 / html:.0f} reports per CPU-second (cold, median of CPU time per report; "
        f"{1000 / html_wall:.0f} per second of wall time; target >= 100). Machine speed: 10^7 additions "
        f"in {speed} s"
    )


if __name__ == "__main__":
    main()
