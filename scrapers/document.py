"""The Document: what any input (HTML, PDF, DOCX, text, …) becomes before the rules read it.

It keeps the original text (never normalised here) so that messages can quote what the author wrote.
Tables are span-expanded grids; a flattened table whose row boundaries are lost (the ``|`` text that
portals and copy-paste produce) is one long row with ``rows_known=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Cell = str | None  # None: an empty cell (blank), kept distinct from "0" all the way


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[Cell, ...], ...]
    rows_known: bool = True
    page: int | None = None  # 1-based page for PDFs

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


@dataclass(frozen=True)
class Document:
    source: str
    kind: str  # html | pdf | docx | doc | xls | xlsx | text
    lines: tuple[str, ...] = ()  # text lines in reading order (tables included as their cell text)
    tables: tuple[Table, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)  # title, pubdate, page_date, url, …
    problems: tuple[str, ...] = ()  # why parts could not be read (Chinese), → source.unreadable
    unreadable: str | None = None  # the whole document could not be read: the reason (Chinese/English)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def unreadable(source: str, kind: str, reason: str) -> Document:
    """A Document that carries only the reason it could not be read."""
    return Document(source=source, kind=kind, unreadable=reason)
