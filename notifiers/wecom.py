"""WeCom (企业微信) group robot: markdown messages through the webhook.

Success is errcode 0 and nothing else (the robot answers HTTP 200 for failures too). 45009 (over
20 messages a minute) and -1 (busy) are retried later; 93000 (key invalid or robot removed) breaks
the channel until an admin fixes the key. Long messages are cut at 4096 bytes on a character
boundary and sent as numbered parts; a local limiter keeps every robot under 20 sends a minute.
The key is part of the URL, so neither the URL nor the key ever reaches a log or an error text.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from notifiers.base import Message, NotifyError, Progress, RateLimiter, Transport

DEFAULT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
MARKDOWN_LIMIT = 4096
TEXT_LIMIT = 2048
RETRY = {45009: 60.0, -1: 30.0}  # errcode → seconds before the next try
BROKEN = {93000: "机器人 key 无效或机器人已被移除 / invalid webhook key (93000)"}
PERMANENT = {
    45002: "内容过长 / content too large",
    44004: "内容为空 / empty content",
    40008: "消息类型无效 / bad msgtype",
}


def split_utf8(text: str, limit: int) -> list[str]:
    """Cut into pieces of at most ``limit`` UTF-8 bytes, preferring line ends, never inside a character."""
    out: list[str] = []
    while len(text.encode()) > limit:
        cut = len(text.encode()[:limit].decode("utf-8", "ignore"))
        nl = text.rfind("\n", 0, cut)
        if nl > cut // 2:
            cut = nl + 1
        out.append(text[:cut])
        text = text[cut:]
    if text or not out:
        out.append(text)
    return out


@dataclass
class WeCom:
    """[[channels]] type = "wecom": key (secret reference), url, mention (WeCom user ids to @, sent as a
    short text message after the markdown — markdown cannot @ reliably), mention_mobiles, timeout."""

    name: str
    key: str = field(repr=False)
    url: str = DEFAULT_URL
    mention: tuple[str, ...] = ()
    mention_mobiles: tuple[str, ...] = ()
    timeout: float = 10.0
    per_minute: int = 20
    window_seconds: float = 60.0  # the robot's window; only tests shorten it
    allow_private: bool = False  # admit a loopback receiver (tests, the demo)
    ca_bundle: str | None = None
    kind: str = "wecom"
    limiter: RateLimiter = field(default_factory=RateLimiter, repr=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.per_minute, self.window_seconds)

    @property
    def endpoint(self) -> str:
        return f"{self.url}?key={self.key}"

    def payloads(self, message: Message) -> list[dict]:
        kind = "markdown_v2" if message.markdown_v2 else "markdown"
        parts = split_utf8(message.markdown_v2 or message.markdown, MARKDOWN_LIMIT - 64)
        if len(parts) > 1:
            parts = [f"{p}\n（{i}/{len(parts)}）" for i, p in enumerate(parts, start=1)]
        out: list[dict] = [{"msgtype": kind, kind: {"content": p}} for p in parts]
        if self.mention or self.mention_mobiles:
            head = split_utf8(f"{message.subject}（编号 {message.id}）", TEXT_LIMIT - 64)[0]
            text: dict = {"content": head}
            if self.mention:
                text["mentioned_list"] = list(self.mention)
            if self.mention_mobiles:
                text["mentioned_mobile_list"] = list(self.mention_mobiles)
            out.append({"msgtype": "text", "text": text})
        return out

    def parts(self, message: Message) -> int:
        return len(self.payloads(message))

    def ready_in(self, now: float) -> float:
        return self.limiter.ready_in(now)

    def interpret(self, status: int | None, body: bytes, error: str | None, detail: str) -> str:
        """The robot's answer → its text, or NotifyError. Only errcode 0 is a success."""
        if error:
            raise NotifyError(f"企业微信无应答 / no answer: {detail or error}")
        if status is None or status >= 500 or status == 429:
            raise NotifyError(f"企业微信 HTTP {status}")
        if status >= 400:
            raise NotifyError(f"企业微信拒绝请求 / HTTP {status}", permanent=True)
        try:
            answer = json.loads(body)
            code = int(answer["errcode"])
        except (ValueError, KeyError, TypeError):
            raise NotifyError(f"企业微信应答无法识别 / unreadable answer: {body[:120]!r}") from None
        msg = str(answer.get("errmsg", ""))[:200].replace(self.key, "***") if self.key else ""
        if code == 0:
            return f"errcode 0 {msg}".strip()
        if code in BROKEN:
            raise NotifyError(f"{BROKEN[code]}: {msg}", broken=True)
        if code in RETRY:
            raise NotifyError(f"errcode {code}: {msg}", retry_after=RETRY[code])
        if code in PERMANENT:
            raise NotifyError(f"errcode {code} {PERMANENT[code]}: {msg}", permanent=True)
        raise NotifyError(f"errcode {code}: {msg}")  # unknown codes: retry, a later dead-letter tells the admin

    async def send(
        self, message: Message, transport: Transport, done_parts: int = 0, progress: Progress | None = None
    ) -> str:
        answers = []
        for i, payload in enumerate(self.payloads(message)):
            if i < done_parts:
                continue
            wait = self.limiter.ready_in(time.time())
            if wait > 0:  # a long message's later parts wait for the robot's window too
                await asyncio.sleep(wait)
            reply = await transport.post_json(
                self.endpoint,
                payload,
                timeout=self.timeout,
                allow_private=self.allow_private,
                ca_bundle=self.ca_bundle,
                secrets=(self.key,),
            )
            # counted when the answer is in (never earlier than the robot's own clock), failures too
            self.limiter.record(time.time())
            answers.append(self.interpret(reply.status, reply.body, reply.error, reply.detail))
            if progress:
                progress(i + 1)
        return "; ".join(answers) or "nothing to send"
