"""Read tables 二/三/四 from pseudo-rows, anchored on labels and aligned in order.

Each reading reports how many expected rows it matched, so the caller can pick the best source
(grid or text layer) and the best format for a mixed report.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from typing import Any

from rules.formats import Label, TableSpec
from rules.memo import ByIdentity, bounded_per_object
from rules.normalize import norm, strip_numbering
from rules.read.align import align, align_memo, align_scores, similarity
from rules.read.rows import Row, take_values
from rules.read.values import parse_value, split_run_together
from rules.report import Note


@dataclass
class TableRead:
    key: str
    data: dict[str, Any] = field(default_factory=dict)
    matched: int = 0
    expected: int = 0
    notes: list[Note] = field(default_factory=list)
    source: str = ""
    score: float = 0.0  # summed label-match quality, to choose between formats

    @property
    def quality(self) -> float:
        return self.score / self.expected if self.expected else 0.0

    @property
    def found(self) -> bool:
        return self.expected > 0 and self.matched * 5 >= self.expected * 2  # ≥ 40% of the rows


@lru_cache(maxsize=20_000)
def _core(text: str) -> str:
    return strip_numbering(norm(text))


_ROW_SCORES = bounded_per_object(8192)  # per label tuple: distinct label texts; a season has a few hundred


def _flat_forms(labels: tuple[Label, ...]) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """Every form of every label in one tuple, and each label's slice of it."""
    forms: list[str] = []
    spans: list[tuple[int, int]] = []
    for lab in labels:
        spans.append((len(forms), len(forms) + len(lab.forms)))
        forms.extend(lab.forms)
    return tuple(forms), tuple(spans)


_FLAT = ByIdentity(_flat_forms)  # per label tuple, for the rules' life


def _scores(core: str, labels: tuple[Label, ...]) -> tuple[float, ...]:
    """A label text scored against every label of a list at once, remembered per list (the format's own
    tuple): a table's rows are matched against the same 30 labels in every report, and their texts recur
    just as ``similarity``'s pairs do. A text seen first (a report's odd rows) is scored in one pass over
    the list's forms: a generator and a max() per label cost ~1 ms a report."""
    known = _ROW_SCORES(labels)
    got = known.get(core)
    if got is None:
        forms, spans = _FLAT(labels)
        sims = tuple(map(similarity, repeat(core, len(forms)), forms))
        if len(forms) > len(labels):  # (a label with several forms scores its best one)
            sims = tuple(sims[a] if b - a == 1 else max(sims[a:b]) for a, b in spans)
        got = known.put(core, sims)
    return got


def _row_scores(row: Row, labels: tuple[Label, ...]) -> tuple[float, ...] | list[float]:
    """How well a row's labels name each label (the most specific label is the last one; a row with
    values gets a hair more, so a value row wins over its own wrapped label line)."""
    if not row.labels:
        return (0.0,) * len(labels)
    got = _scores(_core(row.labels[-1]), labels)
    return [v + 0.01 for v in got] if row.has_values else got


def _aligned(found: list[Row], labels: tuple[Label, ...]) -> list[tuple[int, int, float]]:
    """align() of rows to labels; a row's score reads only its last label and whether it has values."""
    signature = tuple((r.labels[-1] if r.labels else "", r.has_values) for r in found)
    return align_memo(signature, labels, lambda: align_scores([_row_scores(r, labels) for r in found], 0.6))


def _attach_orphans(rows: list[Row], labels: tuple[Label, ...]) -> list[Row]:
    """Text layers put a row's numbers above or below a wrapped label: give them to the right label."""
    if not rows or rows[0].origin != "line":
        return rows
    out = list(rows)
    used: set[int] = set()
    for i, r in enumerate(out):
        if r.values or not r.labels or max(_row_scores(r, labels)) < 0.6:
            continue
        nxt, prv = i + 1, i - 1
        if nxt < len(out) and not out[nxt].labels and out[nxt].values and nxt not in used:
            pick = nxt
        elif prv >= 0 and not out[prv].labels and out[prv].values and prv not in used:
            pick = prv
        else:
            continue
        used.add(pick)
        out[i] = Row(r.labels, out[pick].values, False, "line")
    return [r for i, r in enumerate(out) if i not in used]


def _values(row: Row, n: int, from_end: bool, total_last: bool) -> tuple[list[Any] | None, bool]:
    if row.origin == "line":
        tokens = [str(v) for v in row.values if v is not None]
        if len(tokens) < n:
            fixed = split_run_together(tokens, n, total_last)
            if fixed is None:
                return None, False
            tokens = fixed
        return [parse_value(t) for t in tokens[:n]], False
    cells, short = take_values(row, n, from_end)
    return [parse_value(c) for c in cells], short


def _label_note(spec: TableSpec, where: str, found: str, expected: Label) -> Note:
    return Note(
        "table.label",
        where,
        f"{spec.name}“{expected.display}”行的标签“{found}”不完整或不规范，标准为“{expected.label}”",
        {"found": found, "expected": expected.label},
    )


def read_matrix(rows: list[Row], spec: TableSpec, source: str) -> TableRead:
    result = TableRead(spec.key, expected=sum(1 for r in spec.rows if not r.legacy), source=source)
    rows = _attach_orphans(rows, spec.rows)
    candidates = [i for i, r in enumerate(rows) if r.values and r.labels]
    pairs = _aligned([rows[i] for i in candidates], spec.rows)
    total_last = spec.columns[-1].key == "total"
    first_data = None
    for ci, ki, score in pairs:
        row, lab = rows[candidates[ci]], spec.rows[ki]
        result.score += min(score, 1.0)
        values, short = _values(row, len(spec.columns), True, total_last)
        if values is None:
            result.notes.append(
                Note(
                    "source.unreadable",
                    f"{spec.key}/{lab.key}",
                    f"{spec.name}“{lab.display}”行的数字连在一起，无法可靠拆分：{' '.join(map(str, row.values))}",
                )
            )
            result.matched += 1
            continue
        first_data = candidates[ci] if first_data is None else first_data
        result.matched += 1
        result.data[lab.key] = {c.key: v for c, v in zip(spec.columns, values, strict=True)}
        if score < 0.999:
            result.notes.append(_label_note(spec, f"{spec.key}/{lab.key}", row.label, lab))
        if short:
            result.notes.append(
                Note(
                    "table.row_missing",
                    f"{spec.key}/{lab.key}",
                    f"{spec.name}“{lab.display}”行缺少单元格（应有{len(spec.columns)}列）",
                )
            )
    if first_data is not None and source == "tables":
        head = rows[:first_data]
        key = tuple(r.labels for r in head)
        result.notes.extend(_header_notes(spec, key, lambda: _matrix_header_notes(head, spec)))
    return result


_HEADER_NOTES = bounded_per_object(4096)  # per table spec: distinct header layouts; a season has a few dozen


def _header_notes(spec: TableSpec, labels: Hashable, make: Callable[[], list[Note]]) -> list[Note]:
    """A table's column-header notes, remembered per (spec, the header rows' labels): they read nothing else,
    and reports copy the form's header, so one layout is checked once a season (~0.2 ms a report). Each
    report gets its own Note objects: a finding may hold on to a note's data."""
    memo = _HEADER_NOTES(spec)
    got = memo.get(labels)
    if got is None:
        got = memo.put(labels, tuple(make()))
    return [Note(n.kind, n.where, n.message, dict(n.data)) for n in got]


def _matrix_header_notes(header_rows: list[Row], spec: TableSpec) -> list[Note]:
    """Column headers: each expected column label must be identifiable in the header area."""
    notes: list[Note] = []
    start = max((i for i, r in enumerate(header_rows) if any("自然人" in norm(x) for x in r.labels)), default=None)
    if start is None:
        return notes
    texts = [x for r in header_rows[max(0, start - 2) :] for x in r.labels]
    blob = "".join(norm(t) for t in texts)
    for col in spec.columns:
        if _core(col.label) in blob:
            continue
        best = max(((similarity(_core(t), _core(col.label)), t) for t in texts), default=(0.0, ""))
        if best[0] >= 0.6:
            notes.append(
                Note(
                    "table.label",
                    f"{spec.key}/header:{col.key}",
                    f"{spec.name}列标题“{best[1]}”不完整或不规范，标准为“{col.label}”",
                    {"found": best[1], "expected": col.label},
                )
            )
        else:
            notes.append(Note("table.row_missing", f"{spec.key}/header:{col.key}", f"{spec.name}缺少“{col.label}”列"))
    return notes


def read_blocks(rows: list[Row], spec: TableSpec, source: str) -> TableRead:
    all_rows = [(b, r) for b in spec.blocks for r in b.rows]
    result = TableRead(spec.key, expected=len(all_rows), source=source)
    labels = spec.block_rows
    rows = _attach_orphans(rows, labels)
    candidates = [i for i, r in enumerate(rows) if r.values and r.labels]
    pairs = _aligned([rows[i] for i in candidates], labels)
    first_row_of_block: dict[str, int] = {}
    for ci, ki, score in pairs:
        block, lab = all_rows[ki]
        row = rows[candidates[ci]]
        result.score += min(score, 1.0)
        values, _short = _values(row, len(block.columns), False, False)
        result.matched += 1
        first_row_of_block.setdefault(block.key, candidates[ci])
        if values is None:
            result.notes.append(
                Note(
                    "source.unreadable",
                    f"{spec.key}/{lab.key}",
                    f"{spec.name}“{lab.label}”行的数字无法读取：{' '.join(map(str, row.values))}",
                )
            )
            continue
        result.data[lab.key] = {c.key: v for c, v in zip(block.columns, values, strict=True)}
        if score < 0.999:
            result.notes.append(_label_note(spec, f"{spec.key}/{lab.key}", row.label, lab))
    if source == "tables":
        first = first_row_of_block
        head = rows[: max(first.values(), default=0)]
        key = (tuple(first.items()), tuple(r.labels for r in head))
        result.notes.extend(_header_notes(spec, key, lambda: _block_header_notes(head, spec, first)))
    return result


def _block_header_notes(rows: list[Row], spec: TableSpec, first: dict[str, int]) -> list[Note]:
    """Each block's column headers, between its header line and its first data row (``rows``: those above
    the last block's first data row)."""
    notes: list[Note] = []
    leads = [_core(r.labels[0] if r.labels else "") for r in rows]  # once a row
    for block in spec.blocks:
        end = first.get(block.key)
        if end is None:
            continue
        prefix, header = _core(block.header)[:5], norm(block.header)
        start = max(
            (i for i in range(end) if leads[i].startswith(prefix) and header in norm("".join(rows[i].labels))),
            default=None,
        )
        if start is None:
            continue
        texts = [
            t
            for r in rows[start:end]
            for t in r.labels
            if norm(t) not in (header, "信息内容") and "第二十条" not in norm(t)
        ]
        texts = [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1] or len(block.columns) > 1]
        if not texts:
            continue
        pairs = align(texts, block.columns, lambda t, c: similarity(_core(t), _core(c.label)), 0.5)
        seen = {ki for _, ki, _ in pairs}
        for ti, ki, score in pairs:
            if score < 0.999:
                col = block.columns[ki]
                notes.append(
                    Note(
                        "table.label",
                        f"table2/{block.key}:{col.key}",
                        f"{spec.name}“{block.header}”的列标题“{texts[ti]}”不完整或不规范，标准为“{col.label}”",
                        {"found": texts[ti], "expected": col.label},
                    )
                )
        for ki, col in enumerate(block.columns):
            if ki not in seen:
                notes.append(
                    Note(
                        "table.label",
                        f"table2/{block.key}:{col.key}",
                        f"{spec.name}“{block.header}”缺少列标题“{col.label}”",
                        {"found": None, "expected": col.label},
                    )
                )
    return notes


def _is_header_text(text: str, words: list[str]) -> bool:
    """Whether the label is only header words (remembered per word list: the rows after table 4's start are
    tried on every report, with the form's labels; ~10 % of reading before)."""
    memo = _HEADER_TEXTS(words)
    got = memo.get(text)
    return memo.put(text, _only_header_words(text, words)) if got is None else got


def _only_header_words(text: str, words: list[str]) -> bool:
    t = norm(text)
    for w in words:
        t = t.replace(w, "")
    return not t.replace("总", "").replace("计", "").replace("(", "").replace(")", "")


_HEADER_TEXTS = bounded_per_object(8192)  # per header word list (one a table spec): label texts


def _single_row_layout(spec: TableSpec) -> tuple[list[str], list[str], list[str]]:
    """(the data keys, the header words longest first, the anchors), normalised once per spec."""
    keys = [f"{g.key}.{c.key}" for g in spec.groups for c in spec.columns]
    words = sorted((norm(w) for w in spec.header_words), key=len, reverse=True)
    return keys, words, [norm(a) for a in spec.anchors]


_SINGLE_ROW = ByIdentity(_single_row_layout)  # per table spec, for the rules' life
_STARTS = bounded_per_object(4096)  # per table spec: label sequences; reports copy the form, so a few dozen


def _single_row_start(rows: list[Row], spec: TableSpec, after: int) -> int | None:
    """Where the table's header starts: found by the rows' labels alone, so remembered per label sequence
    (the search normalises every label of the document's tables until it finds the anchor)."""
    memo = _STARTS(spec)
    key = (after, tuple(r.labels for r in rows[after:]))
    if key in memo:
        return memo[key]
    _keys, words, anchors = _SINGLE_ROW(spec)
    start = next(
        (
            i
            for i in range(after, len(rows))
            for lab in rows[i].labels
            if anchors[0] in norm(lab) and _is_header_text(lab, words)
        ),
        None,
    )
    if start is None:
        start = next(
            (
                i
                for i in range(after, len(rows))
                if any(anchors[0] in norm(lab) for lab in rows[i].labels)
                and any(anchors[-1] in norm(x) for r in rows[i : i + 4] for x in r.labels)
            ),
            None,
        )
    return memo.put(key, start)


def read_single_row(rows: list[Row], spec: TableSpec, source: str, after: int = 0) -> TableRead:
    keys, words, _anchors = _SINGLE_ROW(spec)
    result = TableRead(spec.key, expected=len(keys), source=source)
    start = _single_row_start(rows, spec, after)
    if start is None:
        return result
    n = len(keys)
    cells: list[Any] = []
    for r in rows[start:]:
        if r.labels and not all(_is_header_text(lab, words) for lab in r.labels) and r is not rows[start]:
            break
        if r.exact and sum(1 for v in r.values if v is not None) >= n // 2 and len(r.values) >= n:
            cells = list(r.values[-n:])
            break
        cells.extend(r.values)
        if sum(1 for v in cells if v is not None) >= n:
            break
    if not cells:
        return result
    filled = [v for v in cells if v is not None]
    picked = filled[:n] if len(filled) >= n else (cells[:n] + [None] * n)[:n]
    if rows[start].origin == "line" and len(filled) < n:
        fixed = split_run_together([str(v) for v in filled], n, False)
        picked = fixed if fixed else picked
    result.data = {k: parse_value(v if v is None else str(v)) for k, v in zip(keys, picked, strict=True)}
    result.matched = n
    result.score = float(n)
    return result


READERS = {"matrix": read_matrix, "blocks": read_blocks, "single_row": read_single_row}


def read_table(sources: Mapping[str, list[Row]], spec: TableSpec) -> TableRead:
    """Read one table from every source and keep the reading that matched most rows (grids win ties)."""
    best: TableRead | None = None
    for name, rows in sources.items():
        got = READERS[spec.layout](rows, spec, name)
        if best is None or (len(got.data), got.matched) > (len(best.data), best.matched):
            best = got
        if best.expected and best.matched == best.expected:
            break
    assert best is not None
    return best
