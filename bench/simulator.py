"""A portal simulator on 127.0.0.1 for the benchmarks: N bodies across M portals of the supported kinds
(Hanweb with dataproxy paging, TRS index_N pages, generic numbered pages), each report an HTML page (and
a few PDFs), with optional per-request latency and a per-host connection limit, and `publish()` /
`edit()` to change things between scans. One real server per portal (its own host:port)."""

from __future__ import annotations

import multiprocessing
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.lean_portal import LeanPortal  # noqa: E402
from bot.fixture_portal import Route, datastore  # noqa: E402
from tests.corpus.model import consistent, to_html  # noqa: E402

KINDS = ("hanweb", "trs", "generic")
TEMPLATE_BODY = "模板区模板镇人民政府"
PER_PAGE = 25
_REPORT_PATHS = ("/art/", "/module/download/")  # article pages and their attachments
PDF = ROOT / "tests" / "corpus" / "files" / "clean-f2021-township.pdf"


def _templates(n: int = 40) -> list[bytes]:
    """A few distinct, consistent reports; each body gets one with its own name written in."""
    return [to_html(consistent(TEMPLATE_BODY, 2023, "F2021", date(2024, 1, 20), seed=1000 + i)) for i in range(n)]


@dataclass
class SimPortal:
    kind: str
    name: str
    server: LeanPortal
    bodies: list[str]
    reports: dict[int, str] = field(default_factory=dict)  # body index → article path


class Simulator:
    def __init__(self, bodies: int, portals: int, latency: float = 0.0, per_host: int | None = None,
                 pdf_every: int = 0) -> None:  # fmt: skip
        self.latency, self.pdf_every = latency, pdf_every
        self.templates = _templates()
        self.pdf = PDF.read_bytes()
        per = bodies // portals
        self.portals = [
            SimPortal(
                KINDS[j % len(KINDS)],
                f"模拟门户{j:02d}",
                LeanPortal(max_connections=per_host, latency=latency),
                [f"模拟{j:02d}区第{i:03d}镇人民政府" for i in range(per)],
            )
            for j in range(portals)
        ]

    def __enter__(self) -> Simulator:
        for p in self.portals:
            p.server.start()
            for i in range(len(p.bodies)):
                self._article(p, i, version=0)
            self._lists(p)
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.portals:
            p.server.stop()

    # ---------------------------------------------------------------- content
    def _article(self, p: SimPortal, i: int, version: int) -> None:
        path = f"/art/2024/1/20/art_{i}.html"
        body = p.bodies[i]
        if self.pdf_every and i % self.pdf_every == 0:  # an article page with the report as a PDF attachment
            pdf_path = f"/module/download/P{i}.pdf"
            p.server.routes[pdf_path] = Route(self.pdf, "application/pdf")
            page = (f'<html><head><meta name="PubDate" content="2024-01-20 10:00"><title>{body}2023年政府信息公开工作'
                    f'年度报告</title></head><body><div class="article"><p>{body}2023年政府信息公开工作年度报告</p>'
                    f'<p>附件：<a href="{pdf_path}">年报.pdf</a></p>' + "<p>（修订）</p>" * version
                    + "</div></body></html>").encode()  # fmt: skip
        else:
            page = self.templates[i % len(self.templates)].replace(TEMPLATE_BODY.encode(), body.encode())
            if version:
                note = f'</p><p>（第{version}次修订）</p></div><div class="footer">'.encode()
                page = page.replace(b'</p></div><div class="footer">', note)
        p.server.routes[path] = Route(page)
        p.reports[i] = path

    def _li(self, p: SimPortal, i: int) -> str:
        return (f'<li><a href="{p.reports[i]}">{p.bodies[i]}2023年政府信息公开工作年度报告</a>'
                f"<span>2024-01-20</span></li>")  # fmt: skip

    def _lists(self, p: SimPortal) -> None:
        items = [self._li(p, i) for i in sorted(p.reports)]
        pages = [items[k : k + PER_PAGE] for k in range(0, len(items), PER_PAGE)] or [[]]
        r = p.server.routes
        if p.kind == "hanweb":
            p.server.proxies["/module/web/jpage/dataproxy.jsp"] = items
            ds = datastore(items[:PER_PAGE], len(items), "/module/web/jpage/dataproxy.jsp?page=1&columnid=1")
            page = f'<html><body><div id="1"><script type="text/xml">{ds}</script></div></body></html>'
            r["/col/col1/index.html"] = Route(page.encode())
        elif p.kind == "trs":
            for n, chunk in enumerate(pages):
                name = "index.html" if n == 0 else f"index_{n}.html"
                script = f'<script>createPageHTML({len(pages)}, {n}, "index", "html");</script>'
                r[f"/nb/{name}"] = Route(f"<html><body><ul>{''.join(chunk)}</ul>{script}</body></html>".encode())
        else:
            for n, chunk in enumerate(pages):
                name = "list.html" if n == 0 else f"list_{n}.html"
                r[f"/gk/{name}"] = Route(f'<html><body><ul class="l">{"".join(chunk)}</ul></body></html>'.encode())

    def list_url(self, p: SimPortal) -> str:
        return (
            p.server.url
            + {"hanweb": "/col/col1/index.html", "trs": "/nb/index.html", "generic": "/gk/list.html"}[p.kind]
        )

    def publish_new(self, fraction: float) -> int:
        """Bodies that had no report publish one (they are added to the lists)."""
        n = 0
        for p in self.portals:
            for i in range(len(p.bodies)):
                if i not in p.reports and n < fraction * self.total_bodies:
                    self._article(p, i, version=0)
                    n += 1
            self._lists(p)
        return n

    def withhold(self, fraction: float) -> int:
        """Take a share of reports off (before the first scan), so they can be published later."""
        n, quota = 0, round(self.total_bodies * fraction)
        for j, p in enumerate(self.portals):  # the quota spread over the portals, the last bodies of each
            k = quota // len(self.portals) + (j < quota % len(self.portals))
            for i in range(len(p.bodies) - k, len(p.bodies)):
                p.reports.pop(i, None)
                n += 1
            self._lists(p)
        return n

    @property
    def total_bodies(self) -> int:
        return sum(len(p.bodies) for p in self.portals)

    @property
    def requests(self) -> int:
        return sum(self.requests_by_portal)

    @property
    def bytes(self) -> int:
        return sum(p.server.bytes_sent for p in self.portals)

    @property
    def requests_by_portal(self) -> list[int]:
        return [len(p.server.hits) for p in self.portals]

    @property
    def list_requests_by_portal(self) -> list[int]:
        """Requests for list pages: a scan makes them one after another (page n names page n + 1)."""
        return [sum(not path.startswith(_REPORT_PATHS) for _m, path, _s in p.server.hits) for p in self.portals]

    def set_latency(self, seconds: float) -> None:
        """Every portal's delay before an answer, from now on (the CPU-bound reference scan runs at 0)."""
        for p in self.portals:
            p.server.latency = seconds

    def config_toml(self, database: str, concurrency: int = 4, delay: float = 0.0) -> str:
        out = [f'[service]\ndatabase = "{database}"\nyears = [2023]\n']
        for p in self.portals:
            kind_keys = {"hanweb": f"perpage = {PER_PAGE}\nmax_pages = 40", "trs": "max_pages = 40",
                         "generic": 'page_url = "list_{n}.html"\nmax_pages = 40'}[p.kind]  # fmt: skip
            out.append(
                f'[[portals]]\nname = "{p.name}"\nkind = "{p.kind}"\nlist_url = "{self.list_url(p)}"\n'
                f"allow_private = true\nconcurrency = {concurrency}\ndelay = {delay}\ntimeout = 30\n{kind_keys}\n"
            )
            for b in p.bodies:
                out.append(f'[[portals.bodies]]\nname = "{b}"\nbody_type = "township"\n')
        return "\n".join(out)

    def list_pages(self) -> list[str]:
        """Every list page a GET can reach (Hanweb's further pages are POSTs to dataproxy.jsp)."""
        urls = []
        for p in self.portals:
            for path in p.server.routes:
                if path.startswith(("/nb/index", "/gk/list", "/col/")):
                    urls.append(p.server.url + path)
        return sorted(urls)


def _serve(conn: Any, args: tuple) -> None:
    """The simulator's own process: build, serve, answer calls until told to stop."""
    with Simulator(*args) as sim:
        conn.send(("ok", None))
        while True:
            name, call_args = conn.recv()
            if name == "stop":
                break
            try:
                attr = getattr(sim, name)
                conn.send(("ok", attr(*call_args) if callable(attr) else attr))
            except Exception as exc:  # reported to the benchmark, which raises it
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    conn.close()


class RemoteSimulator:
    """The same simulator in a separate process: its HTTP servers then use their own core and GIL, as real
    portals would, and the benchmark's CPU figures are nianbao's alone (in-process, the serving threads'
    CPU was counted as nianbao's and they competed with the event loop for the GIL)."""

    def __init__(self, bodies: int, portals: int, latency: float = 0.0, per_host: int | None = None,
                 pdf_every: int = 0) -> None:  # fmt: skip
        self.args = (bodies, portals, latency, per_host, pdf_every)

    def __enter__(self) -> RemoteSimulator:
        ctx = multiprocessing.get_context("fork")  # before the benchmark starts any thread; no re-import of main
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self.args), daemon=True, name="portal-simulator")
        self._proc.start()
        child.close()
        self._answer()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send(("stop", ()))
        self._proc.join(timeout=30)
        self._conn.close()

    def _answer(self) -> Any:
        state, value = self._conn.recv()
        if state == "error":
            raise RuntimeError(f"simulator: {value}")
        return value

    @property
    def pid(self) -> int:
        return int(self._proc.pid or 0)

    def call(self, name: str, *args: Any) -> Any:
        self._conn.send((name, args))
        return self._answer()

    @property
    def requests(self) -> int:
        return self.call("requests")

    @property
    def bytes(self) -> int:
        return self.call("bytes")

    @property
    def requests_by_portal(self) -> list[int]:
        return self.call("requests_by_portal")

    @property
    def list_requests_by_portal(self) -> list[int]:
        return self.call("list_requests_by_portal")

    def set_latency(self, seconds: float) -> None:
        self.call("set_latency", seconds)

    def withhold(self, fraction: float) -> int:
        return self.call("withhold", fraction)

    def publish_new(self, fraction: float) -> int:
        return self.call("publish_new", fraction)

    def config_toml(self, database: str, concurrency: int = 4, delay: float = 0.0) -> str:
        return self.call("config_toml", database, concurrency, delay)

    def list_pages(self) -> list[str]:
        return self.call("list_pages")
