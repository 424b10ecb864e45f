"""The service: one scan cycle (`scan`), the scheduled service (`run`: scans, delivery worker, reminders,
rules reload, until SIGTERM). The read-only commands over the store live in bot/read_commands.py, the
admin's in bot/admin_commands.py, the demo in bot/demo.py."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import notify
from bot.config import Config, ConfigError, load_config
from bot.pipeline import ScanResult, scan_all
from bot.store import Store
from bot.summary import pad
from rules.config import RulesError, RuleSet, load_rules
from rules.normalize import prepare
from scrapers import net

TZ = ZoneInfo("Asia/Shanghai")
SHUTDOWN_GRACE = 10  # seconds a SIGTERM waits for in-flight scans
log = logging.getLogger(__name__)


def now_local() -> datetime:
    return datetime.now(TZ).replace(tzinfo=None)  # portals publish naive Asia/Shanghai times


def _load(path: Path) -> tuple[Config, RuleSet]:
    config = load_config(path)
    if config.path is None:
        raise ConfigError(f"{path}: 找不到配置文件 / config file not found")
    return config, load_rules(config.rules_dir)


@contextlib.contextmanager
def opened(config: Config) -> Iterator[Store]:
    """The configured store for one command, closed whatever happens."""
    store = Store(config.database)
    try:
        yield store
    finally:
        store.close()


def _guard(fn: Any) -> Any:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except (ConfigError, RulesError) as exc:
            print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
            return 2

    return wrapped


def describe_event(ev: Any) -> str:
    """One Chinese line per event (the alerts issue renders full messages)."""
    name = type(ev).__name__
    d = asdict(ev)
    who = f"{d.get('body') or '未识别机关'} {d.get('year')}年度"
    if name == "ReportPublished":
        text = f"新发布：{who}报告（错误级问题 {d['errors']} 个）"
    elif name == "ReportChanged":
        text = f"已修改：{who}报告出现新版本"
    elif name == "ReportWithdrawn":
        text = f"已撤下：{who}报告不再出现在栏目中"
    elif name == "FindingsChanged":
        text = f"问题变化：{who} 新增 {len(d['added'])} 个，已纠正 {len(d['resolved'])} 个"
    elif name == "DeadlineMissed":
        text = f"逾期未发布：{who}报告（期限 {d['deadline']}）"
    elif name == "PortalUnhealthy":
        why = "被反爬拦截" if d["status"] == "blocked" else "无法访问"
        text = f"门户异常：{d['portal']}（{why}，{d['problem']}）"
    else:
        text = f"门户恢复：{d.get('portal')}"
    return f"[{name}] {text}"


def scan_summary(results: list[ScanResult]) -> str:
    lines = ["  " + pad("门户", 34) + "列表页 年报链接 新增 修改 未变 撤下 错误  状态"]
    for r in results:
        state = "完整" if r.complete else f"未完成：{r.problem}"
        lines.append(
            "  " + pad(r.portal, 34) + f"{r.pages:>6} {r.links:>8} {r.new:>4} {r.changed:>4} {r.unchanged:>4} "
            f"{r.withdrawn:>4} {r.errors:>4}  {state}"
        )
    return "\n".join(lines)


def _tty_progress(portal: str, done: int, total: int) -> None:
    """A one-line counter on a terminal; nothing when output goes to a log (not a TTY)."""
    sys.stderr.write(f"\r扫描 {portal}：{done}/{total} 份年报" + (" " * 8 if done < total else "\n"))
    sys.stderr.flush()


def refresh_pages(config: Config, store: Store, rules: RuleSet) -> list[Path]:
    """Rewrite the scorecard pages; a failure is logged, never raised (the scan's results are safe)."""
    from bot.scorecard import write_pages

    try:
        return write_pages(config, store, rules, now_local())
    except Exception:
        log.exception("writing the scorecard failed")
        return []


def scan_once(
    config: Config, rules: RuleSet, only: str | None = None, send: bool = True
) -> tuple[list[ScanResult], notify.Stats]:
    """One cycle; then whatever is due in the outbox is sent (rate-limited rest: the service's job)."""
    store, alerting = notify.open_store(config)
    progress = _tty_progress if sys.stderr.isatty() else None
    try:
        results = asyncio.run(scan_all(config, store, rules, now_local(), only, progress))
        refresh_pages(config, store, rules)
        stats = notify.deliver_now(config, store, alerting, now_local, rules.templates) if send else notify.Stats()
    finally:
        store.close()
    return results, stats


@_guard
def cmd_scan(args: argparse.Namespace) -> int:
    config, rules = _load(args.config)
    if args.portal and args.portal not in {p.name for p in config.portals}:
        print(f"没有名为“{args.portal}”的门户 / no such portal", file=sys.stderr)
        return 2
    results, stats = scan_once(config, rules, args.portal, send=not args.no_send)
    events = [e for r in results for e in r.events]
    if args.json:
        print(
            json.dumps(
                {
                    "portals": [{k: v for k, v in asdict(r).items() if k != "events"} for r in results],
                    "events": [{"type": type(e).__name__, **asdict(e)} for e in events],
                },
                ensure_ascii=False,
                default=str,
            )
        )
    else:
        print(scan_summary(results))
        for e in events:
            print("  " + describe_event(e))
        if config.channels:
            print(f"  告警：已发送 {stats.sent}，待重试 {stats.retried}，死信 {stats.dead}（nianbao notify status）")
    return 0 if all(r.complete for r in results) else 1


@_guard
def cmd_run(args: argparse.Namespace) -> int:
    from bot.instance import AlreadyRunning, InstanceLock

    config, rules = _load(args.config)
    try:
        with InstanceLock(config.database):
            asyncio.run(serve(config, rules))
    except AlreadyRunning as exc:
        print(str(exc), file=sys.stderr)
        return 3
    return 0


def in_season(when: datetime) -> bool:
    """January (departments, towns) through March (county-level governments) plus a fortnight."""
    return when.month <= 3 or (when.month == 4 and when.day <= 15)


def build_scheduler(config: Config, tick: Any) -> Any:
    """APScheduler 3.11 in Asia/Shanghai: one interval job per portal at its season interval (the tick
    itself spaces runs out of season), jittered; after downtime the missed runs coalesce into one
    catch-up run (misfire grace one day); one instance per portal at a time."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    sched = AsyncIOScheduler(
        timezone=TZ, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 24 * 3600}
    )
    for p in config.portals:
        minutes = max(1.0, min(p.season_every_hours, p.every_hours) * 60)
        sched.add_job(
            tick,
            "interval",
            minutes=minutes,
            jitter=int(min(300, minutes * 6)),
            args=[p.name],
            id=f"scan:{p.name}",
            next_run_time=datetime.now(TZ),
        )
    return sched


async def serve(config: Config, rules: RuleSet, stop: asyncio.Event | None = None) -> None:
    """The service until SIGTERM; a failing job is recorded in the store (runs) and never stops it.
    Beside the scans: the delivery worker (woken after every cycle, else every 30 s) and an hourly
    reminder pass."""
    from bot.health import check_health
    from bot.rules_admin import RulesWatcher, recheck
    from bot.scorecard.publish import enqueue_digest, page_route

    store, alerting = notify.open_store(config)
    prepare()  # the normaliser's tables: built at start, not inside the first scan
    current = {"rules": rules}  # swapped when an edit of the rules files is accepted
    worker = (
        notify.deliverer(config, store, alerting, rules.templates, rules=lambda: current["rules"])
        if config.channels
        else None
    )
    watcher = RulesWatcher(config.rules_dir, rules)
    store.record_rule_change(now_local().isoformat(timespec="seconds"), "accepted", rules.version, rules.files, [],
                             "", "")  # fmt: skip
    last: dict[str, datetime] = {}
    pages = {"dirty": True, "health": {"ok": False, "problems": ["服务正在启动 / starting"]}, "at": 0.0}
    stop = stop or asyncio.Event()
    kick = asyncio.Event()

    running: set[asyncio.Task] = set()

    async def tick(portal_name: str) -> None:
        if stop.is_set():
            return  # stopping: take no new work
        task = asyncio.current_task()
        if task:
            running.add(task)
            task.add_done_callback(running.discard)
        portal = next(p for p in config.portals if p.name == portal_name)
        now = now_local()
        every = portal.season_every_hours if in_season(now) else portal.every_hours
        if portal_name in last and (now - last[portal_name]).total_seconds() < every * 3600 * 0.9:
            return
        last[portal_name] = now
        try:
            results = await scan_all(config, store, current["rules"], now, portal_name)
        except asyncio.CancelledError:  # SIGTERM after the grace: every finished step is committed already
            log.warning("scan of %s abandoned at shutdown; the next start does it again", portal_name)
            return
        except Exception as exc:
            results = []
            log.exception("scan of %s failed", portal_name)
            stamp = now.isoformat(timespec="seconds")
            store.finish_run(
                store.start_run(portal_name, stamp), stamp, status="error", note=f"{type(exc).__name__}: {exc}"[:500]
            )
        for r in results:
            log.info("%s: %d links, %d new, %d changed, complete=%s", r.portal, r.links, r.new, r.changed, r.complete)
            for e in r.events:
                log.warning("%s", describe_event(e))
        kick.set()
        pages["dirty"] = True
        if config.heartbeat_url:  # "still alive": an outside monitor notices when these stop
            answer = await net.ping(config.heartbeat_url)
            if answer.error or (answer.status or 500) >= 400:
                log.warning("heartbeat failed: %s %s", answer.status, answer.error)

    async def reload_rules() -> None:
        """Edited rules take effect without a restart; stored reports are re-checked under them."""
        try:
            new = watcher.poll(store, alerting, now_local())
            if new is not None:
                current["rules"] = new
                if worker is not None:
                    worker.templates = new.templates
                result = recheck(config, store, alerting, new, now_local())
                log.warning("re-checked %d reports under rules %s: %d changed", result.reports, new.version,
                            result.changed)  # fmt: skip
            kick.set()
        except Exception:  # a bad edit is refused inside poll(); this is for bugs, and never stops the service
            log.exception("rules reload failed")

    async def remind() -> None:
        try:
            if alerting.remind(store, now_local()):
                kick.set()
        except Exception:
            log.exception("reminders failed")

    async def publish() -> None:
        """Every minute: the scorecard pages when something changed, the health that /healthz shows,
        the periodic digest when its moment has come. Failures are logged; the next minute tries again."""
        now = now_local()
        try:
            if pages["dirty"]:
                pages["dirty"] = False
                refresh_pages(config, store, current["rules"])
            store.index_text(limit=300)  # the full-text index catches up between scans, a batch a minute
            h = check_health(config, store, now, in_season(now))
            pages["health"] = {**asdict(h), "checked_at": now.isoformat(timespec="seconds")}
            pages["at"] = time.monotonic()
            if enqueue_digest(config, store, now):
                log.warning("scorecard digest queued for %s", ", ".join(config.scorecard.digest_channels))
                kick.set()
        except Exception:
            log.exception("publishing the scorecard failed")

    def healthz() -> dict[str, Any]:
        """The last minute's health; stale (the loop is stuck) is unhealthy too."""
        state = dict(pages["health"])
        age = time.monotonic() - pages["at"] if pages["at"] else None
        if age is not None and age > 180:
            state["ok"] = False
            state["problems"] = [*state.get("problems", []), f"健康检查已 {age:.0f} 秒未更新：服务可能卡住"]
        return state

    async def deliver() -> None:
        while worker is not None and not stop.is_set():
            try:
                await worker.run(now_local, max_seconds=25, wait_limit=25)
            except Exception:  # a delivery bug must not stop the service; the outbox keeps the entries
                log.exception("delivery pass failed")
            kick.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(kick.wait(), timeout=5)

    sched = build_scheduler(config, tick)
    sched.add_job(remind, "interval", hours=1, id="remind", next_run_time=datetime.now(TZ))
    sched.add_job(reload_rules, "interval", seconds=config.rules_poll_seconds, id="rules")
    sched.add_job(publish, "interval", seconds=60, id="publish", next_run_time=datetime.now(TZ))
    server = None
    if config.scorecard.port:
        try:
            server = net.PageServer(config.scorecard.bind, config.scorecard.port, page_route(config, healthz)).start()
            log.warning("scorecard and /healthz served read-only at %s/", server.url)
        except OSError as exc:  # a taken port must not stop the monitoring itself
            log.error("cannot serve the scorecard on %s:%s: %s", config.scorecard.bind, config.scorecard.port, exc)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sched.start()
    sender = asyncio.create_task(deliver())
    log.warning("nianbao running: %d portals, %d channels; SIGTERM stops it", len(config.portals), len(config.channels))
    await stop.wait()
    sched.pause()  # no new work
    if running:  # finish in-flight scans within a deadline; what is cut off is re-done next start
        log.warning("stopping: waiting up to %ds for %d scan(s)", SHUTDOWN_GRACE, len(running))
        _done, late = await asyncio.wait(set(running), timeout=SHUTDOWN_GRACE)
        for t in late:
            t.cancel()
        if late:
            await asyncio.wait(late, timeout=5)
    sched.shutdown(wait=False)
    if server is not None:
        server.stop()
    sender.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sender  # an entry cut off mid-send stays 'sending' and is re-sent after the lease
    store.close()
