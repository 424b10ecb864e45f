"""Parsers of binary formats (pdfplumber, antiword, xlrd) run in a child process
with a time, memory and output budget. A PDF that makes the parser loop, a stream that inflates to
gigabytes or a crafted spreadsheet then costs one child — killed, and reported as unreadable — never
the service. The child sets its own rlimits first thing, so nothing unsafe runs between fork and exec.

How many such children run at once is capped across the service's processes (the event loop's threads and
every analysis worker): each is a fresh interpreter of ~45 MB with a 1.5 GB budget, and two at once took a
service with two workers past 250 MB. One at a time by default (``NIANBAO_EXTRACT_AT_ONCE``); the cap is
a flock per slot in a directory the service shares, so a worker that dies holding one frees it with it.

Run as ``python -m scrapers.extract.sandbox KIND NAME CTYPE SECONDS MEGABYTES`` with the bytes on stdin;
it prints the Document as JSON.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict

from scrapers.document import Document, Table, unreadable

# DOCX/XLSX stay in-process: their zip and XML are vetted first (size, CRC, no DTD), and a child costs
# ~0.3 s — ten times their parse time.
SANDBOXED = ("pdf", "doc", "xls")
TIME_BUDGET = float(os.environ.get("NIANBAO_EXTRACT_SECONDS", "120"))
MEMORY_MB = int(os.environ.get("NIANBAO_EXTRACT_MEGABYTES", "1536"))
AT_ONCE = max(1, int(os.environ.get("NIANBAO_EXTRACT_AT_ONCE", "1")))
_CHILD = "NIANBAO_IN_SANDBOX"
log = logging.getLogger(__name__)
_slots: str | None = None  # the directory of slot locks this process shares; None: no cap (a one-off command)


def share_slots(directory: str | None) -> None:
    """Count this process's parsers against the slots in ``directory`` (the service and its workers pass the
    same one)."""
    global _slots
    _slots = directory


@contextlib.contextmanager
def _slot() -> Iterator[None]:
    """Hold one of AT_ONCE slots while a child parses: wait (in this thread) until one is free."""
    fd = _take_slot(_slots) if _slots is not None else None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the lock


def _take_slot(directory: str) -> int | None:
    """A descriptor locking one of the slots, once one is free. None when the slots cannot be used at all (the
    directory made unwritable, say): the parse then goes ahead uncapped — the cap never costs a report."""
    try:
        os.makedirs(directory, 0o700, exist_ok=True)  # a months-long service's /tmp may have been cleaned
        while True:
            for i in range(AT_ONCE):
                fd = os.open(os.path.join(directory, f"slot-{i}"), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # another parse holds this one
                    os.close(fd)
                    continue
                except OSError:
                    os.close(fd)
                    raise
                return fd
            time.sleep(0.02)
    except OSError as exc:
        log.warning("parser slots in %s unusable (%s): parsing without the cap", directory, exc)
        return None


def in_child() -> bool:
    return os.environ.get(_CHILD) == "1"


def to_json(doc: Document) -> str:
    return json.dumps(asdict(doc), ensure_ascii=False)


def from_json(text: str) -> Document:
    d = json.loads(text)
    tables = tuple(Table(tuple(tuple(r) for r in t["rows"]), t["rows_known"], t["page"]) for t in d["tables"])
    return Document(d["source"], d["kind"], tuple(d["lines"]), tables, d["meta"], tuple(d["problems"]), d["unreadable"])


def run(kind: str, data: bytes, name: str, content_type: str | None) -> Document:
    """Extract in a limited child process; a child that overruns or dies is an unreadable Document."""
    cmd = [sys.executable, "-m", "scrapers.extract.sandbox", kind, name, content_type or "", str(TIME_BUDGET),
           str(MEMORY_MB)]  # fmt: skip
    env = {**os.environ, _CHILD: "1"}
    try:
        with _slot():
            proc = subprocess.run(cmd, input=data, capture_output=True, timeout=TIME_BUDGET + 5, env=env)
    except subprocess.TimeoutExpired:
        return unreadable(name, kind, f"解析超过 {TIME_BUDGET:g} 秒，已中止（文件可能异常）/ extraction took too long")
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        if "MemoryError" in err or proc.returncode in (-9, 137):
            why = f"解析所需内存超过 {MEMORY_MB} MB，已中止 / extraction ran out of its memory budget"
        elif proc.returncode in (-24, 152):  # SIGXCPU
            why = f"解析超过 {TIME_BUDGET:g} 秒 CPU，已中止 / extraction took too long"
        else:
            why = f"解析进程异常退出（{proc.returncode}）/ the parser crashed"
        return unreadable(name, kind, why)
    try:
        return from_json(proc.stdout.decode("utf-8"))
    except (ValueError, KeyError, TypeError):
        return unreadable(name, kind, "解析结果无法识别 / the parser's output was unreadable")


def _limit(seconds: float, megabytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (int(seconds) + 1, int(seconds) + 2))
    resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 20, 256 << 20))  # antiword's temp files at most
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> int:
    kind, name, ctype, seconds, megabytes = sys.argv[1:6]
    _limit(float(seconds), int(megabytes))
    data = sys.stdin.buffer.read()
    from scrapers.extract import READERS

    try:
        doc = READERS[kind](data, name, ctype or None)
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return 3
    except Exception as exc:  # reported by the parent as unreadable, with the reason
        doc = unreadable(name, kind, f"读取失败（{type(exc).__name__}: {str(exc)[:200]}）/ could not be read")
    sys.stdout.write(to_json(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
