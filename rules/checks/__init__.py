"""The check registry: name in rules.toml → function, kinds it emits, default severity and parameters.

Adding a check: one function in a module here, one line in REGISTRY, one block in rules.toml,
one test. The function's docstring is its help text (`nianbao rules explain`).
"""

from __future__ import annotations

from typing import Any

from rules.checks import content, crossyear, deadline, reading, tables
from rules.checks.base import Check

REGISTRY: dict[str, Check] = {
    c.name: c
    for c in (
        Check("readable", ("source.unreadable",), reading.readable, {"severity": "error"}),
        Check("sections-present", ("section.missing",), reading.sections_present, {"severity": "error"}),
        Check("section-heading", ("section.heading",), reading.section_heading, {"severity": "advisory"}),
        Check("format-version", ("format.outdated",), reading.format_version, {"severity": "error"}),
        Check("format-mixed", ("format.mixed",), reading.format_mixed, {"severity": "warning"}),
        Check("tables-present", ("table.missing",), reading.tables_present, {"severity": "error"}),
        Check("rows-present", ("table.row_missing",), reading.rows_present, {"severity": "error"}),
        Check("labels-standard", ("table.label",), reading.labels_standard, {"severity": "warning"}),
        Check("no-blank-cells", ("table.blank",), tables.no_blank_cells, {"severity": "error"}),
        Check("value-domain", ("table.invalid",), tables.value_domain, {"severity": "error"}),
        Check("identities", ("table.sum",), tables.identities, {"severity": "error", "disabled_rules": []}),
        Check(
            "deadline",
            ("deadline.late", "deadline.unknown"),
            deadline.deadline,
            {"severity": "error", "unknown_severity": "advisory", "grace_days": 0},
        ),
        Check(
            "crossyear",
            ("crossyear.carryover", "crossyear.stock"),
            crossyear.crossyear,
            {"severity": "warning", "disabled_rules": []},
            needs_previous=True,
        ),
        Check("prose-numbers", ("content.prose_mismatch",), content.prose_numbers, {"severity": "advisory"}),
        Check(
            "duplicate-prose",
            ("content.duplicate",),
            content.duplicate_prose,
            {"severity": "warning", "threshold": 0.5, "min_chars": 60, "sections": [1, 5, 6]},
            needs_previous=True,
        ),
        Check("fee-statement", ("content.fee_statement",), content.fee_statement, {"severity": "advisory"}),
        Check("wrong-year", ("content.wrong_year",), content.wrong_year, {"severity": "warning"}),
        Check(
            "empty-section", ("content.empty_section",), content.empty_section, {"severity": "warning", "min_chars": 10}
        ),
    )
}

DEFAULTS: dict[str, dict[str, Any]] = {name: dict(c.defaults) for name, c in REGISTRY.items()}

# Every finding kind an admin may name (exemptions, message templates): the checks' kinds, plus the
# ones the watching service emits itself.
SERVICE_KINDS = ("deadline.missing", "portal.unhealthy", "report.published", "report.changed", "report.withdrawn")
KINDS: set[str] = {k for c in REGISTRY.values() for k in c.kinds} | set(SERVICE_KINDS)
