"""Every table shape → one list of labelled rows ("pseudo-rows"), the reader's only input for tables.

A pseudo-row is (labels, values): the text cells that name it and the data cells after them.
Grids keep exact cell positions; flattened streams and text lines rebuild rows from the labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from rules.read.values import is_value_text, split_numbers
from scrapers.document import Cell, Document, Table


@dataclass(frozen=True, eq=False)
class Row:
    labels: tuple[str, ...]
    values: tuple[Cell, ...]
    exact: bool  # True: cell positions are known (a grid row); False: rebuilt from a stream/line
    origin: str  # "grid" | "stream" | "line"

    @property
    def label(self) -> str:
        return self.labels[-1] if self.labels else ""

    @cached_property
    def has_values(self) -> bool:
        return any(v is not None for v in self.values)


def _dedupe(labels: list[str]) -> list[str]:
    out: list[str] = []
    for lab in labels:
        if not out or out[-1] != lab:
            out.append(lab)
    return out


def grid_rows(table: Table) -> list[Row]:
    rows = []
    for cells in table.rows:
        last_text = len(cells) - 1  # the last cell that is not a value: from the right, past the values only
        while last_text >= 0 and is_value_text(cells[last_text]):
            last_text -= 1
        labels = _dedupe([c for c in cells[: last_text + 1] if c])
        rows.append(Row(tuple(labels), tuple(cells[last_text + 1 :]), True, "grid"))
    return rows


def stream_rows(table: Table) -> list[Row]:
    """A flattened stream: every text cell starts a row; value cells follow it."""
    rows: list[Row] = []
    labels: list[str] = []
    values: list[Cell] = []
    for cells in table.rows:
        for c in cells:
            if is_value_text(c):
                values.append(c)
                continue
            if labels or values:
                rows.append(Row(tuple(labels), tuple(values), False, "stream"))
            labels, values = [c or ""], []
    if labels or values:
        rows.append(Row(tuple(labels), tuple(values), False, "stream"))
    return rows


def line_rows(lines: tuple[str, ...]) -> list[Row]:
    """Text-layer lines: “label n n n” or a label alone or numbers alone (an orphan row)."""
    out = []
    for line in lines:
        label, nums = split_numbers(line)
        out.append(Row((label,) if label else (), tuple(nums), False, "line"))
    return out


class Sources(Mapping[str, list[Row]]):
    """The candidate sources, best first: grids, then the text lines — the lines split into rows only
    when asked for (a report whose grids hold every row never needs them: ~1 ms of number splitting)."""

    def __init__(self, doc: Document) -> None:
        self._doc = doc
        self._rows: dict[str, list[Row]] = {}

    def __getitem__(self, key: str) -> list[Row]:
        if key not in self._rows:
            if key == "tables":
                grid: list[Row] = []
                for t in self._doc.tables:
                    grid.extend(grid_rows(t) if t.rows_known else stream_rows(t))
                self._rows[key] = grid
            elif key == "lines":
                self._rows[key] = line_rows(self._doc.lines)
            else:
                raise KeyError(key)
        return self._rows[key]

    def __iter__(self) -> Iterator[str]:
        return iter(("tables", "lines"))

    def __len__(self) -> int:
        return 2


def take_values(row: Row, n: int, from_end: bool) -> tuple[list[Cell], bool]:
    """The ``n`` data cells of a row, and whether cells had to be padded (fewer than ``n`` present)."""
    vals = list(row.values)
    if row.exact:
        picked = vals[-n:] if from_end else vals[:n]
    else:
        filled = [v for v in vals if v is not None]
        picked = filled[:n] if len(filled) >= n else vals[:n]
    short = len(picked) < n
    return picked + [None] * (n - len(picked)), short
