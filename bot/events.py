"""What happened, as plain frozen dataclasses. Emitted only after the commit that makes them true;
the alerts issue turns them into messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportPublished:
    portal: str
    body: str | None
    year: int | None
    url: str
    title: str
    report_id: int
    errors: int


@dataclass(frozen=True)
class ReportChanged:
    portal: str
    body: str | None
    year: int | None
    url: str
    title: str
    report_id: int
    version_id: int


@dataclass(frozen=True)
class ReportWithdrawn:
    portal: str
    body: str | None
    year: int | None
    url: str
    report_id: int


@dataclass(frozen=True)
class FindingsChanged:
    body: str | None
    year: int | None
    report_id: int
    version_id: int
    added: tuple[str, ...]  # fingerprints
    resolved: tuple[str, ...]
    reason: str = ""  # set when new rules (not a new version) changed the findings: `nianbao recheck`


@dataclass(frozen=True)
class DeadlineMissed:
    body: str
    body_type: str
    year: int
    deadline: str
    portal: str


@dataclass(frozen=True)
class PortalUnhealthy:
    portal: str
    status: str  # down | blocked
    failures: int
    problem: str | None


@dataclass(frozen=True)
class PortalRecovered:
    portal: str


Event = (
    ReportPublished
    | ReportChanged
    | ReportWithdrawn
    | FindingsChanged
    | DeadlineMissed
    | PortalUnhealthy
    | PortalRecovered
)
