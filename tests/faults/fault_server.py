"""A deliberately misbehaving web server on 127.0.0.1: each path is one fault (stalls, slowloris, resets,
truncation, error statuses, redirect tricks, gzip bombs, endless or huge bodies, charset lies, challenge
pages). Real sockets, so the fetcher meets the faults the way it meets them on the open web."""

from __future__ import annotations

import gzip
import http.server
import socket
import struct
import threading
import time
import zlib

from bot.fixture_portal import _QuietServer

GBK_PAGE = "<html><head><title>年报</title></head><body><p>政府信息公开工作年度报告</p></body></html>".encode("gbk")
PAGE = "<html><body><p>示例区2023年政府信息公开工作年度报告</p></body></html>".encode()
# the same page in every framing and coding a portal may use: (body on the wire, headers)
_raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
FRAMINGS = {
    "/gzip": (gzip.compress(PAGE), {"Content-Encoding": "gzip"}),
    "/deflate": (zlib.compress(PAGE), {"Content-Encoding": "deflate"}),
    "/deflate-raw": (_raw.compress(PAGE) + _raw.flush(), {"Content-Encoding": "deflate"}),
    "/chunked": (
        b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (PAGE[:20], PAGE[20:])) + b"0\r\n\r\n",
        {"Transfer-Encoding": "chunked"},
    ),
    "/close-delimited": (PAGE, {"Connection": "close"}),  # no length: the body ends with the connection
}
CHALLENGE = b"<html><script>$_ts=window['$_ts'];if(!$_ts)$_ts={};</script></html>"


class FaultServer:
    def __init__(self, hold: float = 30.0) -> None:
        self.hold = hold  # how long a stalling handler keeps the socket open
        self.hits: list[str] = []
        self._bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 MB of zeros, ~64 KB on the wire
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def head(self, status: int, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()

            def do_GET(self) -> None:  # one branch per fault is the point
                path = self.path.split("?")[0]
                server.hits.append(path)
                html = {"Content-Type": "text/html; charset=utf-8"}
                if path == "/ok":
                    body = "<html><body><ul><li>正常页面</li></ul></body></html>".encode()
                    self.head(200, {**html, "Content-Length": str(len(body))})
                    self.wfile.write(body)
                elif path in FRAMINGS:
                    body, extra = FRAMINGS[path]
                    length = (
                        {} if extra.keys() & {"Transfer-Encoding", "Connection"} else {"Content-Length": str(len(body))}
                    )
                    self.head(200, {**html, **extra, **length})
                    self.wfile.write(body)
                    if path == "/close-delimited":
                        self.close_connection = True
                elif path == "/drop-second":  # keep-alive, then the server closes as the connection is reused
                    self.served = getattr(self, "served", 0) + 1
                    if self.served > 1:
                        self.close_connection = True
                        return
                    self.head(200, {**html, "Content-Length": str(len(PAGE))})
                    self.wfile.write(PAGE)
                elif path == "/stall-headers":
                    time.sleep(server.hold)
                elif path == "/stall-body":
                    self.head(200, {**html, "Content-Length": "100000"})
                    self.wfile.write(b"<html><body>")
                    self.wfile.flush()
                    time.sleep(server.hold)
                elif path == "/slowloris":
                    self.head(200, {**html, "Content-Length": "100000"})
                    for _ in range(int(server.hold * 5)):
                        self.wfile.write(b"<")
                        self.wfile.flush()
                        time.sleep(0.2)
                elif path == "/reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                elif path == "/truncate":
                    self.head(200, {**html, "Content-Length": "5000"})
                    self.wfile.write(b"<html><body>" + b"x" * 100)
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif path in ("/500", "/502", "/503", "/429"):
                    body = b"<html><body>error</body></html>"
                    extra = {"Retry-After": "1"} if path in ("/503", "/429") else {}
                    self.head(int(path[1:]), {**html, **extra, "Content-Length": str(len(body))})
                    self.wfile.write(body)
                elif path == "/loop":
                    self.head(302, {"Location": "/loop", "Content-Length": "0"})
                elif path.startswith("/to/"):
                    self.head(302, {"Location": _target(path), "Content-Length": "0"})
                elif path == "/gzip-bomb":
                    self.head(200, {**html, "Content-Encoding": "gzip", "Content-Length": str(len(server._bomb))})
                    self.wfile.write(server._bomb)
                elif path == "/endless":
                    self.head(200, {**html, "Transfer-Encoding": "chunked"})
                    piece = b"<p>" + b"y" * 65536 + b"</p>"
                    try:
                        while True:
                            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    except OSError:
                        return
                elif path == "/huge":
                    size = 60 << 20
                    self.head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"})
                    piece = b"<p>" + "年报".encode() * 20000 + b"</p>"
                    sent = 0
                    try:
                        while sent < size:
                            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                            sent += len(piece)
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        return
                elif path == "/wrong-charset":
                    self.head(200, {**html, "Content-Length": str(len(GBK_PAGE))})  # says utf-8, is GBK
                    self.wfile.write(GBK_PAGE)
                elif path == "/no-charset":
                    self.head(200, {"Content-Type": "text/html", "Content-Length": str(len(GBK_PAGE))})
                    self.wfile.write(GBK_PAGE)
                elif path == "/challenge":
                    self.head(412, {**html, "Content-Length": str(len(CHALLENGE))})
                    self.wfile.write(CHALLENGE)
                else:
                    self.head(404, {"Content-Length": "0"})

        def _target(path: str) -> str:
            return {
                "/to/local": f"http://127.0.0.1:{server.other_port}/",
                "/to/v6": f"http://[::1]:{server.other_port}/",
                "/to/10": "http://10.0.0.1/",
                "/to/meta": "http://169.254.169.254/latest/meta-data/",
                "/to/cgnat": "http://100.64.0.1/",
            }[path]

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.other_port = 9  # a different local port: another service a redirect must not reach
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
