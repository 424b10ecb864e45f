"""The database's shape: one SQL script per schema version, applied in order by ``Store.migrate`` (the version is
SQLite's ``user_version``). Plain text kept apart from bot/store.py, which stays the one module that runs SQL."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the watching service
    """
    CREATE TABLE portals (name TEXT PRIMARY KEY, kind TEXT NOT NULL, list_url TEXT NOT NULL);
    CREATE TABLE bodies (name TEXT PRIMARY KEY, portal TEXT, body_type TEXT, region TEXT, aliases TEXT);
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, portal TEXT, body TEXT, year INTEGER, title TEXT,
        list_date TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active',
        current_version INTEGER, etag TEXT, last_modified TEXT, content_hash TEXT);
    CREATE INDEX reports_body_year ON reports(body, year);
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL REFERENCES reports(id), content_hash TEXT NOT NULL,
        fetched_at TEXT NOT NULL, final_url TEXT, content_type TEXT, size INTEGER, input_kind TEXT,
        attachment TEXT, published TEXT, evidence TEXT, deadline TEXT, format TEXT, errors INTEGER,
        warnings INTEGER, advisories INTEGER, result TEXT, snapshot TEXT, text TEXT,
        UNIQUE(report_id, content_hash));
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY, version_id INTEGER NOT NULL REFERENCES versions(id), report_id INTEGER NOT NULL,
        fingerprint TEXT NOT NULL, kind TEXT, rule TEXT, severity TEXT, "where" TEXT, message TEXT, data TEXT);
    CREATE INDEX findings_version ON findings(version_id);
    CREATE TABLE portal_health (
        portal TEXT PRIMARY KEY, status TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0, episode INTEGER
        NOT NULL DEFAULT 0, last_ok TEXT, last_error TEXT, last_class TEXT, updated_at TEXT);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, portal TEXT, started_at TEXT, finished_at TEXT, status TEXT, pages INTEGER,
        links INTEGER, new_reports INTEGER, changed INTEGER, unchanged INTEGER, withdrawn INTEGER,
        errors INTEGER, note TEXT);
    CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL);
    CREATE VIRTUAL TABLE versions_fts USING fts5(text, content='versions', content_rowid='id', tokenize='trigram');
    """,
    # 2: the list hash and the last full reconcile, per portal
    """
    ALTER TABLE portal_health ADD COLUMN list_hash TEXT;
    ALTER TABLE portal_health ADD COLUMN reconciled_at TEXT;
    """,
    # 3: alerts (one row per fingerprint), the outbox, every delivery attempt, paused channels
    """
    CREATE TABLE alerts (
        fingerprint TEXT PRIMARY KEY, kind TEXT NOT NULL, severity TEXT, scope TEXT NOT NULL, body TEXT,
        year INTEGER, state TEXT NOT NULL, first_fired TEXT NOT NULL, last_fired TEXT NOT NULL,
        last_notified TEXT, resolved_at TEXT, item TEXT NOT NULL);
    CREATE INDEX alerts_scope ON alerts(scope, state);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, channel TEXT NOT NULL, route TEXT, state TEXT NOT NULL
        DEFAULT 'pending', due_at TEXT NOT NULL, digest INTEGER NOT NULL DEFAULT 0, items TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, parts_done INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT,
        claimed_by TEXT, lease_until REAL, sent_at TEXT, last_error TEXT, answer TEXT);
    CREATE INDEX outbox_state ON outbox(state, channel, id);
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL, channel TEXT NOT NULL, at TEXT NOT NULL,
        epoch REAL NOT NULL, outcome TEXT NOT NULL, detail TEXT);
    CREATE INDEX deliveries_channel ON deliveries(channel, epoch);
    CREATE TABLE channel_state (channel TEXT PRIMARY KEY, state TEXT NOT NULL, since TEXT, reason TEXT,
        config_hash TEXT);
    """,
    # 4: which rules made a finding, and every rule change (accepted or refused)
    """
    ALTER TABLE versions ADD COLUMN rules_version TEXT;
    ALTER TABLE findings ADD COLUMN rules_version TEXT;
    CREATE TABLE rule_changes (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, status TEXT NOT NULL, version TEXT, files TEXT NOT NULL,
        changed TEXT, user TEXT, error TEXT);
    """,
    # 5: the full-text index is filled after the scan, not inside it (it cost ~3 ms of every report's save)
    """
    CREATE TABLE fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_upto INTEGER NOT NULL);
    INSERT INTO fts_state VALUES (1, (SELECT coalesce(max(id), 0) FROM versions));
    """,
]
