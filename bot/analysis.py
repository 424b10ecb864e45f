"""Reading and checking reports on every core: the CPU half of a scan (read a Document into a Report,
run the checks) goes to a pool of worker processes, while the event loop keeps fetching and the one
writer keeps storing. Both halves are pure functions of their inputs, so a worker needs nothing but
the rules, which it loads from the same files (and the same version) as the service.

``workers = 0`` runs everything in-process (the `nianbao check` path, and a fallback whenever the pool
cannot be used).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import gc
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from bot.body import Body
from bot.documents import extract_in_thread, links_attachments
from bot.workers import LoopPool, PoolBroken
from rules.config import RuleSet, load_rules
from rules.engine import check
from rules.normalize import prepare
from rules.read.document import read
from rules.report import Finding, Report, from_snapshot
from scrapers.document import Document
from scrapers.extract import extract, sandbox, sniff

log = logging.getLogger(__name__)
_RULES: RuleSet | None = None  # in a worker: the rules it loaded
# The workers yield the cores to the event loop: the loop feeds them, fetches and sends the alerts, and when it
# waits for a core both workers drain their queues and idle. Measured: the cores' use in a no-latency scan
# ≈ 89 → 93 %, its wall −3 % (median of ten alternating pairs; BENCHMARKS.md, session 12)
WORKER_NICE = 10
_HERE = object()  # "no pool: run it in this process"


def _init(rules_dir: str | None, parent: int, slots: str) -> None:
    global _RULES
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    _RULES = load_rules(Path(rules_dir) if rules_dir else None)
    sandbox.share_slots(slots)  # this worker's PDF parsers count against the service's cap
    prepare()
    gc.freeze()  # modules and rules live as long as the worker: the collector need not walk them again and again

    def orphaned() -> None:  # a parent killed with -9 cannot shut the pool down: leave with it
        while os.getppid() == parent:  # (the parent's pid is passed in: it may be gone before this runs)
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()


def read_report(doc: Document, year: int | None, body_type: str | None, rules: RuleSet | None = None) -> Report:
    r = rules or _RULES
    assert r is not None
    return read(doc, r.formats, year=year, body_type=body_type, format_years=r.format_years)


def check_report(
    report: Report, previous: dict[str, Any] | None, today: date, rules: RuleSet | None = None
) -> list[Finding]:
    r = rules or _RULES
    assert r is not None
    return [] if report.unreadable else check(report, r, from_snapshot(previous) if previous else None, today)


@dataclass(frozen=True)
class Job:
    """What reading and checking one report needs besides its bytes; sent to a worker, so all plain data."""

    source: str
    today: date
    year: int | None = None  # from the list entry
    meta: dict[str, str] = field(default_factory=dict)  # evidence the page does not carry (first_seen, …)
    body: Body | None = None  # the configured body the list title names; None: known only after reading
    prev_key: tuple[str, int] | None = None  # the (body, year) whose previous snapshot ``prev`` is
    prev: dict[str, Any] | None = None


@dataclass(frozen=True)
class Analysed:
    """A page's analysis. ``doc`` alone: the page only links its report, the caller fetches the attachments.
    ``findings`` None: the report turned out to be another (body, year) than ``Job.prev_key``, so the
    check waits for the right previous snapshot."""

    doc: Document | None = None
    report: Report | None = None
    findings: list[Finding] | None = None


def analyse_page(data: bytes, url: str, ctype: str | None, job: Job, rules: RuleSet | None = None) -> Analysed:
    """Bytes → Document → Report → findings in one call: in a worker, one round trip per report instead
    of three, and the page's DOM never crosses a process boundary."""
    return _extracted(extract(data, url, ctype), job, rules)


def _extracted(doc: Document, job: Job, rules: RuleSet | None) -> Analysed:
    return Analysed(doc=doc) if links_attachments(doc) else analyse_doc(doc, job, rules)


def analyse_doc(doc: Document, job: Job, rules: RuleSet | None = None) -> Analysed:
    doc = replace(doc, meta={**job.meta, **doc.meta})
    report = read_report(doc, job.year, job.body.body_type if job.body else None, rules)
    if job.body:
        report = replace(report, body=job.body.name, body_type=job.body.body_type, region=job.body.region or None)
    report = replace(report, source=job.source)
    if job.prev_key is None or (report.body, report.year) != job.prev_key:
        return Analysed(report=report)
    return Analysed(report=report, findings=check_report(report, job.prev, job.today, rules))


def _rules_dir(rules: RuleSet) -> str | None:
    src = Path(rules.source)
    return str(src.parent) if src.name == "rules.toml" and src.is_file() else None


@functools.cache  # one per service process, shared by every pool it makes
def _service_slots() -> str:
    """The directory whose slot locks cap the sandboxed parsers of this process and of its workers."""
    slots = tempfile.mkdtemp(prefix="nianbao-extract-")
    atexit.register(shutil.rmtree, slots, True)
    sandbox.share_slots(slots)  # the event loop's extraction threads (``workers = 0``) count too
    return slots


class Analyser:
    """The pool for one rules version; `nianbao run` keeps one, recreated when the rules change."""

    def __init__(self, rules: RuleSet, workers: int) -> None:
        self.rules = rules
        self.pool: LoopPool | None = None
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        slots = _service_slots()
        directory = _rules_dir(rules)
        if workers > 0 and directory is not None and load_rules(Path(directory)).version == rules.version:
            ctx = multiprocessing.get_context("spawn")  # no fork of a threaded, event-looping parent
            self.pool = LoopPool(workers, ctx, _init, (directory, os.getpid(), slots))
            self.pool.start()

    async def _in_pool(self, fn: Any, *args: Any, alone: bool = False) -> Any:
        """fn(*args) on a worker; _HERE when there is no usable pool (the caller then runs it in-process)."""
        if self.pool is None:
            return _HERE
        try:
            return await self.pool.run(fn, *args, alone=alone)
        except PoolBroken as exc:  # a worker died, or none could start
            log.warning("analysis pool unusable (%s); reading in-process from now on", exc)
            self.close()
            return _HERE

    async def _run(self, fn: Any, *args: Any) -> Any:
        got = await self._in_pool(fn, *args)
        return fn(*args, self.rules) if got is _HERE else got

    @contextlib.asynccontextmanager
    async def _parsing(self, data: bytes, url: str, ctype: str | None) -> AsyncIterator[bool]:
        """Bytes a sandboxed parser will read wait here, in the event loop, for their turn: handed to a worker
        while another parses, they would hold that worker idle at the slot lock, with pages queued behind.
        Yields whether they are such bytes: that call may run long, so it runs alone on a worker."""
        if sniff(data, url, ctype) not in sandbox.SANDBOXED:
            yield False
            return
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:  # (each `asyncio.run` of a scan is a new loop)
            self._gate = (loop, asyncio.Semaphore(sandbox.AT_ONCE))
        async with self._gate[1]:
            yield True

    async def extract(self, data: bytes, url: str, ctype: str | None) -> Document:
        """Bytes → Document on a worker, or in a thread here."""
        async with self._parsing(data, url, ctype) as alone:
            got = await self._in_pool(extract, data, url, ctype, alone=alone)
            return await extract_in_thread(data, url, ctype) if got is _HERE else got

    async def analyse(self, data: bytes, url: str, ctype: str | None, job: Job) -> Analysed:
        async with self._parsing(data, url, ctype) as alone:
            got = await self._in_pool(analyse_page, data, url, ctype, job, alone=alone)
            return _extracted(await extract_in_thread(data, url, ctype), job, self.rules) if got is _HERE else got

    async def analyse_doc(self, doc: Document, job: Job) -> Analysed:
        return await self._run(analyse_doc, doc, job)

    async def read(self, doc: Document, year: int | None, body_type: str | None) -> Report:
        return await self._run(read_report, doc, year, body_type)

    async def check(self, report: Report, previous: dict[str, Any] | None, today: date) -> list[Finding]:
        return await self._run(check_report, report, previous, today)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


_POOLS: dict[tuple[str, int], Analyser] = {}


def analyser(rules: RuleSet, workers: int | None) -> Analyser:
    """One pool per (rules version, size) per process, reused across cycles; older ones are closed.
    ``None`` means one worker per CPU."""
    n = (os.cpu_count() or 1) if workers is None else workers
    key = (rules.version, n)
    if key not in _POOLS:
        for old in _POOLS.values():
            old.close()
        _POOLS.clear()
        _POOLS[key] = Analyser(rules, n)
    return _POOLS[key]
