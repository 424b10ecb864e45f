"""Load the format files (formats/*.toml) into frozen specs the reader and checks share.

A format file is data an admin can add without Python; unknown keys and bad formulas are refused
here with the file name, so a broken format never reaches a check.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rules.expr import FormulaError, Identity, expand, parse_identity, refs
from rules.normalize import norm, strip_numbering

BUNDLED = Path(__file__).parent / "formats"


class FormatError(ValueError):
    """A format file is invalid; the message names the file, the line and the problem. ``needle`` is
    text to look for when the line is only known once the whole file is parsed."""

    def __init__(self, message: str, needle: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.needle, self.line = needle, line


@dataclass(frozen=True)
class Label:
    key: str
    label: str
    short: str = ""
    aliases: tuple[str, ...] = ()
    domain: str = "count"  # count | signed | decimal | amount
    legacy: str | None = None  # an older format's row accepted in place of ``replaces``
    replaces: tuple[str, ...] = ()

    @cached_property
    def forms(self) -> tuple[str, ...]:
        """Normalised core texts that identify this label."""
        return tuple(dict.fromkeys(strip_numbering(norm(x)) for x in (self.label, *self.aliases)))

    @property
    def display(self) -> str:
        return self.short or self.label


@dataclass(frozen=True)
class Block:
    key: str
    header: str
    columns: tuple[Label, ...]
    rows: tuple[Label, ...]


@dataclass(frozen=True)
class TableSpec:
    key: str
    name: str
    title: str
    section: int
    layout: str  # blocks | matrix | single_row
    columns: tuple[Label, ...] = ()
    rows: tuple[Label, ...] = ()
    groups: tuple[Label, ...] = ()
    blocks: tuple[Block, ...] = ()
    anchors: tuple[str, ...] = ()
    header_words: tuple[str, ...] = ()

    @cached_property
    def all_rows(self) -> tuple[Label, ...]:
        """Data rows, whether the table is one matrix or blocks (表二)."""
        return (*self.rows, *(r for b in self.blocks for r in b.rows))

    @cached_property
    def block_rows(self) -> tuple[Label, ...]:
        """The blocks' rows in order: one tuple for the life of the rules, which the reader's alignment
        memo and row-score cache recognise by identity (a tuple built per report never hit them)."""
        return tuple(r for b in self.blocks for r in b.rows)

    @cached_property
    def all_columns(self) -> tuple[Label, ...]:
        return (*self.columns, *(c for b in self.blocks for c in b.columns))

    def cell_label(self, row: str, col: str) -> str:
        """Chinese description of a cell for messages: “（七）总计”行“总计”列."""
        if self.layout == "single_row":
            group, _, c = row.partition(".") if not col else (row, "", col)
            g = next((x.label for x in self.groups if x.key == group), group)
            cl = next((x.label for x in self.columns if x.key == c), c)
            return f"{g}“{cl}”"
        rl = next((x.display for x in self.all_rows if x.key == row), row)
        cl = next((x.label for x in self.all_columns if x.key == col), col)
        return f"“{rl}”行“{cl}”列"


@dataclass(frozen=True)
class SectionSpec:
    no: int
    heading: str
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One identity (R1–R4) or cross-year rule (R5–R7), expanded into concrete formulas."""

    id: str
    title: str
    kind: str
    formulas: tuple[tuple[dict[str, str], Identity], ...]
    severity: str | None = None
    tolerance: float = 0
    requires_previous_format: str | None = None


@dataclass(frozen=True)
class Format:
    id: str
    title: str
    years: tuple[int, ...]
    tokens: tuple[str, ...]
    sections: tuple[SectionSpec, ...]
    tables: dict[str, TableSpec] = field(default_factory=dict)
    identities: tuple[Rule, ...] = ()
    crossyear: tuple[Rule, ...] = ()

    def universe(self, tables: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], list[str]]:
        """Row keys a glob formula must find under each table (a present legacy row stands for those it replaces)."""
        out: dict[tuple[str, ...], list[str]] = {}
        for key, spec in self.tables.items():
            data = tables.get(key, {})
            covered = {k for r in spec.all_rows if r.legacy and r.key in data for k in r.replaces}
            out[(*prefix, key)] = [r.key for r in spec.all_rows if not r.legacy and r.key not in covered]
        return out


def _label(d: dict[str, Any], where: str) -> Label:
    _only(d, {"key", "label", "short", "aliases", "domain", "legacy", "replaces"}, where)
    if d.get("domain", "count") not in ("count", "signed", "decimal", "amount"):
        raise FormatError(f"{where}: domain must be count/signed/decimal/amount, got {d['domain']!r}")
    return Label(
        str(d["key"]),
        str(d["label"]),
        str(d.get("short", "")),
        tuple(d.get("aliases", ())),
        d.get("domain", "count"),
        d.get("legacy"),
        tuple(d.get("replaces", ())),
    )


def _only(d: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(d) - allowed
    if unknown:
        raise FormatError(f"{where}: 未知的键 / unknown key(s): {', '.join(sorted(unknown))}")


def _rule(d: dict[str, Any], where: str, default_kind: str) -> Rule:
    _only(d, {"id", "title", "kind", "each", "formula", "severity", "tolerance", "requires_previous_format"}, where)
    needle = f'"{d.get("id")}"'
    if not isinstance(d.get("formula"), str) or not isinstance(d.get("id"), str):
        raise FormatError(f"{where}: 每条规则需要 id 和 formula / every rule needs id and formula", needle)
    try:
        formulas = tuple((combo, parse_identity(text)) for combo, text in expand(d["formula"], d.get("each", {})))
    except (FormulaError, KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{where} ({d.get('id')}): {exc}", needle) from exc
    for _combo, ident in formulas:
        left, right = {r.path for r in refs(ident.lhs)}, {r.path for r in refs(ident.rhs)}
        if left == right:
            raise FormatError(
                f"{where} ({d['id']}): 公式两边引用同样的单元格，恒成立（循环）/ both sides use the same cells: "
                f"always true (circular): {ident.text}",
                needle,
            )
    return Rule(
        d["id"],
        d.get("title", d["id"]),
        d.get("kind", default_kind),
        formulas,
        d.get("severity"),
        float(d.get("tolerance", 0)),
        d.get("requires_previous_format"),
    )


def _table(key: str, d: dict[str, Any], where: str) -> TableSpec:
    _only(
        d,
        {"name", "title", "section", "layout", "columns", "rows", "groups", "blocks", "anchors", "header_words"},
        where,
    )
    blocks = []
    for i, b in enumerate(d.get("blocks", [])):
        bw = f"{where}.blocks[{i}]"
        _only(b, {"key", "header", "columns", "rows"}, bw)
        blocks.append(
            Block(
                b["key"],
                b["header"],
                tuple(_label(c, bw) for c in b["columns"]),
                tuple(_label(r, bw) for r in b["rows"]),
            )
        )
    return TableSpec(
        key=key,
        name=d.get("name", key),
        title=d.get("title", ""),
        section=int(d.get("section", 0)),
        layout=d["layout"],
        columns=tuple(_label(c, where) for c in d.get("columns", [])),
        rows=tuple(_label(r, where) for r in d.get("rows", [])),
        groups=tuple(_label(g, where) for g in d.get("groups", [])),
        blocks=tuple(blocks),
        anchors=tuple(d.get("anchors", ())),
        header_words=tuple(d.get("header_words", ())),
    )


def _matches(pattern: str, keys: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(k, pattern) for k in keys)


def check_references(fmt: Format) -> None:
    """Every cell a formula names must exist in the format's tables (a typo would never be checked)."""
    for rule in (*fmt.identities, *fmt.crossyear):
        for _combo, ident in rule.formulas:
            for ref in (*refs(ident.lhs), *refs(ident.rhs)):
                path = ref.path[1:] if ref.path[0] == "previous" else ref.path
                spec = fmt.tables.get(path[0])
                problem = None
                if spec is None:
                    problem = f"没有表“{path[0]}” / no table {path[0]!r} (tables: {', '.join(fmt.tables)})"
                elif spec.layout == "single_row":
                    keys = [f"{g.key}.{c.key}" for g in spec.groups for c in spec.columns]
                    if len(path) != 2 or not _matches(path[1], keys):
                        problem = f"表“{path[0]}”没有单元格“{'.'.join(path[1:])}” / no such cell"
                elif len(path) != 3:
                    problem = f"引用应为 表.行.列 / a reference is table.row.column: {'.'.join(path)}"
                elif not _matches(path[1], [r.key for r in spec.all_rows]):
                    problem = f"表“{path[0]}”没有行“{path[1]}” / no row {path[1]!r}"
                elif not _matches(path[2], [c.key for c in spec.all_columns]):
                    problem = f"表“{path[0]}”没有列“{path[2]}” / no column {path[2]!r}"
                if problem:
                    raise FormatError(f"{fmt.id} {rule.id}: {problem}", f'"{rule.id}"')


def format_for_year(year: int | None, starts: dict[str, int]) -> str | None:
    """The format a report of ``year`` must use: the one with the latest start year ≤ year (None if none)."""
    chosen = None
    if year is not None:
        for fid, start in sorted(starts.items(), key=lambda kv: kv[1]):
            if start <= year:
                chosen = fid
    return chosen


def start_years(formats: dict[str, Format]) -> dict[str, int]:
    """Start years from the format files, when rules.toml's [formats] does not say."""
    return {fid: min(f.years) for fid, f in formats.items() if f.years}


def load_format(path: Path) -> Format:
    """One format file, validated; errors carry ``path:line``."""
    text = path.read_text(encoding="utf-8")
    try:
        return _load_format(path, text)
    except FormatError as exc:
        lines = text.splitlines()
        line = exc.line or next((i + 1 for i, ln in enumerate(lines) if exc.needle and exc.needle in ln), 1)
        raise FormatError(f"{path}:{line}: {exc}") from None


def _load_format(path: Path, text: str) -> Format:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise FormatError(f"TOML 语法错误 / syntax error: {exc}", line=int(m[1]) if m else None) from exc
    where = path.name
    try:
        _only(data, {"id", "title", "years", "tokens", "sections", "tables", "identities", "crossyear"}, where)
        sections = []
        for s in data["sections"]:
            _only(s, {"no", "heading", "aliases", "keywords"}, f"{where}.sections")
            sections.append(
                SectionSpec(int(s["no"]), s["heading"], tuple(s.get("aliases", ())), tuple(s.get("keywords", ())))
            )
        tables = {k: _table(k, v, f"{where}.tables.{k}") for k, v in data.get("tables", {}).items()}
        identities = tuple(_rule(r, f"{where}.identities", "table.sum") for r in data.get("identities", []))
        crossyear = tuple(_rule(r, f"{where}.crossyear", "crossyear.carryover") for r in data.get("crossyear", []))
        fmt = Format(
            data["id"],
            data.get("title", ""),
            tuple(data.get("years", ())),
            tuple(data.get("tokens", ())),
            tuple(sections),
            tables,
            identities,
            crossyear,
        )
    except KeyError as exc:
        raise FormatError(f"{where}: 缺少必填键 / missing required key {exc}", str(exc).strip("'")) from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise FormatError(f"{where}: 类型不对 / wrong type: {exc}") from exc
    check_references(fmt)
    return fmt


def load_formats(directory: Path | None = None) -> dict[str, Format]:
    directory = directory or BUNDLED
    formats = {}
    for path in sorted(directory.glob("*.toml")):
        fmt = load_format(path)
        formats[fmt.id] = fmt
    if not formats:
        raise FormatError(f"{directory}: 没有格式文件 / no format files found")
    return formats
