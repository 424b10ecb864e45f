"""The analysis workers (bot.workers.LoopPool under bot.analysis.Analyser): real spawned processes, real pipes.
A worker that dies, a caller that gives up, more callers than workers — the scan goes on and gets the same
answers as in-process."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import date
from typing import Any

import pytest

from bot.analysis import Analyser, Job, analyse_page
from bot.workers import PoolBroken
from rules.config import load_rules
from scrapers.extract import sandbox
from tests.conftest import FILES

PAGE = (FILES / "clean-f2021-gbk.html").read_bytes()
JOB = Job(source="http://x/a.html", today=date(2026, 11, 27), year=2021)


def _in_process() -> object:
    return analyse_page(PAGE, "http://x/a.html", None, JOB, load_rules())


def test_more_callers_than_workers_all_get_their_own_answer() -> None:
    an = Analyser(load_rules(), 2)
    try:
        assert an.pool is not None and len(an.pool.workers) == 2  # started with the pool, not on first use

        async def main() -> list[object]:
            return await asyncio.gather(*(an.analyse(PAGE, "http://x/a.html", None, JOB) for _ in range(7)))

        got = asyncio.run(main())
        assert got == [_in_process()] * 7
        assert [w.load() for w in an.pool.workers] == [0, 0]  # both started, both free again
    finally:
        an.close()


def test_a_killed_worker_means_reading_in_process_not_a_lost_report(caplog: pytest.LogCaptureFixture) -> None:
    an = Analyser(load_rules(), 1)
    try:

        async def main() -> tuple[object, object]:
            first = await an.analyse(PAGE, "http://x/a.html", None, JOB)
            assert an.pool is not None
            os.kill(an.pool.workers[0].proc.pid, signal.SIGKILL)
            an.pool.workers[0].proc.join(timeout=10)
            return first, await an.analyse(PAGE, "http://x/a.html", None, JOB)

        first, second = asyncio.run(main())
        assert first == second == _in_process()
        assert an.pool is None  # in-process from then on
        assert "analysis pool unusable" in caplog.text
    finally:
        an.close()


def test_a_cancelled_caller_leaves_its_worker_usable() -> None:
    """A lane cancelled mid-call (a scan's time budget): the worker's late answer is read and dropped, and the
    next call gets its own answer, not the stale one."""
    an = Analyser(load_rules(), 1)
    try:

        async def main() -> object:
            call = asyncio.ensure_future(an.analyse(PAGE, "http://x/a.html", None, JOB))
            await asyncio.sleep(0.3)  # the worker has the page (and is reading it, or starting up)
            call.cancel()
            other = Job(source="http://x/b.html", today=date(2026, 11, 27), year=2021)
            return await an.analyse(PAGE, "http://x/b.html", None, other)

        got = asyncio.run(asyncio.wait_for(main(), 60))  # a wedged worker would hang the next call
        assert got.report is not None and got.report.source == "http://x/b.html"
    finally:
        an.close()


def test_an_exception_in_the_worker_is_raised_in_the_caller() -> None:
    an = Analyser(load_rules(), 1)
    try:
        assert an.pool is not None
        with pytest.raises(ZeroDivisionError):
            asyncio.run(an.pool.run(divmod, 1, 0))
        assert asyncio.run(an.pool.run(divmod, 7, 2)) == (3, 1)  # and the worker is still there
    finally:
        an.close()


def test_a_closed_pool_refuses_politely() -> None:
    an = Analyser(load_rules(), 1)
    pool = an.pool
    assert pool is not None
    assert asyncio.run(pool.run(divmod, 7, 2)) == (3, 1)
    proc = pool.workers[0].proc
    an.close()
    assert not proc.is_alive()  # closing the pipe ends the worker
    with pytest.raises(PoolBroken):
        asyncio.run(pool.run(divmod, 7, 2))


def test_a_pool_closed_while_calls_are_out_hands_them_back() -> None:
    """The rules change while a scan is reading: the old pool is closed under calls in flight and queued. Each
    of them is then read in-process — none waits for an answer that will not come."""
    an = Analyser(load_rules(), 1)

    async def main() -> list[object]:
        calls = [asyncio.ensure_future(an.analyse(PAGE, "http://x/a.html", None, JOB)) for _ in range(7)]
        await asyncio.sleep(0.2)  # one with the worker, three queued in its pipe, three waiting for a slot
        assert an.pool is not None and an.pool.workers[0].load() == 4 and len(an.pool.waiting) == 3
        an.close()
        return await asyncio.gather(*calls)

    got = asyncio.run(asyncio.wait_for(main(), 60))
    assert got == [_in_process()] * 7 and an.pool is None


def _pid_after(seconds: float, _payload: bytes = b"") -> int:
    time.sleep(seconds)
    return os.getpid()


def _pool(workers: int) -> Any:
    an = Analyser(load_rules(), workers)
    assert an.pool is not None
    return an


def test_a_busy_worker_holds_four_calls_and_no_more_bytes_than_its_pipe_takes() -> None:
    """Calls queue in a busy worker's pipe (it goes on without waiting for the event loop), four at most, and only
    while the pipe can take them all: a full pipe would block the event loop in the send."""
    an = _pool(1)
    try:
        pool = an.pool
        worker = pool.workers[0]

        async def main() -> None:
            await pool.run(_pid_after, 0.0)  # the worker past its imports
            slow = asyncio.ensure_future(pool.run(_pid_after, 0.6))
            await asyncio.sleep(0.1)
            small = [asyncio.ensure_future(pool.run(_pid_after, 0.0)) for _ in range(6)]
            await asyncio.sleep(0.1)
            assert worker.load() == 4 and len(pool.waiting) == 3  # the slow one and three small ones sent
            await asyncio.gather(slow, *small)
            slow = asyncio.ensure_future(pool.run(_pid_after, 0.6))
            await asyncio.sleep(0.1)
            big = [asyncio.ensure_future(pool.run(_pid_after, 0.0, b"x" * 20_000)) for _ in range(3)]
            await asyncio.sleep(0.1)
            assert worker.load() == 3 and len(pool.waiting) == 1  # two of 20 kB fit behind it, the third waits
            assert sum(n for n, _ in worker.sent) <= 48 * 1024
            await asyncio.gather(slow, *big)

        asyncio.run(asyncio.wait_for(main(), 60))
        assert worker.load() == 0 and not pool.waiting
    finally:
        an.close()


def test_the_workers_yield_the_cores_to_the_event_loop() -> None:
    from bot.analysis import WORKER_NICE

    an = _pool(1)
    try:
        got, here = asyncio.run(an.pool.run(os.nice, 0)), os.nice(0)
        assert got == min(19, here + WORKER_NICE) and (got > here or here == 19)
    finally:
        an.close()


def test_a_pipe_of_one_page_takes_less() -> None:
    import fcntl

    from bot.workers import pipe_room

    read, write = os.pipe()
    try:
        assert pipe_room(write) == 48 * 1024  # the usual 64 KiB pipe
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, 4096)  # what a user past its pipe-page quota gets
        assert pipe_room(write) == 3072
    finally:
        os.close(read)
        os.close(write)


def test_no_call_queues_behind_one_that_runs_alone() -> None:
    """A sandboxed parse may take its whole budget (120 s): a page queued behind it on that worker would wait
    as long while the other worker reads on. So it goes to an idle worker, and nothing follows it there."""
    an = _pool(2)
    try:
        pool = an.pool

        async def main() -> tuple[int, list[int]]:
            alone = asyncio.ensure_future(pool.run(_pid_after, 1.0, alone=True))
            await asyncio.sleep(0.1)
            pages = await asyncio.gather(*(pool.run(_pid_after, 0.05) for _ in range(8)))
            return await alone, pages

        lone, pages = asyncio.run(asyncio.wait_for(main(), 60))
        other = ({w.proc.pid for w in pool.workers} - {lone}).pop()
        assert pages == [other] * 8  # every page on the other worker, none behind the long call
    finally:
        an.close()


def test_a_call_that_runs_alone_waits_for_an_idle_worker() -> None:
    an = _pool(1)
    try:
        pool = an.pool
        worker = pool.workers[0]

        async def main() -> None:
            busy = asyncio.ensure_future(pool.run(_pid_after, 0.6))
            await asyncio.sleep(0.1)
            alone = asyncio.ensure_future(pool.run(_pid_after, 0.0, alone=True))
            after = asyncio.ensure_future(pool.run(_pid_after, 0.0))
            await asyncio.sleep(0.1)
            assert worker.load() == 1 and len(pool.waiting) == 2  # first come, first served: the page waits too
            await asyncio.gather(busy, alone, after)

        asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        an.close()


def test_a_pdf_runs_alone_on_its_worker() -> None:
    """The analyser marks sandboxed parses as running alone: the pages that come meanwhile all queue on the other
    worker."""
    pdf = (FILES / "real-hongze-2024.pdf").read_bytes()  # ~1 s in its child
    an = _pool(2)
    try:
        pool = an.pool

        async def main() -> None:
            parse = asyncio.ensure_future(an.extract(pdf, "a.pdf", None))
            await asyncio.sleep(0.2)
            pages = [asyncio.ensure_future(an.analyse(PAGE, "http://x/a.html", None, JOB)) for _ in range(6)]
            await asyncio.sleep(0)  # each page sent or waiting; no answer read yet (a page takes milliseconds)
            sent = sorted([alone for _, alone in w.sent] for w in pool.workers)
            assert sent[1] == [True] and sent[0] and not any(sent[0])  # the PDF alone, pages on the other
            await asyncio.gather(parse, *pages)

        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        an.close()


def _parser_slots() -> str | None:
    from scrapers.extract import sandbox

    return sandbox._slots


def test_the_workers_count_their_pdf_parsers_against_the_services_cap() -> None:
    """Each worker parses PDFs in its own child: the cap on children at once must span the service and every
    worker, or two workers would each start one (the peak the cap exists to prevent)."""
    an = Analyser(load_rules(), 2)
    try:
        assert an.pool is not None

        async def main() -> list[object]:
            return await asyncio.gather(*(an.pool.run(_parser_slots) for _ in range(2)))  # one on each worker

        here = _parser_slots()
        assert here is not None and os.path.isdir(here)
        assert asyncio.run(main()) == [here, here]
    finally:
        an.close()


def test_a_pdf_waiting_for_its_parser_waits_in_the_service_not_on_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """One parser at a time: the second PDF waits in the event loop, so the other worker reads the next page
    at once. Handed to that worker, it would hold it idle at the slot lock with the page queued behind a PDF."""
    monkeypatch.setattr(sandbox, "AT_ONCE", 1)
    pdf = (FILES / "real-hongze-2024.pdf").read_bytes()  # ~1 s in its child
    an = Analyser(load_rules(), 2)
    try:
        done: dict[str, float] = {}

        async def timed(name: str, call: Any) -> None:
            await call
            done[name] = time.monotonic()

        async def main() -> None:
            pdfs = [asyncio.ensure_future(timed(f"pdf{i}", an.extract(pdf, "a.pdf", None))) for i in range(2)]
            await asyncio.sleep(0.2)  # the first PDF on a worker, the second waiting for its turn
            await timed("page", an.analyse(PAGE, "http://x/a.html", None, JOB))
            await asyncio.gather(*pdfs)

        asyncio.run(asyncio.wait_for(main(), 120))
        assert done["page"] < min(done["pdf0"], done["pdf1"])
    finally:
        an.close()
