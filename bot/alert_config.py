"""config.toml's alert part: [alerts], [[channels]] and [[routes]], validated with line numbers.

Secrets (a WeCom key, an SMTP password) are accepted only as references — ``{ env = "NAME" }`` or
``{ file = "path" }`` with the file readable by its owner alone (0600) — so config.toml can be
shown, versioned and mailed without leaking them; a plain string there is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from bot.alerts import Policy, Route
from notifiers.email import valid_address
from notifiers.registry import CHANNELS

SEVERITIES = ("error", "warning", "advisory", "info")
_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "tuple[str, ...]": list,
    "str | None": str,
}
_INTERNAL = {"name", "kind", "limiter"}
SECRET_FIELDS = {"key", "password"}
_ALERTS = {
    "admin": list,
    "remind_every_days": (int, float),
    "remind_kinds": list,
    "retry_base_seconds": (int, float),
    "retry_cap_seconds": (int, float),
    "give_up_hours": (int, float),
}
_ROUTE = {
    "name": str,
    "channels": list,
    "bodies": list,
    "regions": list,
    "kinds": list,
    "severities": list,
    "quiet_hours": str,
    "digest": str,
    "digest_at": str,
}


class AlertConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    type: str
    params: dict[str, Any] = dataclasses.field(repr=False)  # secrets resolved: never print this
    fingerprint: str = ""  # changes when the admin edits the channel (un-pauses a broken one)
    secrets: tuple[str, ...] = dataclasses.field(default=(), repr=False)

    def build(self) -> Any:
        return CHANNELS[self.type](name=self.name, **self.params)


def _fields(kind: str) -> dict[str, str]:
    return {f.name: str(f.type) for f in dataclasses.fields(CHANNELS[kind]) if f.name not in _INTERNAL}


def resolve_secret(ref: Any, base: Path, where: str) -> str:
    if not isinstance(ref, dict) or set(ref) - {"env", "file"} or len(ref) != 1:
        raise AlertConfigError(
            f'{where}: 密钥只能写成引用 {{ env = "变量名" }} 或 {{ file = "路径" }} / secrets must be references, '
            "not plain text"
        )
    if "env" in ref:
        value = os.environ.get(str(ref["env"]), "")
        if not value:
            raise AlertConfigError(f"{where}: 环境变量 {ref['env']} 未设置 / environment variable not set")
        return value.strip()
    path = (base / str(ref["file"])).resolve()
    if not path.is_file():
        raise AlertConfigError(f"{where}: 密钥文件不存在 / secret file not found: {path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AlertConfigError(
            f"{where}: 密钥文件 {path} 权限为 {mode:o}，应为 600 / secret file must be readable by its owner only "
            f"(chmod 600)"
        )
    return path.read_text(encoding="utf-8").strip()


def _known(where: str, data: dict[str, Any], spec: dict[str, Any]) -> None:
    """Every key known and of its type (typos are the commonest admin mistake)."""
    for key, value in data.items():
        if key not in spec:
            raise AlertConfigError(f"{where}: 未知的键“{key}” / unknown key {key!r} (known: {', '.join(sorted(spec))})")
        _typed(where, key, value, spec[key])


def _typed(where: str, key: str, value: Any, spec: Any) -> None:
    if not isinstance(value, spec) or (spec is int and isinstance(value, bool)):
        raise AlertConfigError(f"{where}: “{key}”的类型不对 / {key!r} has the wrong type ({type(value).__name__})")


def parse_channels(raw: list[Any], base: Path, line_of: Any) -> tuple[ChannelSpec, ...]:
    out: list[ChannelSpec] = []
    for n, ch in enumerate(raw):
        where = f"[[channels]] #{n + 1} (line {line_of(n)})"
        if not isinstance(ch, dict):
            raise AlertConfigError(f"{where}: 应为表 / must be a table")
        kind, name = ch.get("type"), ch.get("name")
        if kind not in CHANNELS:
            raise AlertConfigError(
                f"{where}: 通道类型“{kind}”不存在 / unknown channel type (known: {', '.join(CHANNELS)})"
            )
        if not isinstance(name, str) or not name:
            raise AlertConfigError(f"{where}: 缺少 name / [[channels]] needs a name")
        if name in {c.name for c in out}:
            raise AlertConfigError(f"{where}: 通道名称重复“{name}” / duplicate channel name")
        fields = _fields(kind)
        plain = {k: v for k, v in ch.items() if k not in ("type", "name", *SECRET_FIELDS)}
        _known(where, plain, {k: _TYPES.get(t, object) for k, t in fields.items() if k not in SECRET_FIELDS})
        params: dict[str, Any] = {}
        secrets = []
        for key, value in ch.items():
            if key in ("type", "name"):
                continue
            if key not in fields:  # a secret-named key this channel kind does not have
                raise AlertConfigError(f"{where}: 未知的键“{key}” / unknown key {key!r}")
            if key in SECRET_FIELDS:
                value = resolve_secret(value, base, f"{where} {key}")
                secrets.append(value)
            if fields[key] == "tuple[str, ...]":
                if not all(isinstance(v, str) and v for v in value):
                    raise AlertConfigError(f"{where}: “{key}”应为字符串列表 / {key!r} must be a list of strings")
                value = tuple(value)
            if key == "ca_bundle":
                value = str((base / value).resolve())
                if not Path(value).is_file():
                    raise AlertConfigError(f"{where}: 找不到 CA 证书文件 / ca_bundle not found: {value}")
            params[key] = value
        required = [f.name for f in dataclasses.fields(CHANNELS[kind]) if f.name not in _INTERNAL
                    and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]  # fmt: skip
        for req in required:
            if req not in params:
                raise AlertConfigError(f"{where}: 缺少“{req}” / channel {name!r} needs {req!r}")
        if kind == "email":
            bad = [a for a in (params["sender"], *params["to"]) if not valid_address(a)]
            if bad or not params["to"]:
                raise AlertConfigError(
                    f"{where}: 邮件地址无效 / invalid e-mail address: {', '.join(bad) or '(to 为空)'}"
                )
            if params.get("security", "starttls") not in ("tls", "starttls", "plain"):
                raise AlertConfigError(f"{where}: security 应为 tls / starttls / plain")
            if params.get("username") and not params.get("password"):
                raise AlertConfigError(f"{where}: 有 username 就需要 password / username needs a password reference")
        digest = hashlib.sha256(repr(sorted(params.items())).encode()).hexdigest()[:16]
        out.append(ChannelSpec(name, kind, params, digest, tuple(secrets)))
    return tuple(out)


def _clock(where: str, value: str) -> time:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise AlertConfigError(f"{where}: 时间应写成 HH:MM / time must be HH:MM, got {value!r}")
    return time(int(m[1]), int(m[2]))


def parse_policy(
    alerts: dict[str, Any],
    routes: list[Any],
    channels: tuple[ChannelSpec, ...],
    bodies: dict[str, str],
    line_of_route: Any,
    alerts_line: int,
) -> Policy:
    names = {c.name for c in channels}
    where = f"[alerts] (line {alerts_line})"
    _known(where, alerts, _ALERTS)
    unknown = [c for c in alerts.get("admin", []) if c not in names]
    if unknown:
        raise AlertConfigError(
            f"{where}: admin 中的通道不存在 / unknown channel(s) in admin: {', '.join(map(str, unknown))}"
        )
    parsed: list[Route] = []
    regions = set(bodies.values())
    for n, r in enumerate(routes):
        rw = f"[[routes]] #{n + 1} (line {line_of_route(n)})"
        _known(rw, r, _ROUTE)
        chans = r.get("channels") or []
        bad = [c for c in chans if c not in names]
        if not chans or bad:
            raise AlertConfigError(
                f"{rw}: channels 须列出已定义的通道 / unknown or no channels: {', '.join(map(str, bad))}"
            )
        for key, known, label in (("bodies", set(bodies), "机关"), ("regions", regions, "地区")):
            missing = [v for v in r.get(key, []) if v not in known]
            if missing:
                raise AlertConfigError(f"{rw}: 配置中没有这些{label} / unknown {key}: {', '.join(map(str, missing))}")
        sev = r.get("severities", ["error", "warning", "info"])
        if not sev or any(s not in SEVERITIES for s in sev):
            raise AlertConfigError(f"{rw}: severities 只能取 {'/'.join(SEVERITIES)}")
        quiet = None
        if r.get("quiet_hours"):
            a, sep, b = r["quiet_hours"].partition("-")
            if not sep:
                raise AlertConfigError(f'{rw}: quiet_hours 应写成 "22:00-07:30"')
            quiet = (_clock(rw, a), _clock(rw, b))
        digest = r.get("digest", "off")
        if digest not in ("off", "daily"):
            raise AlertConfigError(f"{rw}: digest 应为 off 或 daily")
        parsed.append(
            Route(
                name=r.get("name") or f"route{n + 1}",
                channels=tuple(chans),
                bodies=tuple(r.get("bodies", ())),
                regions=tuple(r.get("regions", ())),
                kinds=tuple(r.get("kinds", ())),
                severities=tuple(sev),
                quiet_hours=quiet,
                digest=digest,
                digest_at=_clock(rw, r.get("digest_at", "08:30")),
            )
        )
    if not routes and channels:  # no routing written: everything (but advisories) to every non-admin channel
        admin = set(alerts.get("admin", []))
        everyone = tuple(c.name for c in channels if c.name not in admin) or tuple(c.name for c in channels)
        parsed.append(Route("default", everyone))
    kw = {k: (tuple(v) if isinstance(v, list) else float(v)) for k, v in alerts.items() if k != "admin"}
    return Policy(routes=tuple(parsed), admin_channels=tuple(alerts.get("admin", ())), regions=bodies, **kw)
