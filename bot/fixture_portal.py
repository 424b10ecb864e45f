"""A small real HTTP server on 127.0.0.1 that behaves like a government portal: static routes with
chosen status, headers and bytes, plus a Hanweb dataproxy.jsp that pages through records on POST.

Used by the demo and by the tests (a real server, not a mock); routes can be changed between scans
to publish, edit, withdraw or block.
"""

from __future__ import annotations

import hashlib
import http.server
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True  # answer If-None-Match with 304
    delay: float = 0.0  # seconds to stall before answering (a slow portal)


def datastore(records: list[str], total: int | None = None, nextgroup: str | None = None) -> str:
    """Hanweb's <datastore> XML: records as CDATA, the total, optionally the nextgroup link."""
    recs = "".join(f"<record><![CDATA[{r}]]></record>" for r in records)
    ng = f'<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup>' if nextgroup else ""
    return (
        f"<datastore>{ng}<recordset>{recs}</recordset><totalrecord>{total if total is not None else len(records)}"
        f"</totalrecord></datastore>"
    )


def etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def dataproxy_page(records: list[str], form: bytes) -> bytes:
    """The datastore a Hanweb dataproxy.jsp POST asks for (startrecord/endrecord, 1-based, inclusive)."""
    fields = {k: v[0] for k, v in parse_qs(form.decode("utf-8", "replace")).items()}
    start, end = int(fields.get("startrecord", 1)), int(fields.get("endrecord", len(records)))
    return datastore(records[start - 1 : end], len(records)).encode("utf-8")


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (timeout tests) is expected: no traceback on stderr."""


class FixturePortal:
    def __init__(
        self,
        tls: ssl.SSLContext | None = None,
        max_connections: int | None = None,
        latency: float = 0.0,
        idle_timeout: float | None = None,
    ) -> None:
        self.routes: dict[str, Route] = {}
        self.latency = latency  # seconds before every answer, 304s and POSTs included (the benchmark's distance)
        self.bytes_sent = 0
        # a portal that serves only so many clients at once (the benchmark's per-host connection limit)
        self._slots = threading.BoundedSemaphore(max_connections) if max_connections else None
        self.proxies: dict[str, list[str]] = {}  # dataproxy path → all records
        self.hits: list[tuple[str, str, int]] = []  # (method, path, status) of every request
        self.peers: set[tuple[str, int]] = set()  # client (address, port) of every request: TCP connections
        self.seen: list[tuple[str, dict[str, str]]] = []  # (path, request headers) of every request
        portal = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as written, as from a real server
            timeout = idle_timeout  # a kept-alive connection idle this long is closed by the server

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
                portal.seen.append((urlsplit(self.path).path, dict(self.headers.items())))
                if portal.latency:
                    time.sleep(portal.latency)
                portal.bytes_sent += len(body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_one_request(self) -> None:
                portal.peers.add(self.client_address)
                if portal._slots is None:
                    return super().handle_one_request()
                with portal._slots:
                    return super().handle_one_request()

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                route = portal.routes.get(path)
                if route is None:
                    portal.hits.append(("GET", path, 404))
                    return self._send(404, b"<html><body>404</body></html>", "text/html", {})
                tag = etag(route.body)
                if route.etag and route.status == 200 and self.headers.get("If-None-Match") == tag:
                    portal.hits.append(("GET", path, 304))
                    return self._send(304, b"", route.content_type, {"ETag": tag})
                portal.hits.append(("GET", path, route.status))
                if route.delay:
                    time.sleep(route.delay)
                headers = {**route.headers, **({"ETag": tag} if route.etag else {})}
                self._send(route.status, route.body, route.content_type, headers)

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                form = self.rfile.read(length)
                records = portal.proxies.get(path)
                if records is None:
                    portal.hits.append(("POST", path, 404))
                    return self._send(404, b"", "text/plain", {})
                body = dataproxy_page(records, form)
                portal.hits.append(("POST", path, 200))
                self._send(200, body, "text/xml; charset=utf-8", {})

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls is not None:  # an HTTPS portal (certificate tests)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FixturePortal:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FixturePortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
