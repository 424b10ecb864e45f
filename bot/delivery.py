"""The delivery worker: outbox entries → channels, each attempt recorded, nothing lost.

One entry (or one digest batch) is in flight at a time, so a crash can duplicate at most one
message, and a re-sent message carries the same id (text footer, e-mail Message-ID). Order is kept
per channel: an entry waiting for a retry holds back the later ones of its channel. Transient
failures back off (capped); permanent ones go to 'dead' and raise an admin alert; a broken channel
(bad key, bad login) is paused — its entries wait, nothing is dropped — until its config changes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.alerts import Alerting
from bot.failpoints import failpoint
from bot.store import Store, _Conflict
from notifiers.base import Channel, Item, Message, NotifyError, Transport
from notifiers.render import render

Composer = Callable[[list[Item], str], Message]  # items of one kind → the message (e.g. the scorecard digest)

log = logging.getLogger(__name__)


@dataclass
class Stats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    paused: int = 0
    answers: list[str] = field(default_factory=list)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_worker(claimed_by: str | None) -> bool:
    """A claim by a process of this host that no longer exists (it crashed): safe to take over."""
    host, _, pid = (claimed_by or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def message_id(rows: list[dict[str, Any]]) -> str:
    return f"N{rows[0]['id']}" + (f"+{len(rows) - 1}" if len(rows) > 1 else "")


class Deliverer:
    def __init__(
        self,
        store: Store,
        alerting: Alerting,
        channels: dict[str, Channel],
        transport: Transport,
        *,
        config_hashes: dict[str, str] | None = None,
        templates: dict[str, dict[str, str]] | None = None,
        composers: dict[str, Composer] | None = None,
        lease: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.alerting, self.channels, self.transport = store, alerting, channels, transport
        self.hashes = config_hashes or {}
        self.templates = templates or {}  # rules.toml [templates]; the service swaps them on a reload
        self.composers = composers or {}  # kinds whose message is built from the store at sending time
        self.lease, self.clock = lease, clock
        self.worker = _worker_id()
        for name, ch in channels.items():
            limiter = getattr(ch, "limiter", None)
            if limiter is not None:  # the robot's window survives a restart
                limiter.seed(store.attempts_since(name, clock() - limiter.window))
        store.reclaim(clock(), _dead_worker)

    # ------------------------------------------------------------------ choosing
    def _paused(self, name: str, now: datetime) -> bool:
        st = self.store.channel_state(name)
        if not st or st["state"] != "broken":
            return False
        if st["config_hash"] == self.hashes.get(name, ""):
            return True
        with self.store.tx():  # the admin changed the channel's config: try again, say so
            self.store.set_channel_state(name, "ok", now.isoformat(timespec="seconds"), "config changed", "")
            note = f"通道 {name} 的配置已修改，恢复发送"
            self.alerting.push(self.store, [Item("resolve", "admin.channel_broken", "warning", detail=note)], now)
        return False

    def pick(self, now: datetime) -> tuple[list[dict[str, Any]], float]:
        """The next entry (or digest batch) to send, or the seconds until one may be sent."""
        stamp = now.isoformat(timespec="seconds")
        epoch = self.clock()
        heads: dict[str, list[dict[str, Any]]] = {}
        blocked: set[str] = set()
        wait = float("inf")
        for row in self.store.pending():
            ch = row["channel"]
            if ch in blocked or ch in heads:
                continue
            if ch not in self.channels:
                blocked.add(ch)  # a channel removed from config: its entries wait (notify status shows them)
                continue
            if row["next_attempt_at"] and row["next_attempt_at"] > stamp:
                blocked.add(ch)  # order: nothing overtakes an entry that waits for its retry
                wait = min(wait, (datetime.fromisoformat(row["next_attempt_at"]) - now).total_seconds())
                continue
            if row["due_at"] > stamp:
                wait = min(wait, (datetime.fromisoformat(row["due_at"]) - now).total_seconds())
                continue  # quiet hours or a digest: later entries of other routes may go
            if self._paused(ch, now):
                blocked.add(ch)
                continue
            heads[ch] = [row]
        best: list[dict[str, Any]] = []
        for ch, rows in heads.items():
            ready = self.channels[ch].ready_in(epoch)
            if ready > 0:
                wait = min(wait, ready)
                continue
            if not best or rows[0]["id"] < best[0]["id"]:
                best = rows
        if best and best[0]["digest"]:
            head = best[0]
            best = [
                r
                for r in self.store.pending()
                if r["channel"] == head["channel"]
                and r["route"] == head["route"]
                and r["digest"]
                and r["due_at"] <= stamp
                and not (r["next_attempt_at"] and r["next_attempt_at"] > stamp)
            ]
        return best, (0.0 if best else wait)

    # ------------------------------------------------------------------ sending
    async def send(self, rows: list[dict[str, Any]], now: datetime, stats: Stats) -> None:
        ids = [r["id"] for r in rows]
        name = rows[0]["channel"]
        channel = self.channels[name]
        try:
            self.store.claim(ids, self.worker, self.clock() + self.lease)
        except _Conflict:
            return  # another worker took it
        failpoint("after_claim")
        items = [Item.from_json(i).templated(self.templates) for r in rows for i in json.loads(r["items"])]
        try:
            msg = self.compose(items, message_id(rows), bool(rows[0]["digest"]))
        except Exception as exc:  # e.g. the database changed under a digest: retry later like a failed send
            log.exception("composing %s failed", message_id(rows))
            self._failed(rows, NotifyError(f"无法生成消息 / cannot compose: {type(exc).__name__}: {exc}"), now, stats)
            return
        stamp = now.isoformat(timespec="seconds")

        def progress(n: int) -> None:
            failpoint("after_send")  # a part is out, nothing recorded yet: the one window for a duplicate
            self.store.parts_done(ids, n)
            failpoint("after_part")

        try:
            answer = await channel.send(msg, self.transport, rows[0]["parts_done"], progress)
        except NotifyError as err:
            self._failed(rows, err, now, stats)
            return
        except Exception as exc:  # a bug in a channel must not stop delivery to the others
            log.exception("channel %s failed unexpectedly", name)
            self._failed(rows, NotifyError(f"{type(exc).__name__}: {exc}"), now, stats)
            return
        failpoint("before_finish")  # every part recorded, the entry not yet 'done': a restart sends nothing twice
        self.store.finish(ids, name, state="done", outcome="ok", detail=answer[:300], now=stamp, epoch=self.clock())
        stats.sent += 1
        stats.answers.append(f"{name}: {answer}")
        log.info("sent %s to %s: %s", msg.id, name, answer[:120])

    def compose(self, items: list[Item], msg_id: str, digest: bool) -> Message:
        composer = self.composers.get(items[0].kind) if items else None
        if composer is not None:
            return composer(items, msg_id)
        return render(msg_id, items, digest=digest)

    def _failed(self, rows: list[dict[str, Any]], err: NotifyError, now: datetime, stats: Stats) -> None:
        ids = [r["id"] for r in rows]
        name = rows[0]["channel"]
        stamp = now.isoformat(timespec="seconds")
        items = [Item.from_json(i) for r in rows for i in json.loads(r["items"])]
        about_admin = all(i.kind.startswith("admin.") for i in items)
        log.warning("delivery %s to %s failed: %s", message_id(rows), name, err.detail)
        pol = self.alerting.policy
        with self.store.tx():
            if err.broken:
                self.store.finish(
                    ids, name, state="pending", outcome="broken", detail=err.detail, now=stamp, epoch=self.clock()
                )
                self.store.set_channel_state(name, "broken", stamp, err.detail, self.hashes.get(name, ""))
                stats.paused += 1
                if not about_admin:
                    broken = Item("fire", "admin.channel_broken", "error", detail=f"通道 {name}：{err.detail}")
                    self.alerting.push(self.store, [broken], now)
                return
            old = datetime.fromisoformat(rows[0]["created_at"])
            give_up = now - old > timedelta(hours=pol.give_up_hours)
            if err.permanent or give_up:
                why = err.detail if err.permanent else f"{pol.give_up_hours:g} 小时内一直发送失败：{err.detail}"
                self.store.finish(
                    ids,
                    name,
                    state="dead",
                    outcome="permanent" if err.permanent else "gave_up",
                    detail=why,
                    now=stamp,
                    epoch=self.clock(),
                )
                stats.dead += 1
                if not about_admin:
                    dead = Item(
                        "fire", "admin.dead_letter", "error", detail=f"{message_id(rows)} 发往 {name} 失败：{why}"
                    )
                    self.alerting.push(self.store, [dead], now)
                return
            attempts = rows[0]["attempts"] + 1
            pause = err.retry_after or min(pol.retry_cap_seconds, pol.retry_base_seconds * 2 ** (attempts - 1))
            nxt = (now + timedelta(seconds=pause)).isoformat(timespec="seconds")
            self.store.finish(
                ids,
                name,
                state="pending",
                outcome="transient",
                detail=err.detail,
                now=stamp,
                epoch=self.clock(),
                next_attempt_at=nxt,
            )
            stats.retried += 1

    # ------------------------------------------------------------------ loops
    async def run(self, now: Callable[[], datetime], *, max_seconds: float = 0.0, wait_limit: float = 0.0) -> Stats:
        """Send everything that is due. With ``max_seconds`` it also waits (for the rate limit or a
        retry no further than ``wait_limit`` ahead) until the deadline, so a backlog drains in order."""
        stats = Stats()
        deadline = self.clock() + max_seconds
        while True:
            rows, wait = self.pick(now())
            if rows:
                await self.send(rows, now(), stats)
                continue
            left = deadline - self.clock()
            if wait == float("inf") or left <= 0 or (wait_limit and wait > wait_limit):
                return stats
            await asyncio.sleep(max(0.01, min(wait, left)))
