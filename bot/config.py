"""config.toml, the deployment: portals and the bodies each must publish for, years to watch, the
database, the rules directory. Validated on load with line numbers; then frozen.

Defaults are defined once, here. A bad edit names the file, the line and the key, in Chinese and
English, and nothing starts with a config that was only half understood.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.alert_config import AlertConfigError, ChannelSpec, parse_channels, parse_policy
from bot.alerts import Policy
from bot.body import Body
from rules.config import BODY_TYPES
from scrapers.portals import KINDS


class ConfigError(ValueError):
    """config.toml is invalid; the message names the file, line and key."""


@dataclass(frozen=True)
class Portal:
    name: str
    kind: str
    list_url: str  # the first list page (a portal may have several: list_url = [ … ])
    kind_configs: tuple[Any, ...]  # the kind's own frozen dataclass, one per list URL (scrapers.portals.KINDS)
    bodies: tuple[Body, ...] = ()
    every_hours: float = 6.0
    season_every_hours: float = 1.0
    concurrency: int = 1
    delay: float = 1.0
    timeout: float = 30.0
    allow_private: bool = False
    ca_bundle: str | None = None  # PEM file added to the trusted CAs for this portal
    reconcile_hours: float = 24.0  # unchanged list: known reports are re-checked (conditional GET) this often


@dataclass(frozen=True)
class ScorecardSettings:
    """[scorecard]: the supervisor's page, where it is written and served, and the periodic digest."""

    path: Path | None = None  # the latest watched year's page; other years beside it as <stem>-<year>.html
    title: str = ""  # the page heading (default: "<year>年度政府信息公开工作年度报告发布与质量情况")
    port: int = 0  # serve the page and /healthz read-only on bind:port (0 = do not serve)
    bind: str = "127.0.0.1"
    digest: str = "weekly"  # weekly | daily | off
    digest_day: str = "mon"  # weekly digests: mon … sun
    digest_at: str = "09:00"  # Asia/Shanghai
    digest_channels: tuple[str, ...] = ()  # default: every channel but the admin ones
    digest_worst: int = 5  # offenders named in the digest

    def year_path(self, year: int, latest: int) -> Path | None:
        if self.path is None:
            return None
        return self.path if year == latest else self.path.with_name(f"{self.path.stem}-{year}{self.path.suffix}")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    rules_dir: Path | None = None
    database: Path = Path("var/nianbao.db")
    years: tuple[int, ...] = ()
    unhealthy_after: int = 3
    deadline_grace_days: int = 0
    rules_poll_seconds: float = 60.0  # how often the service looks for edited rules files
    heartbeat_url: str | None = None  # pinged after every cycle (an external monitor notices our silence)
    health_backlog_minutes: float = 60.0  # `nianbao health` fails when a due alert waited longer
    workers: int = 0  # worker processes that read and check reports (0: in-process; see BENCHMARKS.md)
    portals: tuple[Portal, ...] = field(default_factory=tuple)
    channels: tuple[ChannelSpec, ...] = field(default_factory=tuple)
    policy: Policy = field(default_factory=Policy)
    scorecard: ScorecardSettings = field(default_factory=ScorecardSettings)

    def watched_years(self, today: date) -> tuple[int, ...]:
        return self.years or (today.year - 1,)


_SERVICE = {
    "database": str,
    "years": list,
    "unhealthy_after": int,
    "deadline_grace_days": int,
    "rules_poll_seconds": (int, float),
    "heartbeat_url": str,
    "health_backlog_minutes": (int, float),
    "workers": int,
}
_PORTAL = {
    "name": str,
    "kind": str,
    "list_url": (str, list),
    "bodies": list,
    "every_hours": (int, float),
    "season_every_hours": (int, float),
    "concurrency": int,
    "delay": (int, float),
    "timeout": (int, float),
    "allow_private": bool,
    "reconcile_hours": (int, float),
    "ca_bundle": str,
}
_BODY = {"name": str, "body_type": str, "region": str, "aliases": list}
_SCORECARD = {
    "path": str,
    "title": str,
    "port": int,
    "bind": str,
    "digest": str,
    "digest_day": str,
    "digest_at": str,
    "digest_channels": list,
    "digest_worst": int,
}


class _Locator:
    """Approximate line numbers (tomllib gives none): the n-th [[portals]] header and keys after it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, pattern: str, start: int = 0) -> int:
        rx = re.compile(pattern)
        for i in range(start, len(self.lines)):
            if rx.search(self.lines[i]):
                return i + 1
        return start + 1 if start else 1

    def portal(self, n: int, table: str = "portals") -> int:
        count = -1
        for i, line in enumerate(self.lines):
            if re.match(r"\s*\[\[" + table + r"\]\]", line):
                count += 1
                if count == n:
                    return i + 1
        return 1


def _check_keys(
    where: str, line: int, data: dict[str, Any], spec: dict[str, Any], extra: set[str] = frozenset()
) -> None:
    for key, value in data.items():
        if key in extra:
            continue
        if key not in spec:
            raise ConfigError(
                f"{where}:{line}: 未知的键“{key}” / unknown key {key!r} (known: {', '.join(sorted(set(spec) | extra))})"
            )
        if not isinstance(value, spec[key]) or (spec[key] is int and isinstance(value, bool)):
            got = type(value).__name__
            raise ConfigError(f"{where}:{line}: “{key}”的类型不对 / {key!r} has the wrong type ({got})")


def _kind_fields(kind: str) -> set[str]:
    return {f.name for f in dataclasses.fields(KINDS[kind][0])} - {"name", "list_url"}


def load_config(path: Path) -> Config:
    """Load and validate; a missing file is an empty config (`nianbao check` works without one)."""
    if not path.exists():
        return Config()
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML 语法错误 / syntax error: {exc}") from exc
    loc = _Locator(text)
    for section in data:
        if section not in ("service", "rules", "portals", "alerts", "channels", "routes", "scorecard"):
            line = loc.find(r"^\s*\[+" + re.escape(section))
            raise ConfigError(f"{path}:{line}: 未知的配置节 [{section}] / unknown section [{section}]")
    rules = data.get("rules", {})
    _check_keys(str(path), loc.find(r"^\s*\[rules\]"), rules, {"dir": str})
    service = data.get("service", {})
    _check_keys(str(path), loc.find(r"^\s*\[service\]"), service, _SERVICE)
    years = tuple(service.get("years", ()))
    if not all(isinstance(y, int) and 2008 <= y <= 2100 for y in years):
        line = loc.find(r"^\s*years")
        raise ConfigError(f"{path}:{line}: years 应为年份列表 / years must be a list of years")
    portals = []
    names: set[str] = set()
    for n, p in enumerate(data.get("portals", [])):
        line = loc.portal(n)
        kind = p.get("kind")
        if kind not in KINDS:
            raise ConfigError(
                f"{path}:{line}: 门户类型“{kind}”不存在 / unknown portal kind {kind!r} (known: {', '.join(KINDS)})"
            )
        extra = _kind_fields(kind)
        _check_keys(str(path), line, p, _PORTAL, extra)
        for req in ("name", "list_url"):
            if not p.get(req):
                raise ConfigError(f"{path}:{line}: 缺少“{req}” / [[portals]] needs {req!r}")
        if p["name"] in names:
            raise ConfigError(f"{path}:{line}: 门户名称重复“{p['name']}” / duplicate portal name")
        names.add(p["name"])
        bodies = []
        for b in p.get("bodies", []):
            bline = loc.find(re.escape(str(b.get("name", ""))), line)
            _check_keys(str(path), bline, b, _BODY)
            if b.get("body_type") not in BODY_TYPES:
                raise ConfigError(
                    f"{path}:{bline}: body_type 应为 {'/'.join(BODY_TYPES)} / bad body_type {b.get('body_type')!r}"
                )
            bodies.append(Body(b["name"], b["body_type"], b.get("region", ""), tuple(b.get("aliases", ()))))
        urls = [p["list_url"]] if isinstance(p["list_url"], str) else p["list_url"]
        if not urls or not all(isinstance(u, str) and u for u in urls):
            raise ConfigError(f"{path}:{line}: list_url 应为网址或网址列表 / list_url must be a URL or a list of URLs")
        kind_fields = {k: v for k, v in p.items() if k in extra}
        kind_cfgs = tuple(KINDS[kind][0](name=p["name"], list_url=u, **kind_fields) for u in urls)
        common = {k: v for k, v in p.items() if k in _PORTAL and k not in ("name", "kind", "list_url", "bodies")}
        if "ca_bundle" in common:
            bundle = (path.parent / common["ca_bundle"]).resolve()
            if not bundle.is_file():
                raise ConfigError(
                    f"{path}:{loc.find('ca_bundle', line)}: 找不到 CA 证书文件 / ca_bundle not found: {bundle}"
                )
            common["ca_bundle"] = str(bundle)
        portals.append(Portal(p["name"], kind, urls[0], kind_cfgs, tuple(bodies), **common))
    base = path.parent
    try:
        channels = parse_channels(data.get("channels", []), base, lambda n: loc.portal(n, "channels"))
        policy = parse_policy(
            data.get("alerts", {}),
            data.get("routes", []),
            channels,
            {b.name: b.region for p in portals for b in p.bodies},
            lambda n: loc.portal(n, "routes"),
            loc.find(r"^\s*\[alerts\]"),
        )
    except AlertConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    scorecard = _scorecard(path, loc, data.get("scorecard", {}), channels, policy.admin_channels)
    return Config(
        path=path,
        rules_dir=(base / rules["dir"]).resolve() if rules.get("dir") else None,
        database=(base / service.get("database", "var/nianbao.db")).resolve(),
        years=years,
        unhealthy_after=service.get("unhealthy_after", 3),
        deadline_grace_days=service.get("deadline_grace_days", 0),
        rules_poll_seconds=float(service.get("rules_poll_seconds", 60)),
        heartbeat_url=service.get("heartbeat_url"),
        health_backlog_minutes=float(service.get("health_backlog_minutes", 60)),
        workers=service.get("workers", 0),
        portals=tuple(portals),
        channels=channels,
        policy=policy,
        scorecard=scorecard,
    )


def _scorecard(
    path: Path, loc: _Locator, sc: dict[str, Any], channels: tuple[ChannelSpec, ...], admin: tuple[str, ...]
) -> ScorecardSettings:
    line = loc.find(r"^\s*\[scorecard\]")
    _check_keys(str(path), line, sc, _SCORECARD)

    def bad(key: str, zh: str, en: str) -> ConfigError:
        at = loc.find(r"^\s*" + key, line)
        return ConfigError(f"{path}:{at}: [scorecard] {key}：{zh} / {en}")

    if sc.get("digest", "weekly") not in ("weekly", "daily", "off"):
        raise bad("digest", "应为 weekly、daily 或 off", "must be weekly, daily or off")
    if sc.get("digest_day", "mon") not in WEEKDAYS:
        raise bad("digest_day", f"应为 {'/'.join(WEEKDAYS)} 之一", f"must be one of {', '.join(WEEKDAYS)}")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", sc.get("digest_at", "09:00")):
        raise bad("digest_at", "应为 HH:MM（北京时间）", "must be HH:MM (Asia/Shanghai)")
    if not 0 <= sc.get("port", 0) <= 65535:
        raise bad("port", "端口应在 0–65535 之间", "port must be 0-65535")
    names = {c.name for c in channels}
    unknown = [c for c in sc.get("digest_channels", []) if c not in names]
    if unknown:
        raise bad("digest_channels", f"没有名为“{unknown[0]}”的通道", f"no channel named {unknown[0]!r}")
    chosen = tuple(sc.get("digest_channels", ())) or tuple(c.name for c in channels if c.name not in admin)
    where = sc.get("path", "var/scorecard.html")
    if not where.endswith((".html", ".htm")):
        raise bad("path", "应为 .html 文件", "must be an .html file")
    return ScorecardSettings(
        path=(path.parent / where).resolve(),
        title=sc.get("title", ""),
        port=sc.get("port", 0),
        bind=sc.get("bind", "127.0.0.1"),
        digest=sc.get("digest", "weekly"),
        digest_day=sc.get("digest_day", "mon"),
        digest_at=sc.get("digest_at", "09:00"),
        digest_channels=chosen,
        digest_worst=sc.get("digest_worst", 5),
    )
