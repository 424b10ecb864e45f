"""The benchmark's portals (bench.lean_portal under bench.simulator): what `make bench` measures is only as good
as the server it scans, so a real scan of it must store every report, revalidate them with 304s, page through
all three kinds, and meet the per-host connection limit."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta
from pathlib import Path

from bench.lean_portal import LeanPortal
from bench.simulator import Simulator
from bot.config import load_config
from bot.fixture_portal import Route
from bot.notify import open_store
from bot.pipeline import scan_all
from rules.config import load_rules


def test_a_scan_of_the_simulator_stores_every_report_then_revalidates_them(tmp_path: Path) -> None:
    with Simulator(90, 3, pdf_every=30) as sim:  # one portal of each kind, 30 bodies each: two list pages
        assert sorted(p.kind for p in sim.portals) == ["generic", "hanweb", "trs"]
        cfg = tmp_path / "bench.toml"
        cfg.write_text(sim.config_toml((tmp_path / "b.sqlite").as_posix()), encoding="utf-8")
        config = load_config(cfg)
        store = open_store(config)[0]
        rules, now = load_rules(), datetime(2026, 11, 27, 9)
        first = asyncio.run(scan_all(config, store, rules, now))
        assert all(r.complete and not r.errors for r in first)
        assert store.one("SELECT count(*) AS n FROM reports")["n"] == 90
        assert store.one("SELECT count(*) AS n FROM versions WHERE input_kind = 'pdf'")["n"] == 3  # one a portal
        versions, hits = store.one("SELECT count(*) AS n FROM versions")["n"], len(sim.portals[0].server.hits)
        again = asyncio.run(scan_all(config, store, rules, now + timedelta(days=2)))  # past the reconcile window
        assert sum(r.unchanged for r in again) == 90 and not any(r.errors for r in again)
        assert store.one("SELECT count(*) AS n FROM versions")["n"] == versions
        revalidated = sim.portals[0].server.hits[hits:]
        assert [s for _m, path, s in revalidated if path.startswith("/art/")] == [304] * 30  # the PDF's page too
        assert sim.requests == sum(len(p.server.hits) for p in sim.portals) and sim.bytes > 90 * 5000
        store.close()


def _get(sock: socket.socket, path: str) -> None:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


def test_a_portal_serves_only_so_many_clients_at_once() -> None:
    portal = LeanPortal(max_connections=1).start()
    try:
        portal.routes["/a.html"] = Route(b"<html>a</html>")
        first = socket.create_connection(("127.0.0.1", portal.port), timeout=5)
        _get(first, "/a.html")
        assert first.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
        second = socket.create_connection(("127.0.0.1", portal.port), timeout=0.3)
        _get(second, "/a.html")
        try:
            early = second.recv(4096)
        except TimeoutError:
            early = b""
        assert early == b""  # connected, but not served while the first client stays
        first.close()
        second.settimeout(5)
        assert second.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
        _get(second, "/missing.html")
        assert second.recv(4096).startswith(b"HTTP/1.1 404 Not Found\r\n")
        second.close()
        assert [status for _m, _p, status in portal.hits] == [200, 200, 404]
    finally:
        portal.stop()
