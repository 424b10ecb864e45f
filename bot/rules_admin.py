"""Rules as admins live with them: `nianbao rules check` (validate before saving), `rules explain`
(what a check does and how it is set), `recheck` (stored reports under the new rules, through the
normal alert lifecycle), and the watcher that reloads edited rules in the running service — a bad
edit is refused, the last good rules stay in force, and the admin channel hears about it once.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.alerts import Alerting, deadline_fingerprint
from bot.config import Config
from bot.deadlines import deadline_events
from bot.events import FindingsChanged
from bot.pipeline import finding_rows
from bot.store import Store
from notifiers.base import Item
from rules.checks import REGISTRY
from rules.config import RulesError, RuleSet, fingerprint, load_rules
from rules.engine import check
from rules.report import from_snapshot

log = logging.getLogger(__name__)


def _owner(path: str) -> str:
    """Who edited a rules file, as well as the file system can tell: its owner."""
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except (KeyError, OSError):
        return "?"


def explain(rules: RuleSet, what: str) -> str | None:
    """A check (by name or by a kind it emits), in words: what it does, whether it runs, its settings."""
    checks = [c for c in REGISTRY.values() if what in (c.name, *c.kinds)]
    if not checks:
        return None
    out = []
    for c in checks:
        cfg = rules.check(c.name)
        out.append(f"检查 {c.name}（问题类型：{', '.join(c.kinds)}）")
        out.append(f"  {c.doc}")
        out.append(f"  状态：{'启用' if cfg.enabled else '已停用'}；级别：{cfg.severity}")
        for k, v in cfg.params.items():
            default = c.defaults.get(k)
            note = "" if v == default else f"（默认 {default}）"
            out.append(f"  参数 {k} = {json.dumps(v, ensure_ascii=False)}{note}")
        if c.name == "deadline":
            out.append("  期限（报告年度次年）：" + "，".join(f"{k} {v}" for k, v in rules.deadlines.items()))
            for r in rules.regional:
                span = f"{r.from_year or '…'}–{r.until_year if r.until_year < 9999 else '…'}"
                out.append(f"  地区期限：{r.region} {'/'.join(r.body_types)} {r.month_day}（报告年度 {span}）")
        if c.needs_previous:
            out.append("  需要上一年度的报告（服务中自动取库中上年版本；命令行用 --previous）")
        if c.name in ("identities", "crossyear"):
            for fid, fmt in rules.formats.items():
                for rule in fmt.identities if c.name == "identities" else fmt.crossyear:
                    first = rule.formulas[0][1].text
                    out.append(f"  {fid} {rule.id}：{rule.title}（{len(rule.formulas)} 条公式，如 {first}）")
        exempt = [e for e in rules.exemptions if e.rule in (c.name, *c.kinds, "*")]
        for e in exempt:
            out.append(f"  豁免：{e.body} {e.year}年度（{e.reason}）" + (f"，至 {e.until}" if e.until else ""))
        for kind in c.kinds:
            if kind in rules.templates:
                out.append(f"  消息模板 {kind}：{rules.templates[kind]}")
    out.append(f"规则版本 {rules.version}（{rules.source}）")
    return "\n".join(out)


@dataclass
class RecheckResult:
    reports: int = 0
    changed: int = 0
    events: list[Any] = field(default_factory=list)
    revoked: int = 0


def recheck(config: Config, store: Store, alerting: Alerting, rules: RuleSet, now: datetime,
            year: int | None = None) -> RecheckResult:  # fmt: skip
    """Check every stored report again under ``rules``: changed findings fire or revoke alerts as
    usual; a missed deadline the new rules no longer call missed (moved, exempted) is revoked, and
    one the new rules call missed fires."""
    result = RecheckResult()
    stamp = now.isoformat(timespec="seconds")
    reason = f"规则已调整（规则版本 {rules.version}）"
    for row in store.current_versions(year):
        report = from_snapshot(json.loads(row["snapshot"] or "{}"), row["text"] or "")
        if report.unreadable or not report.sections:
            continue  # unreadable, or stored before full snapshots: its next new version is checked anew
        result.reports += 1
        prev = store.previous_snapshot(report.body, report.year)
        findings = check(report, rules, from_snapshot(prev) if prev else None, now.date())

        def make_event(added: tuple[str, ...], resolved: tuple[str, ...], r: dict = row) -> tuple[Any, str]:
            ev = FindingsChanged(r["body"], r["year"], r["report_id"], r["version_id"], added, resolved, reason)
            return ev, f"recheck|{r['report_id']}|{r['version_id']}|{rules.version}"

        ev = store.replace_findings(
            row["version_id"], row["report_id"], finding_rows(findings, report, rules), rules.version, stamp,
            make_event,
        )  # fmt: skip
        if ev:
            result.changed += 1
            result.events.append(ev)
    today = now.date()
    with store.tx():
        for p in config.portals:
            for body in p.bodies:
                for y in config.watched_years(today):
                    if year and y != year:
                        continue
                    due = rules.deadline(y, body.body_type, body.region)
                    exempt = rules.exempt(body.name, y, "deadline", "deadline.missing", today)
                    if exempt or today <= due + timedelta(days=config.deadline_grace_days):
                        why = f"已豁免：{exempt.reason}" if exempt else f"期限调整为 {due.isoformat()}，尚未到期"
                        if alerting.revoke(store, deadline_fingerprint(body.name, y), now, f"{reason}；{why}"):
                            result.revoked += 1
    result.events.extend(deadline_events(config, store, rules, today, stamp))
    return result


class RulesWatcher:
    """Polled by the service: reload the rules when their files change. A good edit takes effect and is
    logged (who, when, file hashes); a bad one is logged, refused — the rules in force stay — and the
    admin channel gets one alert naming the error (once per distinct bad content)."""

    def __init__(self, directory: Path | None, rules: RuleSet) -> None:
        self.directory, self.rules = directory, rules
        self.files = dict(rules.files)

    def poll(self, store: Store, alerting: Alerting, now: datetime) -> RuleSet | None:
        """The new rules when an edit was accepted, else None."""
        try:
            files = fingerprint(self.directory)
        except OSError as exc:
            files = {"error": str(exc)}
        if files == self.files:
            return None
        changed = sorted(k for k in set(files) | set(self.files) if files.get(k) != self.files.get(k))
        user = ", ".join(sorted({_owner(p) for p in changed if os.path.exists(p)})) or "?"
        stamp = now.isoformat(timespec="seconds")
        try:
            new = load_rules(self.directory)
        except RulesError as exc:
            if store.record_rule_change(stamp, "rejected", "", files, changed, user, str(exc)):
                log.error("rules edit refused, keeping version %s: %s", self.rules.version, exc)
                detail = f"{exc}（仍使用规则版本 {self.rules.version}）"
                alerting.push(store, [Item("fire", "admin.rules_rejected", "error", detail=detail)], now)
            return None
        self.files, self.rules = dict(new.files), new
        if store.record_rule_change(stamp, "accepted", new.version, new.files, changed, user, ""):
            names = "、".join(Path(c).name for c in changed)
            note = Item(
                "notice", "admin.rules_accepted", "info", detail=f"{names} 的修改已生效，规则版本 {new.version}"
            )
            alerting.push(store, [note], now)
        log.warning("rules reloaded: version %s (%s)", new.version, ", ".join(Path(c).name for c in changed))
        return new
