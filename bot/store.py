"""The ONLY module that talks to SQLite (sqlite-utils): migrations, WAL, busy timeout, one writer.

Every state change that produces events writes the events in the same transaction, with a unique
key, so a crash or a second run can never emit the same fact twice; callers dispatch the returned
events only after the commit.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from bot.schema import MIGRATIONS

_BUSY_S = 30.0  # how long a connection waits for another's lock: the busy timeout, and the WAL switch's retries


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the file. On a new file the
    switch is a write: two processes opening it at once (the service starting, a command run beside it)
    both hold a read lock and want the write lock, and SQLite answers the second "database is locked" at
    once instead of calling the busy handler (waiting could deadlock). Once one of them has switched, the
    other's retry finds WAL and changes nothing."""
    deadline = time.monotonic() + _BUSY_S
    pause = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


_ORJSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _dumps(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, default=str)``, in orjson where it can: a report's result and
    snapshot hold ~500 values, and the json module spent ~0.4 ms of the service's CPU a report encoding them
    (orjson: a tenth). Dates, datetimes and dataclasses still go through ``str`` as before; what orjson refuses
    (an integer beyond 64 bits, a lone surrogate) is encoded by the json module. Only the spacing differs — and
    a non-finite float (a 400-digit cell) is written null, where the json module wrote Infinity, which is not
    JSON and SQLite's json functions refuse."""
    try:
        return orjson.dumps(value, default=str, option=_ORJSON).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, ensure_ascii=False, default=str)


EventHook = Any  # an object with .event(store, event, now) and .flush(store): bot.alerts.Alerting


def mirror_digest(portals: list[dict[str, Any]], bodies: list[dict[str, Any]]) -> str:
    """What Store.sync_config compares: the same portals and bodies give the same digest."""
    return hashlib.sha256(json.dumps([portals, bodies], sort_keys=True, default=str).encode()).hexdigest()


class Store:
    def __init__(self, path: str | Path, on_event: EventHook | None = None) -> None:
        self.on_event = on_event  # the alert lifecycle: runs inside the transaction that records the event
        self._synced = ""
        self._saved = 0  # reports saved through this connection: published_body_years() reads again after one
        self._published: tuple[tuple[int, int], frozenset[tuple[str, int]]] | None = None
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=_BUSY_S, isolation_level=None, check_same_thread=False)
        _switch_to_wal(conn)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.migrate()

    def migrate(self) -> int:
        """Bring the file to the newest schema, one migration per transaction. The version is read again
        under the write lock: two processes opening a new file at once (the service starting, a command run
        beside it) must not both apply the same migration."""
        while self.db.execute("PRAGMA user_version").fetchone()[0] < len(MIGRATIONS):
            with self.tx():
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version >= len(MIGRATIONS):
                    break  # the other process finished it while we waited for the lock
                for stmt in (s.strip() for s in MIGRATIONS[version].split(";\n")):
                    if stmt:
                        self.db.execute(stmt)
                self.db.execute(f"PRAGMA user_version={version + 1}")
        return len(MIGRATIONS)

    @contextmanager
    def tx(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE: a single writer at a time, others wait). Nested use
        joins the outer transaction, so a caller can make several store calls atomic."""
        if self.db.conn.in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            if self.on_event is not None:
                self.on_event.flush(self)  # the outbox rows commit with the state change, or not at all
        except BaseException:
            self.db.execute("ROLLBACK")
            if self.on_event is not None:
                self.on_event.discard()
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.conn.close()

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """A plain INSERT (sqlite-utils' insert() inspects the table on every call: ~1 ms each, several per
        stored report). Column names come from our own code, never from scraped input."""
        cols = ", ".join(f'"{c}"' for c in row)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})"
        return int(self.db.conn.execute(sql, tuple(row.values())).lastrowid or 0)

    def _upsert(self, table: str, row: dict[str, Any], pk: str) -> None:
        cols = ", ".join(f'"{c}"' for c in row)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in row if c != pk)
        sql = (
            f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))}) "
            f'ON CONFLICT("{pk}") DO UPDATE SET {updates}'
        )
        self.db.conn.execute(sql, tuple(row.values()))

    def rows(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        cur = self.db.execute(sql, params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        got = self.rows(sql, params)
        return got[0] if got else None

    # ------------------------------------------------------------------ configuration mirror
    def sync_config(self, portals: list[dict[str, Any]], bodies: list[dict[str, Any]], digest: str = "") -> None:
        """Mirror config.toml's portals and bodies — once per distinct config in this connection's life
        (5,000 upserts every cycle would cost more than the cycle's actual work). ``digest``: mirror_digest()
        of the two lists when the caller already has it (hashing 5,000 bodies every cycle cost ~15 ms)."""
        digest = digest or mirror_digest(portals, bodies)
        if digest == self._synced:
            return
        self._synced = digest
        with self.tx():
            for p in portals:  # plain upserts: sqlite-utils' upsert() inspects the table on every call (~0.3 ms)
                self._upsert("portals", p, "name")
            for b in bodies:
                self._upsert("bodies", {**b, "aliases": json.dumps(b.get("aliases", []), ensure_ascii=False)}, "name")

    # ------------------------------------------------------------------ events
    def _event(self, event: Any, key: str, now: str) -> Any | None:
        """Record an event once; returns it when new (the caller dispatches it after the commit)."""
        payload = _dumps({"type": type(event).__name__, **asdict(event)})
        cur = self.db.execute(
            "INSERT OR IGNORE INTO events(at, type, key, payload) VALUES (?, ?, ?, ?)",
            (now, type(event).__name__, key, payload),
        )
        if not cur.rowcount:
            return None
        if self.on_event is not None:
            self.on_event.event(self, event, now)
        return event

    def events(self, since_id: int = 0) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM events WHERE id > ? ORDER BY id", (since_id,))

    # ------------------------------------------------------------------ reports
    def report(self, url: str) -> dict[str, Any] | None:
        return self.one("SELECT * FROM reports WHERE url = ?", (url,))

    def touch(
        self,
        report_id: int,
        now: str,
        etag: str | None = None,
        last_modified: str | None = None,
        content_hash: str | None = None,
    ) -> None:
        with self.tx():
            self.db.execute(
                "UPDATE reports SET last_seen = ?, status = 'active', etag = coalesce(?, etag), "
                "last_modified = coalesce(?, last_modified), content_hash = coalesce(?, content_hash) WHERE id = ?",
                (now, etag, last_modified, content_hash, report_id),
            )

    def touch_many(self, report_ids: list[int], now: str) -> None:
        with self.tx():
            for start in range(0, len(report_ids), 500):
                chunk = report_ids[start : start + 500]
                self.db.execute(
                    f"UPDATE reports SET last_seen = ?, status = 'active' WHERE id IN ({','.join('?' * len(chunk))})",
                    (now, *chunk),
                )

    def published_body_years(self) -> frozenset[tuple[str, int]]:
        """Every cycle's deadline pass: plain tuples (a dict per row cost twice the query for 5,000 bodies),
        re-read only after a report was saved through this connection or another connection committed
        (PRAGMA data_version) — an unchanged hour of January re-read 5,000 rows that had not changed."""
        key = (self.db.conn.execute("PRAGMA data_version").fetchone()[0], self._saved)
        if self._published is None or self._published[0] != key:
            cur = self.db.conn.execute("SELECT DISTINCT body, year FROM reports WHERE body IS NOT NULL")
            self._published = (key, frozenset(cur))
        return self._published[1]

    def reports_by_url(self, portal: str) -> dict[str, dict[str, Any]]:
        return {r["url"]: r for r in self.rows("SELECT id, url, title FROM reports WHERE portal = ?", (portal,))}

    def current_text(self, report_id: int) -> str | None:
        row = self.one(
            "SELECT v.text FROM reports r JOIN versions v ON v.id = r.current_version WHERE r.id = ?", (report_id,)
        )
        return row["text"] if row else None

    def save_version(
        self,
        *,
        link: dict[str, Any],
        fetched: dict[str, Any],
        result: dict[str, Any],
        snapshot: dict[str, Any],
        findings: list[dict[str, Any]],
        text: str,
        now: str,
        make_events: Any,
        rules_version: str = "",
    ) -> list[Any]:
        """Store a new or changed report version with its findings; returns the new events."""
        events: list[Any] = []
        self._saved += 1  # (body, year) may change: published_body_years reads again
        with self.tx():
            rep = self.report(link["url"])
            if rep is None:
                rid = self._insert(
                    "reports",
                    {
                        "url": link["url"],
                        "portal": link["portal"],
                        "body": result.get("body"),
                        "year": result["year"],
                        "title": link["title"],
                        "list_date": link.get("list_date"),
                        "first_seen": now,
                        "last_seen": now,
                        "status": "active",
                    },
                )
                old_fps: set[str] | None = None
            else:
                rid = rep["id"]
                old = self.rows("SELECT fingerprint FROM findings WHERE version_id = ?", (rep["current_version"],))
                old_fps = {r["fingerprint"] for r in old}
            counts = {s: sum(1 for f in findings if f["severity"] == s) for s in ("error", "warning", "advisory")}
            vid = self._insert(
                "versions",
                {
                    "report_id": rid,
                    "content_hash": fetched["content_hash"],
                    "fetched_at": now,
                    "final_url": fetched.get("final_url"),
                    "content_type": fetched.get("content_type"),
                    "size": fetched.get("size"),
                    "input_kind": result.get("input_kind"),
                    "attachment": result.get("attachment"),
                    "published": result["published"]["date"],
                    "evidence": result["published"]["evidence"],
                    "deadline": result.get("deadline"),
                    "format": result.get("format"),
                    "errors": counts["error"],
                    "warnings": counts["warning"],
                    "advisories": counts["advisory"],
                    "result": _dumps(result),
                    "snapshot": _dumps(snapshot),
                    "text": text,
                    "rules_version": rules_version,
                },
            )
            for f in findings:
                self._insert(
                    "findings",
                    {
                        **f,
                        "version_id": vid,
                        "report_id": rid,
                        "data": _dumps(f.get("data", {})),
                    },
                )
            self.db.execute(
                "UPDATE reports SET current_version = ?, content_hash = ?, last_seen = ?, "
                "status = 'active', body = ?, year = ?, etag = ?, last_modified = ? WHERE id = ?",
                (
                    vid,
                    fetched["content_hash"],
                    now,
                    result.get("body"),
                    result["year"],
                    fetched.get("etag"),
                    fetched.get("last_modified"),
                    rid,
                ),
            )
            new_fps = {f["fingerprint"] for f in findings}
            for ev, key in make_events(rid, vid, old_fps, new_fps):
                got = self._event(ev, key, now)
                if got is not None:
                    events.append(got)
        return events

    def active_reports(self, portal: str) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM reports WHERE portal = ? AND status = 'active'", (portal,))

    def withdraw(self, report_id: int, now: str, event: Any, key: str) -> Any | None:
        with self.tx():
            self.db.execute("UPDATE reports SET status = 'withdrawn' WHERE id = ?", (report_id,))
            return self._event(event, key, now)

    def previous_snapshot(self, body: str | None, year: int | None) -> dict[str, Any] | None:
        if not body or year is None:
            return None
        row = self.one(
            "SELECT v.snapshot FROM reports r JOIN versions v ON v.id = r.current_version "
            "WHERE r.body = ? AND r.year = ? ORDER BY r.first_seen DESC LIMIT 1",
            (body, year - 1),
        )
        return json.loads(row["snapshot"]) if row and row["snapshot"] else None

    def record_once(self, event: Any, key: str, now: str) -> Any | None:
        with self.tx():
            return self._event(event, key, now)

    # ------------------------------------------------------------------ portal health and runs
    def health(self, portal: str) -> dict[str, Any] | None:
        return self.one("SELECT * FROM portal_health WHERE portal = ?", (portal,))

    def record_health(
        self,
        portal: str,
        ok: bool,
        status: str,
        problem: str | None,
        now: str,
        threshold: int,
        unhealthy: Any,
        recovered: Any,
    ) -> Any | None:
        """Count consecutive failures; one PortalUnhealthy per episode, one PortalRecovered when it ends."""
        with self.tx():
            h = self.health(portal) or {"failures": 0, "episode": 0, "status": "ok"}
            if ok:
                event = None
                if h["status"] in ("down", "blocked") and h["failures"] >= threshold:
                    event = self._event(recovered, f"recovered|{portal}|{h['episode']}", now)
                self.db["portal_health"].upsert(
                    {
                        "portal": portal,
                        "status": "ok",
                        "failures": 0,
                        "episode": h["episode"],
                        "last_ok": now,
                        "last_class": status,
                        "updated_at": now,
                    },
                    pk="portal",
                )
                return event
            failures = h["failures"] + 1
            episode = h["episode"] + 1 if h["failures"] == 0 else h["episode"]
            state = "blocked" if status == "challenge" else "down"
            self.db["portal_health"].upsert(
                {
                    "portal": portal,
                    "status": state,
                    "failures": failures,
                    "episode": episode,
                    "last_error": problem,
                    "last_class": status,
                    "updated_at": now,
                },
                pk="portal",
            )
            if failures == threshold:
                return self._event(unhealthy, f"unhealthy|{portal}|{episode}", now)
            return None

    def set_list_state(self, portal: str, list_hash: str, reconciled_at: str | None) -> None:
        with self.tx():
            self.db.execute(
                "UPDATE portal_health SET list_hash = ?, reconciled_at = coalesce(?, reconciled_at) WHERE portal = ?",
                (list_hash, reconciled_at, portal),
            )

    def start_run(self, portal: str, now: str) -> int:
        with self.tx():
            return self._insert("runs", {"portal": portal, "started_at": now, "status": "running"})

    def finish_run(self, run_id: int, now: str, **counts: Any) -> None:
        with self.tx():
            self.db["runs"].update(run_id, {"finished_at": now, **counts})

    # ------------------------------------------------------------------ queries for the CLI
    def reports(self, year: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT r.id, r.body, r.year, r.title, r.url, r.status, r.first_seen, r.list_date, v.published, "
            "v.evidence, v.deadline, v.format, v.errors, v.warnings, v.advisories FROM reports r "
            "LEFT JOIN versions v ON v.id = r.current_version"
        )
        return self.rows(
            sql + (" WHERE r.year = ?" if year else "") + " ORDER BY r.body, r.year", (year,) if year else ()
        )

    def report_by_id(self, report_id: int) -> dict[str, Any] | None:
        return self.one("SELECT * FROM reports WHERE id = ?", (report_id,))

    def first_report(self, body: str, year: int) -> dict[str, Any] | None:
        """The earliest-published active report of a body for a year, with its current version's figures."""
        return self.one(
            "SELECT r.id, r.url, r.title, r.status, v.published, v.evidence, v.errors, v.warnings, v.advisories "
            "FROM reports r "
            "LEFT JOIN versions v ON v.id = r.current_version WHERE r.body = ? AND r.year = ? "
            "AND r.status = 'active' ORDER BY v.published LIMIT 1",
            (body, year),
        )

    def findings_of(self, report_id: int) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT f.* FROM findings f JOIN reports r ON r.current_version = f.version_id "
            "WHERE r.id = ? ORDER BY f.id",
            (report_id,),
        )

    def index_text(self, limit: int | None = None) -> int:
        """Add versions not yet in the full-text index (oldest first); returns how many. The service calls
        it a batch at a time between scans, and a search catches up on the rest first."""
        with self.tx():
            upto = self.db.execute("SELECT indexed_upto FROM fts_state").fetchone()[0]
            rows = self.db.execute(
                "SELECT id, text FROM versions WHERE id > ? ORDER BY id" + (" LIMIT ?" if limit else ""),
                (upto, limit) if limit else (upto,),
            ).fetchall()
            if rows:
                self.db.conn.executemany("INSERT INTO versions_fts(rowid, text) VALUES (?, ?)", rows)
                self.db.execute("UPDATE fts_state SET indexed_upto = ?", (rows[-1][0],))
        return len(rows)

    def search(self, text: str, year: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Reports whose current version contains ``text`` (trigram index; shorter terms by a scan)."""
        self.index_text()
        cols = "r.id, r.body, r.year, r.title, r.url, v.published"
        yr = " AND r.year = ?" if year else ""
        tail = (year,) if year else ()
        if len(text) >= 3:
            return self.rows(
                f"SELECT {cols}, snippet(versions_fts, 0, '【', '】', '…', 16) AS snippet FROM versions_fts f "
                "JOIN versions v ON v.id = f.rowid JOIN reports r ON r.current_version = v.id "
                f"WHERE versions_fts MATCH ? AND r.status = 'active'{yr} ORDER BY r.body, r.year LIMIT ?",
                (f'"{text.replace(chr(34), chr(34) * 2)}"', *tail, limit),
            )
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return self.rows(
            f"SELECT {cols}, '' AS snippet FROM reports r JOIN versions v ON v.id = r.current_version "
            f"WHERE v.text LIKE ? ESCAPE '\\' AND r.status = 'active'{yr} ORDER BY r.body, r.year LIMIT ?",
            (f"%{escaped}%", *tail, limit),
        )

    # ------------------------------------------------------------------ alerts (called inside a transaction)
    def alert(self, fingerprint: str) -> dict[str, Any] | None:
        return self.one("SELECT * FROM alerts WHERE fingerprint = ?", (fingerprint,))

    def firing(self, scope: str) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM alerts WHERE scope = ? AND state = 'firing' ORDER BY rowid", (scope,))

    def set_alert(self, row: dict[str, Any]) -> None:
        self._upsert("alerts", {**row, "item": _dumps(row["item"])}, "fingerprint")

    def current_findings(self, body: str | None, year: int | None, report_id: int) -> list[dict[str, Any]]:
        """Findings of the current versions of a body's active reports for a year (or of one report
        when the body is unknown): what should be firing for that scope right now."""
        where = "r.body = ? AND r.year IS ?" if body else "r.id = ?"
        params: tuple = (body, year) if body else (report_id,)
        return self.rows(
            "SELECT f.*, r.title, r.url, r.body, r.year, v.published, v.evidence, v.deadline FROM findings f "
            "JOIN reports r ON r.current_version = f.version_id JOIN versions v ON v.id = f.version_id "
            f"WHERE r.status = 'active' AND {where} ORDER BY f.id",
            params,
        )

    def reminders_due(self, before: str) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT * FROM alerts WHERE state = 'firing' AND coalesce(last_notified, first_fired) <= ? ORDER BY rowid",
            (before,),
        )

    def alerts(self, state: str | None = "firing") -> list[dict[str, Any]]:
        sql = "SELECT * FROM alerts" + (" WHERE state = ?" if state else "") + " ORDER BY first_fired, rowid"
        return self.rows(sql, (state,) if state else ())

    def enqueue(
        self, channel: str, route: str, items: list[dict[str, Any]], due_at: str, digest: bool, now: str
    ) -> int:
        return self._insert(
            "outbox",
            {
                "created_at": now,
                "channel": channel,
                "route": route,
                "state": "pending",
                "due_at": due_at,
                "digest": int(digest),
                "items": _dumps(items),
            },
        )

    # ------------------------------------------------------------------ delivery
    def reclaim(self, now_epoch: float, dead_worker: Any) -> int:
        """Entries left 'sending' by a crashed worker (lease over, or its process gone) are sent again."""
        with self.tx():
            rows = self.rows("SELECT id, claimed_by, lease_until FROM outbox WHERE state = 'sending'")
            ids = [r["id"] for r in rows if (r["lease_until"] or 0) < now_epoch or dead_worker(r["claimed_by"])]
            for i in ids:
                self.db.execute("UPDATE outbox SET state = 'pending', claimed_by = NULL WHERE id = ?", (i,))
            return len(ids)

    def pending(self) -> list[dict[str, Any]]:
        """Pending entries in order; the worker decides what is due (quiet hours, digests, backoff)."""
        return self.rows("SELECT * FROM outbox WHERE state = 'pending' ORDER BY id")

    def claim(self, ids: list[int], worker: str, lease_until: float) -> bool:
        """Compare-and-set: all of ``ids`` go from pending to sending, or none does."""
        with self.tx():
            marks = ",".join("?" * len(ids))
            cur = self.db.execute(
                f"UPDATE outbox SET state = 'sending', claimed_by = ?, lease_until = ?, attempts = attempts + 1 "
                f"WHERE id IN ({marks}) AND state = 'pending'",
                (worker, lease_until, *ids),
            )
            if cur.rowcount != len(ids):
                raise _Conflict
            return True

    def parts_done(self, ids: list[int], n: int) -> None:
        with self.tx():
            for i in ids:
                self.db.execute("UPDATE outbox SET parts_done = ? WHERE id = ?", (n, i))

    def finish(
        self,
        ids: list[int],
        channel: str,
        *,
        state: str,
        outcome: str,
        detail: str,
        now: str,
        epoch: float,
        next_attempt_at: str | None = None,
    ) -> None:
        """Record one attempt and its consequence for the entries, in one transaction."""
        with self.tx():
            for i in ids:
                self.db["deliveries"].insert(
                    {
                        "outbox_id": i,
                        "channel": channel,
                        "at": now,
                        "epoch": epoch,
                        "outcome": outcome,
                        "detail": detail,
                    }
                )
                column = "answer" if outcome == "ok" else "last_error"
                self.db.execute(
                    f"UPDATE outbox SET state = ?, claimed_by = NULL, lease_until = NULL, next_attempt_at = ?, "
                    f"{column} = ?, sent_at = CASE WHEN ? = 'done' THEN ? ELSE sent_at END WHERE id = ?",
                    (state, next_attempt_at, detail, state, now, i),
                )

    def attempts_since(self, channel: str, epoch: float) -> list[float]:
        rows = self.rows(
            "SELECT epoch FROM deliveries WHERE channel = ? AND epoch > ? ORDER BY epoch", (channel, epoch)
        )
        return [r["epoch"] for r in rows]

    def channel_state(self, channel: str) -> dict[str, Any] | None:
        return self.one("SELECT * FROM channel_state WHERE channel = ?", (channel,))

    def set_channel_state(self, channel: str, state: str, since: str, reason: str, config_hash: str) -> None:
        self.db["channel_state"].upsert(
            {"channel": channel, "state": state, "since": since, "reason": reason, "config_hash": config_hash},
            pk="channel",
        )

    def has_route_entry(self, route: str) -> bool:
        """Was anything ever queued under this route name (a periodic digest's period key)?"""
        return self.one("SELECT 1 AS x FROM outbox WHERE route = ? LIMIT 1", (route,)) is not None

    def outbox_summary(self) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT channel, state, count(*) AS n, min(created_at) AS oldest FROM outbox GROUP BY channel, state "
            "ORDER BY channel, state"
        )

    def outbox(self, state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = "SELECT * FROM outbox" + (" WHERE state = ?" if state else "") + " ORDER BY id DESC LIMIT ?"
        return self.rows(sql, (state, limit) if state else (limit,))

    def requeue(self, ids: list[int] | None, now: str) -> int:
        """Dead entries back to pending (after the admin fixed the channel): ``None`` = all of them."""
        with self.tx():
            if ids is None:
                cur = self.db.execute(
                    "UPDATE outbox SET state = 'pending', next_attempt_at = NULL, due_at = ? WHERE state = 'dead'",
                    (now,),
                )
                return cur.rowcount
            n = 0
            for i in ids:
                n += self.db.execute(
                    "UPDATE outbox SET state = 'pending', next_attempt_at = NULL WHERE id = ? AND state = 'dead'", (i,)
                ).rowcount
            return n

    # ------------------------------------------------------------------ rules: changes and re-checks
    def record_rule_change(
        self, now: str, status: str, version: str, files: dict[str, str], changed: list[str], user: str, error: str
    ) -> bool:
        """Log a rules edit once per distinct content (a refused edit is not logged again every minute).
        Returns True when this content is new."""
        with self.tx():
            last = self.one("SELECT files, status FROM rule_changes ORDER BY id DESC LIMIT 1")
            blob = json.dumps(files, sort_keys=True)
            if last and last["files"] == blob and last["status"] == status:
                return False
            self.db["rule_changes"].insert(
                {"at": now, "status": status, "version": version, "files": blob,
                 "changed": json.dumps(changed, ensure_ascii=False), "user": user, "error": error}
            )  # fmt: skip
            return True

    def last_rule_change(self, accepted_only: bool = False) -> dict[str, Any] | None:
        where = " WHERE status = 'accepted'" if accepted_only else ""
        return self.one(f"SELECT * FROM rule_changes{where} ORDER BY id DESC LIMIT 1")

    def last_run(self, portal: str | None = None, ok_only: bool = False) -> str | None:
        """When the last run (of one portal, or any; successful only, or any) finished."""
        cond = [c for c in ("portal = ?" if portal else "", "status = 'ok'" if ok_only else "") if c]
        where = (" WHERE " + " AND ".join(cond)) if cond else ""
        return self.one(f"SELECT max(finished_at) AS t FROM runs{where}", (portal,) if portal else ())["t"]

    def outbox_backlog(self, now: str) -> dict[str, Any]:
        due = self.one(
            "SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE state IN ('pending', 'sending') "
            "AND due_at <= ?",
            (now,),
        )
        dead = self.one("SELECT count(*) AS n FROM outbox WHERE state = 'dead'")["n"]
        later = self.one("SELECT count(*) AS n FROM outbox WHERE state = 'pending' AND due_at > ?", (now,))["n"]
        return {"due": due["n"], "oldest_due": due["oldest"], "dead": dead, "scheduled": later}

    def rule_changes(self, limit: int = 20) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM rule_changes ORDER BY id DESC LIMIT ?", (limit,))

    def current_versions(self, year: int | None = None) -> list[dict[str, Any]]:
        """Active reports with their current version's snapshot and text (what `recheck` re-checks)."""
        sql = (
            "SELECT r.id AS report_id, r.body, r.year, r.title, r.url, r.portal, v.id AS version_id, v.snapshot, "
            "v.text, v.rules_version FROM reports r JOIN versions v ON v.id = r.current_version "
            "WHERE r.status = 'active'"
        )
        return self.rows(sql + (" AND r.year = ?" if year else "") + " ORDER BY r.id", (year,) if year else ())

    def replace_findings(
        self, version_id: int, report_id: int, findings: list[dict[str, Any]], rules_version: str, now: str,
        make_event: Any,
    ) -> Any | None:  # fmt: skip
        """Swap a version's findings for those of new rules; the FindingsChanged event (and so the
        alerts) are written in the same transaction. Returns the event when anything changed."""
        with self.tx():
            old = {r["fingerprint"] for r in self.rows("SELECT fingerprint FROM findings WHERE version_id = ?",
                                                         (version_id,))}  # fmt: skip
            self.db.execute("DELETE FROM findings WHERE version_id = ?", (version_id,))
            for f in findings:
                self._insert(
                    "findings",
                    {**f, "version_id": version_id, "report_id": report_id,
                     "data": _dumps(f.get("data", {}))},
                )  # fmt: skip
            counts = {s: sum(1 for f in findings if f["severity"] == s) for s in ("error", "warning", "advisory")}
            self.db.execute(
                "UPDATE versions SET errors = ?, warnings = ?, advisories = ?, rules_version = ? WHERE id = ?",
                (counts["error"], counts["warning"], counts["advisory"], rules_version, version_id),
            )
            new = {f["fingerprint"] for f in findings}
            if new == old:
                return None
            event, key = make_event(tuple(sorted(new - old)), tuple(sorted(old - new)))
            return self._event(event, key, now)


class _Conflict(Exception):
    """Another worker claimed the entry first (the compare-and-set lost)."""
