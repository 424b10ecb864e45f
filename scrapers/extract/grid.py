"""Span-aware grids: rowspan/colspan expanded into a full matrix so columns never shift."""

from __future__ import annotations

from collections.abc import Iterable

from scrapers.document import Cell

SpanCell = tuple[Cell, int, int]  # (text, rowspan, colspan)


def expand(rows: Iterable[Iterable[SpanCell]], max_span: int = 60) -> list[list[Cell]]:
    """Place each cell at the first free column of its row, copying its text into every covered slot.

    Row by row: a row holds only what rowspans from above left in it, so a table without spans costs
    a list per row (a dict of every slot of the table cost ~3 µs per cell)."""
    out: list[dict[int, Cell]] = []
    later: dict[int, dict[int, Cell]] = {}  # row → {column: text} left there by a rowspan
    width = 0
    r = -1
    for r, row in enumerate(rows):
        slots = later.pop(r, {})
        c = 0
        for text, rowspan, colspan in row:
            while c in slots:
                c += 1
            if rowspan == 1 and colspan == 1:  # the usual cell: one free slot, nothing left for the rows below
                slots[c] = text
                c += 1
                continue
            cs = min(max(colspan, 1), max_span)
            for dc in range(cs):
                slots.setdefault(c + dc, text)
            for dr in range(1, min(max(rowspan, 1), max_span)):
                below = later.setdefault(r + dr, {})
                for dc in range(cs):
                    below.setdefault(c + dc, text)
            c += cs
        width = max(width, c)
        out.append(slots)
    while later:  # rowspans reaching below the last row
        r += 1
        out.append(later.pop(r, {}))
    return [[slots.get(c) for c in range(width)] for slots in out]
