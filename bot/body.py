"""A monitored body (机关). Its own module because every analysis Job carries one to a worker: unpickling it
there then imports this file, not the config loader with its portal kinds, alert channels and HTML parsers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Body:
    name: str
    body_type: str
    region: str = ""
    aliases: tuple[str, ...] = ()
