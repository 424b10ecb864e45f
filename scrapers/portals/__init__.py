"""The portal-kind registry: kind name in config.toml → (its config dataclass, its discover function).

Adding a kind: one module with a frozen Config dataclass (its docstring is the admin's help) and an
async ``discover(fetcher, cfg) -> Discovery``, one line here, one test with a local fixture portal.
"""

from __future__ import annotations

from typing import Any

from scrapers.portals import feed, generic, hanweb, trs
from scrapers.portals.base import Discover, Discovery, ReportLink, merge

KINDS: dict[str, tuple[type, Discover]] = {
    "generic": (generic.GenericConfig, generic.discover),  # type: ignore[dict-item]
    "hanweb": (hanweb.HanwebConfig, hanweb.discover),  # type: ignore[dict-item]
    "trs": (trs.TrsConfig, trs.discover),  # type: ignore[dict-item]
    "feed": (feed.FeedConfig, feed.discover),  # type: ignore[dict-item]
}

__all__ = ["KINDS", "Discovery", "ReportLink", "kind_config", "merge"]


def kind_config(kind: str, fields: dict[str, Any]) -> Any:
    return KINDS[kind][0](**fields)
