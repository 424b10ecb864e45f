"""Span-aware grids: rowspan/colspan expanded into a full matrix so columns never shift."""

from __future__ import annotations

from collections.abc import Iterable

from scrapers.document import Cell

SpanCell = tuple[Cell, int, int]  # (text, rowspan, colspan)


def expand(rows: Iterable[Iterable[SpanCell]], max_span: int = 60) -> list[list[Cell]]:
    """Place each cell at the first free column of its row, copying its text into every covered slot."""
    grid: dict[tuple[int, int], Cell] = {}
    n_rows = 0
    width = 0
    for r, row in enumerate(rows):
        n_rows = r + 1
        c = 0
        for text, rowspan, colspan in row:
            while (r, c) in grid:
                c += 1
            rs = min(max(rowspan, 1), max_span)
            cs = min(max(colspan, 1), max_span)
            for dr in range(rs):
                for dc in range(cs):
                    grid.setdefault((r + dr, c + dc), text)
            c += cs
            width = max(width, c)
    n_rows = max([n_rows] + [rr + 1 for rr, _ in grid])
    return [[grid.get((r, c)) for c in range(width)] for r in range(n_rows)]
