"""Worker processes driven straight from the event loop: a call is pickled down a pipe to the least busy
worker, and its answer read when the other pipe turns readable (``loop.add_reader``). No threads in the service.

Why not concurrent.futures' ProcessPoolExecutor: per call it wakes a manager thread and a queue feeder thread
in the service, each taking the GIL from the event loop. The service's CPU for one call went from 0.75–0.99 ms
to 0.44–0.62 ms without them, and the service is the one process that cannot be spread over the cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import signal
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from typing import Any


class PoolBroken(Exception):
    """A worker died or its pipe failed: the caller does the work itself from now on."""


def _serve(calls: Connection, answers: Connection, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    """A worker's life: answer one call at a time until the service closes its end (or is gone: EOF too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal reaches the whole group: the service decides
    initializer(*initargs)
    while True:
        try:
            fn, args = pickle.loads(calls.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            answer: tuple[bool, Any] = (True, fn(*args))
        except Exception as exc:  # the caller's exception, raised again in the service
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an answer that cannot cross: say so instead of dying
            data = pickle.dumps((False, RuntimeError(f"unpicklable result: {exc!r}")), pickle.HIGHEST_PROTOCOL)
        try:
            answers.send_bytes(data)
        except OSError:
            return


# calls a worker may hold: the next pages wait in its pipe, not for the busy event loop to send them. 4 against 2
# cut the no-latency scan's wall by ~8 % (BENCHMARKS.md, session 12): the workers drained two calls while the
# loop was busy storing, and idled
_DEPTH = 4
# bytes of calls queued to a busy worker at most: a Linux pipe holds 64 KiB and a full one blocks the loop, so a
# bigger call (a PDF's bytes) goes to an idle worker only
_PIPE_ROOM = 48 * 1024


def pipe_room(fd: int) -> int:
    """What may be queued in this pipe: three quarters of what it holds, at most _PIPE_ROOM. A user past its
    quota of pipe pages (fs.pipe-user-pages-soft) gets pipes of one page, where two queued pages would block."""
    try:
        import fcntl

        return min(_PIPE_ROOM, fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) * 3 // 4)
    except (ImportError, AttributeError, OSError):  # not Linux: the usual 64 KiB assumed
        return _PIPE_ROOM


class _Worker:
    def __init__(self, pool: LoopPool) -> None:
        self.pool = pool
        self.pending: deque[asyncio.Future[Any]] = deque()  # calls sent, answers due in this order
        self.sent: deque[tuple[int, bool]] = deque()  # (bytes, alone) of each pending call
        self.promised = 0  # slots handed to waiting callers that have not sent yet
        self.promised_bytes = 0  # and the size of their calls
        self.promised_alone = 0  # and how many of them run alone
        calls, self.calls = pool.ctx.Pipe(duplex=False)  # two one-way pipes: cheaper than a socket pair
        self.answers, answers = pool.ctx.Pipe(duplex=False)
        self.room_bytes = pipe_room(self.calls.fileno())
        self.proc = pool.ctx.Process(
            target=_serve, args=(calls, answers, pool.initializer, pool.initargs), daemon=True, name="nianbao-analysis"
        )
        self.proc.start()
        calls.close()
        answers.close()

    def load(self) -> int:
        return len(self.pending) + self.promised

    def room(self, nbytes: int) -> bool:
        """Whether a call of ``nbytes`` may queue behind this worker's: not behind a call that runs alone
        (a PDF may take its parser's whole budget), not past the depth, not into a full pipe."""
        return (
            self.load() < _DEPTH
            and not self.promised_alone
            and not any(alone for _, alone in self.sent)
            and sum(n for n, _ in self.sent) + self.promised_bytes + nbytes <= self.room_bytes
        )

    def promise(self, nbytes: int, alone: bool, n: int = 1) -> None:
        """A slot handed to a waiting caller (``n`` = -1: taken up, or given back)."""
        self.promised += n
        self.promised_bytes += n * nbytes
        self.promised_alone += n * alone

    def call(self, loop: asyncio.AbstractEventLoop, payload: bytes, alone: bool = False) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = loop.create_future()
        try:
            self.calls.send_bytes(payload)
        except OSError as exc:
            self.pool.worker_failed(self, exc, fut)
            return fut
        if not self.pending:
            loop.add_reader(self.answers.fileno(), self._readable, loop)
        self.pending.append(fut)
        self.sent.append((len(payload), alone))
        return fut

    def _readable(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            data = self.answers.recv_bytes()  # (a long answer: the worker is writing the rest)
        except (EOFError, OSError) as exc:
            loop.remove_reader(self.answers.fileno())
            self.pool.worker_failed(self, exc)
            return
        if not self.pending:  # the pool gave up on this worker meanwhile
            loop.remove_reader(self.answers.fileno())
            return
        fut = self.pending.popleft()
        self.sent.popleft()
        if not self.pending:
            loop.remove_reader(self.answers.fileno())
        try:
            ok, value = pickle.loads(data)
        except Exception as exc:  # an answer this process cannot rebuild: that call fails, the worker goes on
            ok, value = False, exc
        if not fut.done():  # a caller that was cancelled meanwhile: the answer is dropped, the slot is free again
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        self.pool.wake()

    def close(self) -> None:
        self.calls.close()  # the worker reads EOF and leaves
        self.answers.close()
        self.proc.join(timeout=0.5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=0.5)


class LoopPool:
    """``await pool.run(fn, *args)``: fn(*args) on one of ``size`` spawned workers (``start()``, or on first
    use). Callers beyond the workers' slots wait their turn in order. Usable from one event loop at a time (`nianbao
    run` runs its cycles in one; each ``asyncio.run`` of a scan may be another: nothing is bound to a loop)."""

    def __init__(
        self, size: int, ctx: SpawnContext, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> None:
        self.size, self.ctx, self.initializer, self.initargs = size, ctx, initializer, initargs
        self.workers: list[_Worker] = []
        self.waiting: deque[tuple[asyncio.Future[_Worker], int, bool]] = deque()  # (turn, bytes, alone)
        self.broken: BaseException | None = None

    def start(self) -> None:
        """Start every worker now: a worker's start (~0.4 s of imports and rules) then overlaps the scan's
        first list pages, when the cores wait on the network anyway, instead of delaying the first report."""
        with contextlib.suppress(PoolBroken):  # none could start: run() says so to the first caller
            while len(self.workers) < self.size:
                self._spawn()

    def _spawn(self) -> _Worker:
        try:
            worker = _Worker(self)
        except OSError as exc:  # no process could start (limits, memory)
            self.broken = exc
            raise PoolBroken(f"cannot start a worker: {exc}") from exc
        self.workers.append(worker)
        return worker

    async def run(self, fn: Callable[..., Any], *args: Any, alone: bool = False) -> Any:
        """``alone``: a call that may run long (a sandboxed parse) goes to an idle worker, and no call queues
        behind it."""
        if self.broken is not None:
            raise PoolBroken(str(self.broken))
        payload = pickle.dumps((fn, args), pickle.HIGHEST_PROTOCOL)
        # first come, first served: a call that waits for an idle worker would otherwise wait for as long as
        # smaller calls keep arriving
        queue = any(not turn.done() for turn, *_ in self.waiting)
        worker = None if queue else self._free(len(payload), alone)
        if worker is None:
            worker = await self._wait(len(payload), alone)
        return await worker.call(asyncio.get_running_loop(), payload, alone)

    def _free(self, nbytes: int, alone: bool) -> _Worker | None:
        """An idle worker; a new one while the pool has fewer than ``self.size``; else the least loaded with
        room for ``nbytes``."""
        by_load = sorted(self.workers, key=_Worker.load)
        if by_load and by_load[0].load() == 0:
            return by_load[0]
        if len(self.workers) < self.size:
            return self._spawn()
        if alone:
            return None
        return next((w for w in by_load if w.room(nbytes)), None)

    async def _wait(self, nbytes: int, alone: bool) -> _Worker:
        turn: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self.waiting.append((turn, nbytes, alone))
        try:
            worker = await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.exception() is None:  # handed a slot just then
                turn.result().promise(nbytes, alone, -1)
                self.wake()
            raise
        worker.promise(nbytes, alone, -1)
        return worker

    def wake(self) -> None:
        """Hand freed slots to the callers waiting, first come first served."""
        while self.waiting:
            turn, nbytes, alone = self.waiting[0]
            if turn.done():
                self.waiting.popleft()
                continue
            worker = self._free(nbytes, alone)
            if worker is None:
                return
            self.waiting.popleft()
            worker.promise(nbytes, alone)
            turn.set_result(worker)

    def worker_failed(self, worker: _Worker, exc: BaseException, fut: asyncio.Future[Any] | None = None) -> None:
        """A worker that died takes the pool with it: the service reads in-process from then on (and says so)."""
        self._give_up(exc, PoolBroken(f"analysis worker {worker.proc.pid} gone ({type(exc).__name__})"), fut)

    def _give_up(self, why: BaseException, err: PoolBroken, fut: asyncio.Future[Any] | None = None) -> None:
        """Every call in flight or waiting fails with ``err``: its caller reads in-process instead of waiting for
        an answer that will not come."""
        self.broken = self.broken or why
        failed = [f for w in self.workers for f in w.pending] + [turn for turn, *_ in self.waiting]
        for w in self.workers:
            w.pending.clear()
            w.sent.clear()
            w.promised = w.promised_bytes = w.promised_alone = 0
        self.waiting.clear()
        for f in [*failed, *([fut] if fut is not None else [])]:
            if not f.done():
                f.set_exception(err)

    def close(self) -> None:
        """Workers told to leave (their pipes closed); calls still out — a rules change while a scan runs — fail
        over to in-process reading."""
        self._give_up(RuntimeError("pool closed"), PoolBroken("analysis pool closed"))
        for worker in self.workers:
            with contextlib.suppress(RuntimeError, OSError, ValueError):  # no loop running, or a closed pipe
                asyncio.get_running_loop().remove_reader(worker.answers.fileno())
            worker.close()
        self.workers.clear()
