"""The one small interface every channel implements, and the data that crosses it.

A channel turns a rendered Message into requests and the other side's answer into success or a
NotifyError — never a boolean, because "HTTP 200" is not "delivered" (WeCom answers 200 with an
errcode). Transient vs permanent decides whether the outbox retries or dead-letters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol


@dataclass(frozen=True)
class Item:
    """One alert transition, as stored in the outbox (plain values, rendered at delivery)."""

    action: str  # fire | remind | resolve | notice
    kind: str  # a finding kind, deadline.missing, portal.unhealthy, report.*, admin.*
    severity: str = "info"  # error | warning | advisory | info
    alert: str = ""  # the alert's fingerprint (short), so a supervisor can quote it
    body: str | None = None
    region: str = ""
    year: int | None = None
    title: str = ""
    url: str = ""
    rule: str = ""
    where: str = ""
    message: str = ""  # the finding's own Chinese sentence (cells and values included)
    deadline: str = ""
    published: str = ""
    evidence: str = ""
    days_late: int | None = None
    portal: str = ""
    detail: str = ""
    since: str = ""  # when the alert first fired (reminders, resolutions)
    headline: str = ""  # an admin's template (rules.toml [templates]) already filled in, else the default
    advice: str = ""

    def templated(self, templates: dict[str, dict[str, str]]) -> Item:
        """Fill the admin's message template for this kind (placeholders are this item's fields)."""
        spec = templates.get(self.kind)
        if not spec or self.action not in ("fire", "remind", "notice"):
            return self
        values = _Blank({k: "" if v is None else v for k, v in self.__dict__.items()})
        return replace(
            self,
            headline=spec["headline"].format_map(values) if "headline" in spec else "",
            advice=spec["advice"].format_map(values) if "advice" in spec else "",
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # maintype/subtype
    data: bytes


@dataclass(frozen=True)
class Message:
    id: str  # stable per outbox entry: shown in the text, used for the e-mail Message-ID
    subject: str
    text: str
    markdown: str
    html: str
    level: str = "info"  # the worst severity inside
    mentions: tuple[str, ...] = ()
    markdown_v2: str = ""  # when set, WeCom sends this (tables) instead of ``markdown``
    attachments: tuple[Attachment, ...] = ()  # e-mail only (a robot cannot take a file without an upload)


class NotifyError(Exception):
    """A send that did not succeed. ``permanent``: retrying cannot help (bad content or recipient);
    ``broken``: the channel itself is unusable (bad key, bad login) and should be paused."""

    def __init__(
        self, detail: str, *, permanent: bool = False, broken: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent or broken
        self.broken = broken
        self.retry_after = retry_after


class Reply(Protocol):
    status: int | None
    body: bytes
    error: str | None
    detail: str


@dataclass(frozen=True)
class Transport:
    """The network, handed in by bot/ (scrapers.net): channels never open sockets themselves."""

    post_json: Callable[..., Awaitable[Reply]]
    send_mail: Callable[..., Awaitable[Reply]]


Progress = Callable[[int], None]  # parts delivered so far (a long WeCom message is several posts)


class Channel(Protocol):
    name: str
    kind: str

    def ready_in(self, now: float) -> float:
        """Seconds until the next send is allowed (local rate limit); 0 when ready."""
        ...

    async def send(
        self, message: Message, transport: Transport, done_parts: int = 0, progress: Progress | None = None
    ) -> str:
        """Deliver, or raise NotifyError. Returns the other side's answer, for the record."""
        ...

    def parts(self, message: Message) -> int: ...


@dataclass
class RateLimiter:
    """At most ``limit`` sends per sliding ``window`` seconds (WeCom counts failed sends too)."""

    limit: int = 20
    window: float = 60.0
    sent: list[float] = field(default_factory=list)

    def ready_in(self, now: float) -> float:
        window = self.window * 1.02  # a little slack for clock and network skew against the server's count
        self.sent = [t for t in self.sent if t > now - window]
        if len(self.sent) < self.limit:
            return 0.0
        return self.sent[0] + window - now

    def record(self, now: float) -> None:
        self.sent.append(now)

    def seed(self, times: Sequence[float]) -> None:
        self.sent = sorted(times)[-self.limit :]
