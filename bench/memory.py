"""The memory of the whole process tree, sampled while the benchmark runs.

Summing each process's own peak (VmHWM) misses the processes that come and go — the sandboxed PDF parsers
the analysis workers start (~43 MB each, alive ~0.7 s) — and adds peaks that never happened at the same
time. So a thread sums the RSS of this process and of every descendant (the simulator's subtree apart) every
50 ms and keeps the largest sum. Its own CPU is counted so the benchmark can leave it out of nianbao's.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def children(pid: int) -> list[int]:
    """Direct children of every thread of ``pid`` (/proc/PID/task/TID/children: no scan of all of /proc)."""
    out: list[int] = []
    with contextlib.suppress(OSError):  # the process or a thread of it gone meanwhile
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out.extend(int(x) for x in (task / "children").read_text().split())
    return out


def _rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        return 0.0  # gone between the listing and the read


def tree_rss_mb(root: int, exclude: set[int]) -> float:
    """RSS of ``root`` and all its descendants now, without the subtrees rooted at ``exclude``."""
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        total += _rss_mb(pid)
        todo.extend(children(pid))
    return total


class TreePeak:
    """``with TreePeak(exclude) as peak:`` … ``peak.mb``; ``peak.cpu_s``: the sampler's own CPU so far."""

    def __init__(self, exclude: set[int], every: float = 0.05) -> None:
        self.exclude, self.every = exclude, every
        self.mb = 0.0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._on = threading.Event()
        self._on.set()
        self._thread = threading.Thread(target=self._run, name="tree-rss", daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            if self._on.is_set():
                self.mb = max(self.mb, tree_rss_mb(me, self.exclude))
            self.cpu_s = time.thread_time()
            self._stop.wait(self.every)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No sampling meanwhile: for a run whose memory is not reported and whose wall must be the cores'
        alone (the sampler takes the service's GIL ~20 times a second)."""
        self._on.clear()
        try:
            yield
        finally:
            self._on.set()

    def __enter__(self) -> TreePeak:
        if not Path(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/children").exists():
            # without it every tree would look like one process: a figure too small, not an error
            raise SystemExit("bench needs /proc/PID/task/TID/children (Linux with CONFIG_PROC_CHILDREN)")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
