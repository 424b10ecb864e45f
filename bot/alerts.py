"""The alert lifecycle: events → alerts with a stable fingerprint → outbox entries for the channels.

An alert fires once, is reminded on a schedule while it stays unresolved, and resolves with one
"已纠正/已恢复" message when its condition clears (Alertmanager's model). It runs inside the store
transaction that records the event (Store.on_event), so the outbox entry exists exactly when the
state change does: a crash loses neither, and a repeated scan adds neither.

Findings are reconciled per scope (a body and year, or one report when the body is unknown): what
the current versions of the active reports say should be firing is compared with what is firing.
So the same defect seen in ten scans, or in a re-published copy at a new URL, stays one alert.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any

from bot.events import (
    DeadlineMissed,
    FindingsChanged,
    PortalRecovered,
    PortalUnhealthy,
    ReportChanged,
    ReportPublished,
    ReportWithdrawn,
)
from notifiers.base import Item
from rules.report import EVIDENCE_LABELS


@dataclass(frozen=True)
class Route:
    """Which alerts go to which channels, and when. Empty filters admit everything."""

    name: str
    channels: tuple[str, ...]
    bodies: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # glob patterns: "table.*", "deadline.missing", "report.published"
    severities: tuple[str, ...] = ("error", "warning", "info")
    quiet_hours: tuple[time, time] | None = None  # held until the end of the window
    digest: str = "off"  # off | daily: one combined message a day at digest_at
    digest_at: time = time(8, 30)

    def admits(self, item: Item) -> bool:
        if item.kind.startswith("admin."):
            return False
        return (
            (not self.bodies or (item.body or "") in self.bodies)
            and (not self.regions or item.region in self.regions)
            and (not self.kinds or any(fnmatch.fnmatchcase(item.kind, k) for k in self.kinds))
            and item.severity in self.severities
        )

    def due(self, now: datetime) -> tuple[datetime, bool]:
        """When an entry made now may be sent, and whether it waits for the digest."""
        if self.digest == "daily":
            at = datetime.combine(now.date(), self.digest_at)
            return (at if at > now else at + timedelta(days=1)), True
        if self.quiet_hours:
            start, end = self.quiet_hours
            t = now.time()
            quiet = (start <= t < end) if start < end else (t >= start or t < end)
            if quiet:
                at = datetime.combine(now.date(), end)
                return (at if at > now else at + timedelta(days=1)), False
        return now, False


@dataclass(frozen=True)
class Policy:
    routes: tuple[Route, ...] = ()
    admin_channels: tuple[str, ...] = ()
    remind_every_days: float = 7.0
    remind_kinds: tuple[str, ...] = ("deadline.missing", "portal.unhealthy")
    retry_base_seconds: float = 30.0
    retry_cap_seconds: float = 1800.0
    give_up_hours: float = 72.0
    regions: dict[str, str] = field(default_factory=dict)  # body → region, from config.toml


def deadline_fingerprint(body: str, year: int) -> str:
    return _fp("deadline.missing", body, year)


def _fp(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _stamp(now: datetime) -> str:
    return now.isoformat(timespec="seconds")


class Alerting:
    """Store.on_event hook: ``event`` collects alert transitions, ``flush`` writes the outbox before
    the commit, ``discard`` forgets them when the transaction rolls back."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._buffer: list[Item] = []
        self._now = ""

    # -------------------------------------------------------------- hook
    def event(self, store: Any, ev: Any, now: str) -> None:
        self._now = now
        self._buffer.extend(self.transitions(store, ev, now))

    def discard(self) -> None:
        self._buffer = []

    def flush(self, store: Any) -> None:
        items, self._buffer = self._buffer, []
        if items:
            self.enqueue(store, items, datetime.fromisoformat(self._now))

    def push(self, store: Any, items: list[Item], now: datetime) -> None:
        """Route and enqueue items made outside an event (admin alerts: dead letters, broken channels,
        refused rule edits go to the admin channels); joins the caller's transaction if there is one."""
        with store.tx():
            self._now = _stamp(now)
            self._buffer.extend(items)

    # -------------------------------------------------------------- transitions
    def _region(self, body: str | None) -> str:
        return self.policy.regions.get(body or "", "")

    def _fire(self, store: Any, fp: str, scope: str, item: Item, now: str) -> Item | None:
        row = store.alert(fp)
        if row and row["state"] == "firing":
            return None
        item = Item(**{**asdict(item), "alert": fp, "action": "fire", "since": now})
        store.set_alert(
            {
                "fingerprint": fp,
                "kind": item.kind,
                "severity": item.severity,
                "scope": scope,
                "body": item.body,
                "year": item.year,
                "state": "firing",
                "first_fired": now,
                "last_fired": now,
                "last_notified": now,
                "resolved_at": None,
                "item": asdict(item),
            }
        )
        return item

    def _resolve(self, store: Any, row: dict[str, Any], now: str, **changes: Any) -> Item:
        old = Item.from_json(json.loads(row["item"]))
        store.set_alert({**row, "state": "resolved", "resolved_at": now, "item": asdict(old)})
        return Item(**{**asdict(old), "action": "resolve", "since": row["first_fired"], **changes})

    def _finding_item(self, f: dict[str, Any]) -> Item:
        data = json.loads(f["data"]) if f.get("data") else {}
        return Item(
            action="fire",
            kind=f["kind"],
            severity=f["severity"],
            body=f["body"],
            region=self._region(f["body"]),
            year=f["year"],
            title=f["title"] or "",
            url=f["url"] or "",
            rule=f["rule"] or "",
            where=f["where"] or "",
            message=f["message"] or "",
            deadline=data.get("deadline") or "",
            published=data.get("published") or "",
            evidence=EVIDENCE_LABELS.get(data.get("evidence") or "", data.get("evidence") or ""),
            days_late=data.get("days_late"),
        )

    def reconcile(
        self,
        store: Any,
        body: str | None,
        year: int | None,
        report_id: int,
        now: str,
        silent: bool = False,
        reason: str = "",
    ) -> list[Item]:
        """Fire what the current findings say and is not firing; resolve what fires and is no longer said.
        With a ``reason`` (a rules change), a finding that disappears is revoked, not "corrected"."""
        scope = f"findings|{body}|{year}" if body else f"findings|report#{report_id}"
        current = {f["fingerprint"]: f for f in store.current_findings(body, year, report_id)}
        out = []
        for fp, f in current.items():
            item = self._finding_item(f)
            got = self._fire(store, fp, scope, replace(item, detail=reason) if reason else item, now)
            if got:
                out.append(got)
        for row in store.firing(scope):
            if row["fingerprint"] not in current:
                item = self._resolve(store, row, now, **({"action": "revoke", "detail": reason} if reason else {}))
                if not silent:
                    out.append(item)
        return out

    def revoke(self, store: Any, fingerprint: str, now: datetime, reason: str) -> bool:
        """Resolve one firing alert because the rules changed (a moved deadline, an exemption)."""
        row = store.alert(fingerprint)
        if not row or row["state"] != "firing":
            return False
        self.push(store, [self._resolve(store, row, _stamp(now), action="revoke", detail=reason)], now)
        return True

    def transitions(self, store: Any, ev: Any, now: str) -> list[Item]:
        region = self._region(getattr(ev, "body", None))
        if isinstance(ev, ReportPublished):
            out = [
                Item(
                    "notice",
                    "report.published",
                    "info",
                    body=ev.body,
                    region=region,
                    year=ev.year,
                    title=ev.title,
                    url=ev.url,
                    portal=ev.portal,
                    detail=f"错误级问题 {ev.errors} 个" if ev.errors else "未发现错误级问题",
                )
            ]
            row = store.alert(deadline_fingerprint(ev.body, ev.year)) if ev.body else None
            if row and row["state"] == "firing":
                out.append(self._resolve(store, row, now, title=ev.title, url=ev.url, detail=f"已发现：{ev.title}"))
            return out
        if isinstance(ev, ReportChanged):
            return [
                Item("notice", "report.changed", "info", body=ev.body, region=region, year=ev.year, title=ev.title,
                     url=ev.url, portal=ev.portal, detail="报告内容有新版本，已重新检查")
            ]  # fmt: skip
        if isinstance(ev, ReportWithdrawn):
            notice = Item(
                "notice", "report.withdrawn", "warning", body=ev.body, region=region, year=ev.year, url=ev.url,
                portal=ev.portal, detail="该年报已不在门户栏目中",
            )  # fmt: skip
            return [notice, *self.reconcile(store, ev.body, ev.year, ev.report_id, now, silent=True)]
        if isinstance(ev, FindingsChanged):
            return self.reconcile(store, ev.body, ev.year, ev.report_id, now, reason=ev.reason)
        if isinstance(ev, DeadlineMissed):
            item = Item(
                "fire", "deadline.missing", "error", body=ev.body, region=region, year=ev.year, deadline=ev.deadline,
                portal=ev.portal, detail=f"截至期限 {ev.deadline} 未在门户“{ev.portal}”发现该年度报告",
            )  # fmt: skip
            got = self._fire(store, deadline_fingerprint(ev.body, ev.year), f"deadline|{ev.body}", item, now)
            return [got] if got else []
        if isinstance(ev, PortalUnhealthy):
            why = "被反爬机制拦截" if ev.status == "blocked" else "无法访问"
            item = Item(
                "fire", "portal.unhealthy", "warning", portal=ev.portal,
                detail=f"连续 {ev.failures} 次{why}：{ev.problem or ''}",
            )  # fmt: skip
            got = self._fire(store, _fp("portal.unhealthy", ev.portal), f"portal|{ev.portal}", item, now)
            return [got] if got else []
        if isinstance(ev, PortalRecovered):
            row = store.alert(_fp("portal.unhealthy", ev.portal))
            return [self._resolve(store, row, now)] if row and row["state"] == "firing" else []
        return []

    # -------------------------------------------------------------- reminders
    def remind(self, store: Any, now: datetime) -> int:
        """One reminder per still-firing alert every remind_every_days (for the configured kinds)."""
        before = _stamp(now - timedelta(days=self.policy.remind_every_days))
        with store.tx():
            items = []
            for row in store.reminders_due(before):
                if not any(fnmatch.fnmatchcase(row["kind"], k) for k in self.policy.remind_kinds):
                    continue
                item = Item.from_json(json.loads(row["item"]))
                items.append(Item(**{**asdict(item), "action": "remind", "since": row["first_fired"]}))
                store.set_alert({**row, "last_notified": _stamp(now), "item": asdict(item)})
            self._now = _stamp(now)
            self._buffer.extend(items)
        return len(items)

    # -------------------------------------------------------------- routing
    def enqueue(self, store: Any, items: list[Item], now: datetime) -> int:
        """Group the items per (route, channel) into outbox entries, due now, after quiet hours or at
        the digest time. Admin items go to the admin channels only."""
        stamp = _stamp(now)
        buckets: dict[tuple[str, str], list[Item]] = {}
        routes = self.policy.routes
        for item in items:
            if item.kind.startswith("admin."):
                for ch in self.policy.admin_channels:
                    buckets.setdefault(("admin", ch), []).append(item)
                continue
            for route in routes:
                if route.admits(item):
                    for ch in route.channels:
                        bucket = buckets.setdefault((route.name, ch), [])
                        if item not in bucket:
                            bucket.append(item)
        by_name = {r.name: r for r in routes}
        n = 0
        for (route_name, channel), group in buckets.items():
            route = by_name.get(route_name)
            due, digest = route.due(now) if route else (now, False)
            store.enqueue(channel, route_name, [asdict(i) for i in group], _stamp(due), digest, stamp)
            n += 1
        return n
