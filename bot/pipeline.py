"""One scan of one portal: discover → new or changed? → fetch + extract → read → check → store → events.

Idempotent: an unchanged report (304, or the same bytes) is neither re-downloaded in full nor
re-parsed, and the same facts never produce a second event (the store keys every event). A failed
or blocked list page makes the discovery incomplete: nothing is withdrawn and the portal's health
records the failure — a challenge page is never read as "no new reports".
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.analysis import Analyser, Job, analyser
from bot.body import Body
from bot.checking import Outcome, to_json
from bot.config import Config, Portal
from bot.deadlines import deadline_events
from bot.documents import with_attachments
from bot.events import (
    FindingsChanged,
    PortalRecovered,
    PortalUnhealthy,
    ReportChanged,
    ReportPublished,
    ReportWithdrawn,
)
from bot.store import Store, mirror_digest
from rules.config import RuleSet
from rules.memo import ByIdentity
from rules.normalize import norm
from rules.report import snapshot
from scrapers.net import Fetcher, Politeness
from scrapers.portals import KINDS, ReportLink, merge

log = logging.getLogger(__name__)


@dataclass
class ScanResult:
    portal: str
    complete: bool = True
    problem: str | None = None
    pages: int = 0
    links: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    errors: int = 0
    events: list[Any] = field(default_factory=list)


def _by_length(bodies: tuple[Body, ...]) -> list[tuple[str, Body]]:
    named = [(norm(name), b) for b in bodies for name in (b.name, *b.aliases)]
    return sorted((x for x in named if x[0]), key=lambda x: -len(x[0]))


# (normalised name or alias, body), longest first: per portal's bodies, not per report (hundreds of bodies)
_NAMES: ByIdentity[list[tuple[str, Body]]] = ByIdentity(_by_length)


def match_body(portal: Portal, title: str, body: str | None) -> Body | None:
    """The configured body a report belongs to: its name or an alias in the title or the read body
    (the longest name that occurs; among equally long ones, the first configured)."""
    hay = norm(title) + "|" + norm(body or "")
    return next((b for n, b in _NAMES(portal.bodies) if n in hay), None)


def politeness(portal: Portal) -> Politeness:
    return Politeness(
        concurrency=portal.concurrency,
        delay=portal.delay,
        timeout=portal.timeout,
        allow_private=portal.allow_private,
        ca_bundle=portal.ca_bundle,
    )


def _reconciled_recently(store: Store, portal: Portal, now: datetime) -> bool:
    """True when every known report was re-checked (conditional GET) within reconcile_hours. Until the
    next reconcile, a known report whose list entry is unchanged needs no request at all — only new
    links (and entries whose title changed) are fetched, whether or not the rest of the list moved."""
    h = store.health(portal.name)
    if not h or not h.get("reconciled_at"):
        return False
    return now - datetime.fromisoformat(h["reconciled_at"]) < timedelta(hours=portal.reconcile_hours)


async def process_link(
    link: ReportLink,
    portal: Portal,
    fetcher: Fetcher,
    store: Store,
    rules: RuleSet,
    now: datetime,
    result: ScanResult,
    an: Analyser | None = None,
) -> None:
    an = an or analyser(rules, 0)
    stamp = now.isoformat(timespec="seconds")
    rep = store.report(link.url)
    res = await fetcher.fetch(
        link.url,
        expect="document",
        etag=rep["etag"] if rep else None,
        last_modified=rep["last_modified"] if rep else None,
    )
    if res.status == "not_modified" and rep:
        store.touch(rep["id"], stamp)
        result.unchanged += 1
        return
    if not res.ok:
        result.errors += 1
        log.warning("report %s: %s %s", link.url, res.status, res.error or res.http_status)
        return
    digest = hashlib.sha256(res.data).hexdigest()
    if rep and rep["content_hash"] == digest:
        store.touch(rep["id"], stamp, res.etag, res.last_modified)  # same bytes: no re-parse
        result.unchanged += 1
        return
    first_seen = rep["first_seen"][:10] if rep else now.date().isoformat()
    extra = {"first_seen": first_seen, **({"list_date": link.list_date.isoformat()} if link.list_date else {})}
    named = match_body(portal, link.title, None)  # the list title usually names the body: check in one go
    key = (named.name, link.year) if named and link.year else None
    job = Job(link.url, now.date(), link.year, extra, named, key, store.previous_snapshot(*key) if key else None)
    done = await an.analyse(res.data, link.url, res.content_type, job)  # extract, read, check: on a worker core
    attachment = None
    if done.doc is not None:  # the page only links its report: fetch the attachments here, read them there
        doc, attachment = await with_attachments(fetcher, done.doc, an.extract)
        done = await an.analyse_doc(doc, job)
    report = done.report
    assert report is not None
    body = None if named else match_body(portal, link.title, report.body)
    if body:
        report = replace(report, body=body.name, body_type=body.body_type, region=body.region or None)
    if rep and not report.unreadable and report.text and store.current_text(rep["id"]) == report.text:
        # new bytes, same words (a visit counter, a re-rendered template): not a new version, no alert
        store.touch(rep["id"], stamp, res.etag, res.last_modified, content_hash=digest)
        result.unchanged += 1
        return
    findings = done.findings
    if findings is None:  # the report was not the (body, year) its list entry named
        findings = await an.check(report, store.previous_snapshot(report.body, report.year), now.date())
    outcome = Outcome(link.url, report, findings, report.unreadable, attachment)
    out = to_json(outcome, rules)
    rows = finding_rows(findings, report, rules)
    fetched = {
        "content_hash": digest,
        "final_url": res.url,
        "content_type": res.content_type,
        "size": len(res.data),
        "etag": res.etag,
        "last_modified": res.last_modified,
    }

    def make_events(rid: int, vid: int, old: set[str] | None, new: set[str]) -> list[tuple[Any, str]]:
        evs: list[tuple[Any, str]] = []
        errors = sum(1 for f in findings if f.severity == "error")
        if old is None:
            evs.append(
                (
                    ReportPublished(portal.name, report.body, report.year, link.url, link.title, rid, errors),
                    f"published|{rid}",
                )
            )
        else:
            evs.append(
                (
                    ReportChanged(portal.name, report.body, report.year, link.url, link.title, rid, vid),
                    f"changed|{rid}|{vid}",
                )
            )
        if new != (old or set()):
            evs.append(
                (
                    FindingsChanged(
                        report.body,
                        report.year,
                        rid,
                        vid,
                        tuple(sorted(new - (old or set()))),
                        tuple(sorted((old or set()) - new)),
                    ),
                    f"findings|{rid}|{vid}",
                )
            )
        return evs

    events = store.save_version(
        link={
            "url": link.url,
            "portal": portal.name,
            "title": link.title,
            "list_date": link.list_date.isoformat() if link.list_date else None,
        },
        fetched=fetched,
        result=out,
        snapshot=snapshot(report),
        findings=rows,
        text=report.text,
        now=stamp,
        make_events=make_events,
        rules_version=rules.version,
    )
    result.events.extend(events)
    if rep is None:
        result.new += 1
    else:
        result.changed += 1


def finding_rows(findings: list[Any], report: Any, rules: RuleSet) -> list[dict[str, Any]]:
    """Findings as store rows: with their fingerprint and the rules version that produced them."""
    return [
        {**f.as_json(), "fingerprint": f.fingerprint(report.body or "", report.year), "rules_version": rules.version}
        for f in findings
    ]


Progress = Callable[[str, int, int], None]  # (portal, links done, links found)


async def scan_portal(
    portal: Portal,
    store: Store,
    rules: RuleSet,
    now: datetime,
    threshold: int = 3,
    fetcher: Fetcher | None = None,
    progress: Progress | None = None,
    an: Analyser | None = None,
) -> ScanResult:
    """One cycle for one portal. Never raises for network or content problems: they are recorded."""
    own = fetcher is None
    fetcher = fetcher or Fetcher(politeness(portal))
    result = ScanResult(portal.name)
    stamp = now.isoformat(timespec="seconds")
    run_id = store.start_run(portal.name, stamp)
    try:
        discover = KINDS[portal.kind][1]
        discovery = merge([await discover(fetcher, cfg) for cfg in portal.kind_configs])
        result.complete, result.problem = discovery.complete, discovery.problem
        result.pages, result.links = len(discovery.pages), len(discovery.links)
        failing = next((s for _, s in discovery.pages if s not in ("ok", "not_modified")), "ok")
        health = store.record_health(
            portal.name,
            discovery.complete,
            failing,
            discovery.problem,
            stamp,
            threshold,
            PortalUnhealthy(portal.name, "blocked" if failing == "challenge" else "down", threshold, discovery.problem),
            PortalRecovered(portal.name),
        )
        if health:
            result.events.append(health)
        incremental = _reconciled_recently(store, portal, now) if discovery.complete else False
        before = (store.health(portal.name) or {}).get("list_hash")
        if incremental and discovery.links and before == discovery.list_hash:
            # the list says exactly what it said last time (links, titles, dates), that cycle went without
            # errors, and every known report was re-checked within reconcile_hours: nothing to fetch, store,
            # touch or withdraw. The hourly January cycle of an unchanged portal ends here.
            result.unchanged = len(discovery.links)
            return result
        known_now = store.reports_by_url(portal.name) if incremental else {}
        seen: list[int] = []
        todo: list[ReportLink] = []
        for link in discovery.links:
            known = known_now.get(link.url)
            if known and known["title"] == link.title:  # reconciled recently, entry unchanged: no request
                seen.append(known["id"])
                result.unchanged += 1
            else:
                todo.append(link)
        done = len(seen)
        # one link more in hand than requests allowed at once (the Fetcher enforces concurrency and delay per
        # host): the next report downloads while this one is read, instead of latency + reading in a chain.
        # A few lanes take the links in turn — not a task per link waiting on a semaphore (5,000 parked tasks)
        pending = iter(todo)

        async def lane() -> None:
            nonlocal done
            for link in pending:
                try:
                    await process_link(link, portal, fetcher, store, rules, now, result, an)
                except Exception:  # one broken report must not stop the portal's other reports
                    log.exception("processing %s failed", link.url)
                    result.errors += 1
                done += 1
                if progress:
                    progress(portal.name, done, len(discovery.links))

        await asyncio.gather(*(lane() for _ in range(min(len(todo), portal.concurrency + 1))))
        store.touch_many(seen, stamp)  # one transaction for all the reports seen unchanged
        if discovery.complete:  # a cycle with errors leaves no hash: the next one looks at every link again
            state = "" if result.errors else discovery.list_hash
            store.set_list_state(portal.name, state, None if incremental else stamp)
        active = store.active_reports(portal.name)
        if discovery.complete and not discovery.links and active:
            # a list that suddenly holds no 年报 at all is far likelier a redesign than a mass withdrawal
            discovery.truncated = True
            result.problem = "栏目中一份年报都没有找到，暂不判定撤下（请检查栏目地址或页面结构）"
        if discovery.complete and not discovery.truncated:
            seen = {x.url for x in discovery.links}
            for rep in active:
                if rep["url"] not in seen:
                    ev = store.withdraw(
                        rep["id"],
                        stamp,
                        ReportWithdrawn(portal.name, rep["body"], rep["year"], rep["url"], rep["id"]),
                        f"withdrawn|{rep['id']}|{rep['last_seen']}",
                    )
                    if ev:
                        result.events.append(ev)
                        result.withdrawn += 1
    finally:
        status = "ok" if result.complete else "failed"
        store.finish_run(
            run_id,
            now.isoformat(timespec="seconds"),
            status=status,
            pages=result.pages,
            links=result.links,
            new_reports=result.new,
            changed=result.changed,
            unchanged=result.unchanged,
            withdrawn=result.withdrawn,
            errors=result.errors,
            note=result.problem,
        )
        if own:
            await fetcher.close()
    return result


def _mirror(config: Config) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    portals = [{"name": p.name, "kind": p.kind, "list_url": p.list_url} for p in config.portals]
    bodies = [
        {"name": b.name, "portal": p.name, "body_type": b.body_type, "region": b.region, "aliases": list(b.aliases)}
        for p in config.portals
        for b in p.bodies
    ]
    return portals, bodies, mirror_digest(portals, bodies)


# the store's copy of the portals and bodies and its digest, built once per loaded config (5,000 dicts and
# their hash cost ~45 ms a cycle); the store decides, by the digest, whether anything needs writing
_MIRROR: ByIdentity[tuple[list[dict[str, Any]], list[dict[str, Any]], str]] = ByIdentity(_mirror, limit=4)


async def scan_all(
    config: Config,
    store: Store,
    rules: RuleSet,
    now: datetime,
    only: str | None = None,
    progress: Progress | None = None,
) -> list[ScanResult]:
    """A full cycle: every portal concurrently (each with its own politeness), then the deadline watch."""
    store.sync_config(*_MIRROR(config))
    portals = [p for p in config.portals if only is None or p.name == only]
    an = analyser(rules, config.workers)

    async def guarded(p: Portal) -> ScanResult:
        try:
            return await scan_portal(p, store, rules, now, config.unhealthy_after, progress=progress, an=an)
        except Exception as exc:  # a bug in one portal's kind must not stop the others
            log.exception("portal %s failed", p.name)
            return ScanResult(p.name, complete=False, problem=f"{type(exc).__name__}: {exc}")

    results = list(await asyncio.gather(*(guarded(p) for p in portals)))
    missed = deadline_events(config, store, rules, now.date(), now.isoformat(timespec="seconds"))
    if results:
        results[-1].events.extend(missed)
    return results
