"""Local alert receivers on 127.0.0.1 for the demo and the tests: a WeCom-compatible group-robot
webhook and an SMTP server (aiosmtpd). Real servers speaking the real protocols, not mocks.

The robot behaves like WeCom: HTTP 200 with an errcode; 93000 for an unknown key; 45002/44004/
40008 for bad content; its own 20-per-window limit (45009, failed sends counted); and a script of
answers to play next (0, 45009, -1, 93000, HTTP 500, "hang") for the failure tests.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.fixture_portal import _QuietServer


@dataclass
class Received:
    key: str
    payload: dict[str, Any]
    at: float
    answer: Any

    @property
    def content(self) -> str:
        body = self.payload.get(self.payload.get("msgtype", ""), {})
        return str(body.get("content", "")) if isinstance(body, dict) else ""


@dataclass
class WeComReceiver:
    keys: set[str] = field(default_factory=lambda: {"demo-key"})
    limit: int = 20
    window: float = 60.0
    hang_seconds: float = 30.0
    script: list[Any] = field(default_factory=list)  # next answers: 0, 45009, -1, 93000, 500, "hang"
    received: list[Received] = field(default_factory=list)  # every request, answered or not
    delay: float = 0.0

    def __post_init__(self) -> None:
        sink = self
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                key = parse_qs(urlsplit(self.path).query).get("key", [""])[0]
                status, answer = sink.answer(key, raw)
                if answer == "hang":
                    time.sleep(sink.hang_seconds)
                    return
                if sink.delay:
                    time.sleep(sink.delay)
                body = json.dumps(answer).encode() if isinstance(answer, dict) else b"Internal Server Error"
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, key: str, raw: bytes) -> tuple[int, Any]:
        with self._lock:
            now = time.time()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = {}
            scripted = self.script.pop(0) if self.script else None
            recent = [r for r in self.received if r.key == key and r.at > now - self.window]
            if scripted == "hang":
                result: tuple[int, Any] = (0, "hang")
            elif scripted == 500:
                result = (500, None)
            elif scripted is not None:
                result = (200, {"errcode": scripted, "errmsg": f"scripted {scripted}"})
            elif key not in self.keys:
                result = (200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [key]"})
            elif len(recent) >= self.limit:
                result = (200, {"errcode": 45009, "errmsg": "api freq out of limit"})
            else:
                result = (200, self._validate(payload))
            self.received.append(Received(key, payload, now, result[1]))
            return result

    @staticmethod
    def _validate(payload: dict[str, Any]) -> dict[str, Any]:
        kind = payload.get("msgtype")
        limits = {"markdown": 4096, "text": 2048, "markdown_v2": 4096}
        if kind not in limits:
            return {"errcode": 40008, "errmsg": "invalid message type"}
        content = str(payload.get(kind, {}).get("content", ""))
        if not content:
            return {"errcode": 44004, "errmsg": "empty content"}
        if len(content.encode()) > limits[kind]:
            return {"errcode": 45002, "errmsg": "content size out of limit"}
        return {"errcode": 0, "errmsg": "ok"}

    def delivered(self, key: str | None = None) -> list[Received]:
        """Requests the robot accepted (errcode 0), in arrival order."""
        return [r for r in self.received if isinstance(r.answer, dict) and r.answer.get("errcode") == 0
                and (key is None or r.key == key)]  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send"

    def __enter__(self) -> WeComReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """aiosmtpd on 127.0.0.1: keeps every accepted message; ``reply`` makes it answer RCPT/DATA with a
    chosen code instead (e.g. "451 try later", "550 no such user"); optional STARTTLS/TLS and login."""

    def __init__(
        self,
        *,
        tls_context: Any = None,
        implicit_tls: bool = False,
        users: dict[str, str] | None = None,
    ) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reply: str | None = None
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if sink.reply:
                    return sink.reply
                msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
                sink.messages.append(msg)  # type: ignore[arg-type]
                sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 Message accepted for delivery"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            ok = (
                isinstance(data, LoginPassword)
                and users is not None
                and (users.get(data.login.decode()) == data.password.decode())
            )
            return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

        kw: dict[str, Any] = {"hostname": "127.0.0.1", "port": _free_port()}
        if users is not None:
            kw.update(
                authenticator=authenticator, auth_require_tls=tls_context is not None, auth_exclude_mechanism=["LOGIN"]
            )
        if tls_context is not None and implicit_tls:
            kw["ssl_context"] = tls_context
        elif tls_context is not None:
            kw.update(tls_context=tls_context, require_starttls=True)
        self.controller = Controller(Handler(), **kw)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
