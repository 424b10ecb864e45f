"""Child processes of a process, from /proc (Linux): the tests look for orphaned workers with it (a scan of
every process, zombies left out; the benchmarks list children the cheaper way, bench/memory.py)."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out
