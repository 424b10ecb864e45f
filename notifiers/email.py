"""E-mail over SMTP: implicit TLS, STARTTLS or plain; optional login; text + HTML alternatives.

Chinese subjects and bodies are encoded by the standard library (RFC 2047 / UTF-8). The Message-ID
is derived from the outbox id, so a message sent again after a crash is recognisable as the same
one. Header values are stripped of CR/LF before they reach a header. 250 is success; 4xx and
connection failures are retried; 5xx is permanent (535 — bad login — pauses the channel).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, formatdate

from notifiers.base import Message, NotifyError, Progress, RateLimiter, Transport
from notifiers.render import one_line

_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
PORTS = {"tls": 465, "starttls": 587, "plain": 25}
BROKEN_CODES = {530, 534, 535, 538}  # authentication required / failed


def valid_address(addr: str) -> bool:
    return bool(_ADDRESS.match(addr))


@dataclass
class Email:
    """[[channels]] type = "email": host, port (465/587/25 by security), security = "tls" | "starttls" |
    "plain", username, password (secret reference), sender, sender_name, to (addresses), timeout,
    ca_bundle (a PEM for an internal relay's certificate)."""

    name: str
    host: str
    sender: str
    to: tuple[str, ...]
    security: str = "starttls"
    port: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender_name: str = "年报监测 nianbao"
    timeout: float = 20.0
    ca_bundle: str | None = None
    per_minute: int = 60
    kind: str = "email"
    limiter: RateLimiter = field(default_factory=RateLimiter, repr=False)

    def __post_init__(self) -> None:
        self.port = self.port or PORTS.get(self.security, 25)
        self.limiter = RateLimiter(self.per_minute, 60.0)

    def build(self, message: Message) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = one_line(message.subject)
        msg["From"] = formataddr((one_line(self.sender_name), self.sender))
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(localtime=True)
        domain = self.sender.rsplit("@", 1)[-1]
        msg["Message-ID"] = f"<nianbao.{one_line(message.id).replace(' ', '')}@{domain}>"
        msg["X-Nianbao-Id"] = one_line(message.id)
        msg.set_content(message.text, cte="base64")  # base64: short lines (RFC 5321) and compact for CJK
        msg.add_alternative(message.html, subtype="html", cte="base64")
        for att in message.attachments:
            maintype, _, subtype = att.content_type.partition("/")
            msg.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=one_line(att.filename))
        return msg

    def parts(self, message: Message) -> int:
        return 1

    def ready_in(self, now: float) -> float:
        return self.limiter.ready_in(now)

    def interpret(self, status: int | None, error: str | None, detail: str) -> str:
        if error == "refused" and status == 250:
            return f"250（部分收件人被拒 / some recipients refused: {detail}）"
        if error == "tls" and "CERTIFICATE_VERIFY_FAILED" in detail:  # will not fix itself: pause the channel
            raise NotifyError(f"邮件服务器证书无法验证（可配置 ca_bundle）/ not trusted: {detail}", broken=True)
        if error:
            raise NotifyError(f"邮件服务器无应答 / SMTP {error}: {detail}")
        if status is None:
            raise NotifyError(f"SMTP: {detail}")
        if status in BROKEN_CODES:
            raise NotifyError(f"SMTP 登录失败 / authentication failed: {detail}", broken=True)
        if 200 <= status < 300:
            return detail or f"{status}"
        if 400 <= status < 500:
            raise NotifyError(f"SMTP 暂时失败 / temporary failure: {detail}")
        raise NotifyError(f"SMTP 拒收 / rejected: {detail}", permanent=True)

    async def send(
        self, message: Message, transport: Transport, done_parts: int = 0, progress: Progress | None = None
    ) -> str:
        self.limiter.record(time.time())
        reply = await transport.send_mail(
            host=self.host,
            port=self.port,
            security=self.security,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
            ca_bundle=self.ca_bundle,
            sender=self.sender,
            recipients=self.to,
            message=self.build(message).as_bytes(policy=SMTP_POLICY),  # CRLF line ends on the wire
        )
        answer = self.interpret(reply.status, reply.error, reply.detail)
        if progress:
            progress(1)
        return answer
