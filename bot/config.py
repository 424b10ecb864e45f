"""config.toml, the deployment file. Today it only points `nianbao check` at a rules directory;
the watching service (portals, bodies, storage, channels) extends it.

Validated on load: an unknown section or key is refused with its name, so a typo is never ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """config.toml is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    rules_dir: Path | None = None


_KNOWN = {"rules": {"dir"}}


def load_config(path: Path) -> Config:
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML 语法错误 / syntax error: {exc}") from exc
    for section, body in data.items():
        if section not in _KNOWN:
            raise ConfigError(f"{path}: 未知的配置节 [{section}] / unknown section [{section}]")
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: [{section}] 应为表 / must be a table")
        for key in body:
            if key not in _KNOWN[section]:
                raise ConfigError(f"{path}: [{section}] 未知的键“{key}” / unknown key {key!r}")
    rules = data.get("rules", {}).get("dir")
    rules_dir = (path.parent / rules).resolve() if rules else None
    return Config(path, rules_dir)
