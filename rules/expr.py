"""A small, safe formula language for table identities (no eval/exec).

    applications."3.7".total = applications."3.1".total + sum(applications."3.3.*".total)

A reference is a dotted path of names or quoted keys; ``*`` inside a quoted key matches many keys
and must be wrapped in ``sum()``. Only ``+``, ``-``, numbers, parentheses and ``sum`` exist, so an
admin's formula can never do anything but arithmetic over the report's cells.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from rules.memo import Bounded

Number = int | float


class FormulaError(ValueError):
    """A formula that cannot be parsed; the message says where."""


_TOKEN = re.compile(r'\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>"[^"]*")|(?P<op>[-+().=]))')


@dataclass(frozen=True)
class Ref:
    path: tuple[str, ...]
    summed: bool = False

    @cached_property
    def globbed(self) -> bool:
        return any("*" in p for p in self.path)

    @cached_property
    def cell(self) -> str:
        return cell_path(self.path)


@dataclass(frozen=True)
class Node:
    op: str  # "num" | "ref" | "+" | "-"
    value: Any = None
    left: Node | None = None
    right: Node | None = None


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FormulaError(f"无法识别的字符 / unexpected character at column {pos + 1}: {text[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            want = f"“{value}”" if value else "more input"
            raise FormulaError(f"公式不完整，缺少{want} / expected {value or 'more input'} in {self.text!r}")
        self.i += 1
        return tok

    def expr(self) -> Node:
        node = self.term()
        while (tok := self.peek()) and tok[1] in "+-" and tok[0] == "op":
            self.take()
            node = Node(tok[1], left=node, right=self.term())
        return node

    def term(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return Node("num", float(value) if "." in value else int(value))
        if kind == "op" and value == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "op" and value == "-":
            return Node("-", left=Node("num", 0), right=self.term())
        if kind == "name" and value == "sum":
            self.take("(")
            ref = self.ref()
            self.take(")")
            return Node("ref", Ref(ref, summed=True))
        if kind == "name":
            self.i -= 1
            path = self.ref()
            if any("*" in p for p in path):
                raise FormulaError(f"通配符“*”只能用在 sum() 中 / '*' needs sum(): {'.'.join(path)}")
            return Node("ref", Ref(path))
        raise FormulaError(f"意外的“{value}” / unexpected {value!r} in {self.text!r}")

    def ref(self) -> tuple[str, ...]:
        parts = []
        kind, value = self.take()
        if kind != "name":
            raise FormulaError(f"引用应以表名开头 / a reference starts with a table name, got {value!r}")
        parts.append(value)
        while (tok := self.peek()) and tok[1] == ".":
            self.take()
            kind, value = self.take()
            if kind == "name":
                parts.append(value)
            elif kind == "str":
                parts.append(value[1:-1])
            elif kind == "num":  # applications.4.total: a bare number is a key here
                parts.append(value)
            else:
                raise FormulaError(f"“.”后应为键名 / a key must follow '.', got {value!r}")
        return tuple(parts)


@dataclass(frozen=True)
class Identity:
    text: str
    lhs: Node
    rhs: Node

    @cached_property
    def tables(self) -> frozenset[str]:
        """The tables the formula reads (checked once per formula, not once per report)."""
        return frozenset(r.path[0] for side in (self.lhs, self.rhs) for r in refs(side))

    @cached_property
    def linear(self) -> tuple[tuple[tuple[int, Any], ...], ...]:
        """Both sides as signed terms — a number, or a Ref — compiled once per formula for quick_sides()."""
        sides = []
        for side in (self.lhs, self.rhs):
            terms: list[tuple[int, Any]] = []
            _flatten(side, 1, terms)
            sides.append(tuple(terms))
        return tuple(sides)

    @cached_property
    def quick(self) -> Callable[[Mapping[str, Any]], tuple[Number, Number] | None] | None:
        """quick_sides() of a formula without globs, as one generated function (None for a glob).
        Walking each reference's path in a loop cost ~10 µs per reference, 40 formulas per report."""
        return _generate(self.linear)

    @cached_property
    def globs(self) -> dict[Ref, tuple[tuple[str, ...], str, tuple[str, ...]]] | None:
        """Each globbed reference as (the path before its glob, the glob, the path after it); None when a
        reference has two globs (such formulas are walked)."""
        out = {}
        for terms in self.linear:
            for _sign, term in terms:
                if isinstance(term, Ref) and term.globbed:
                    at = [i for i, part in enumerate(term.path) if "*" in part]
                    if len(at) > 1:
                        return None
                    out[term] = (term.path[: at[0]], term.path[at[0]], term.path[at[0] + 1 :])
        return out

    @cached_property
    def expansions(self) -> Bounded[tuple[Any, ...], Callable[[Mapping[str, Any]], tuple[Number, Number] | None]]:
        """Generated functions of a glob formula, one per set of keys its globs met (see _glob_sides); a
        season's reports share a handful of key sets."""
        return Bounded(256)


def _generate(linear: tuple[tuple[tuple[int, Any], ...], ...]) -> Callable[..., Any] | None:
    """Python source from the parsed formula: keys as repr() literals, so no text of the rules file is
    ever code. ``d['t']['r']['c']`` raises KeyError/TypeError exactly where _quick_ref() gives up. A term
    may be a tuple of references: a glob's matches, summed by sum() as _quick_ref() sums them."""
    loads: list[str] = []
    sides: list[str] = []

    def load(ref: Ref) -> str:
        loads.append(f"v{len(loads)} = d" + "".join(f"[{part!r}]" for part in ref.path))
        return f"v{len(loads) - 1}"

    for terms in linear:
        expr = "0"
        for sign, term in terms:
            op = "+" if sign > 0 else "-"
            if isinstance(term, tuple):
                expr += f" {op} sum(({''.join(load(ref) + ', ' for ref in term)}))"
            elif isinstance(term, Ref):
                if term.globbed:
                    return None
                expr += f" {op} {load(term)}"
            else:
                expr += f" {op} {float(term)!r}" if isinstance(term, float) else f" {op} {int(term)!r}"
        sides.append(expr)
    numeric = " or ".join(f"type(v{i}) not in N" for i in range(len(loads))) or "False"
    src = "\n".join(
        [
            "def quick(d, N=(int, float)):",
            "    try:",
            *(f"        {line}" for line in loads or ["pass"]),
            "    except (KeyError, TypeError):",
            "        return None",
            f"    if {numeric}:",
            "        return None",
            f"    return ({sides[0]}, {sides[1]})",
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(src, "<identity>", "exec"), namespace)
    return namespace["quick"]


def _flatten(node: Node, sign: int, out: list[tuple[int, Any]]) -> None:
    if node.op in ("num", "ref"):
        out.append((sign, node.value))
        return
    assert node.left is not None and node.right is not None
    _flatten(node.left, sign, out)
    _flatten(node.right, sign if node.op == "+" else -sign, out)


def parse_identity(text: str) -> Identity:
    """Parse ``expr = expr``."""
    if text.count("=") != 1:
        raise FormulaError(f"恒等式必须恰好包含一个“=” / an identity needs exactly one '=': {text!r}")
    left, right = text.split("=")
    lhs, rhs = _Parser(left), _Parser(right)
    ln, rn = lhs.expr(), rhs.expr()
    for p in (lhs, rhs):
        if p.peek() is not None:
            raise FormulaError(f"公式多余的部分 / trailing input {p.toks[p.i][1]!r} in {text!r}")
    return Identity(text, ln, rn)


def refs(node: Node) -> list[Ref]:
    if node.op == "ref":
        return [node.value]
    return [r for child in (node.left, node.right) if child for r in refs(child)]


@dataclass(frozen=True)
class Evaluation:
    lhs: Number | None
    rhs: Number | None
    cells: tuple[tuple[str, Any], ...]  # every cell used: (path "applications/3.1:total", value)
    missing: tuple[str, ...]  # references with no such cell (row/table not read)
    lhs_cells: tuple[tuple[str, Any], ...] = ()
    rhs_cells: tuple[tuple[str, Any], ...] = ()

    @property
    def computable(self) -> bool:
        return not self.missing and all(isinstance(v, int | float) and not isinstance(v, bool) for _, v in self.cells)

    def holds(self, tolerance: float = 0) -> bool:
        return self.lhs is not None and self.rhs is not None and abs(self.lhs - self.rhs) <= tolerance + 1e-9


def cell_path(path: tuple[str, ...]) -> str:
    """applications/3.1:total — the ``where`` style of check-json."""
    if len(path) >= 3:
        return f"{'/'.join(path[:-1])}:{path[-1]}"
    return "/".join(path)


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> Callable[[str], object]:
    return re.compile(fnmatch.translate(pattern)).match


@lru_cache(maxsize=4096)  # a table's row keys are the same in most reports: match them once per pattern
def _matching(pattern: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    match = _glob(pattern)
    return tuple(k for k in keys if match(k))


Universe = Mapping[tuple[str, ...], Sequence[str]]


def _resolve(data: Mapping[str, Any], ref: Ref, universe: Universe) -> tuple[list[tuple[str, Any]], list[str]]:
    if not ref.globbed:  # the common case: a plain walk down the dicts
        node: Any = data
        for part in ref.path:
            if not isinstance(node, Mapping) or part not in node:
                return [], [ref.cell]
            node = node[part]
        return [(ref.cell, node)], []
    level: list[tuple[tuple[str, ...], Any]] = [((), data)]
    absent: list[str] = []
    for part in ref.path:
        nxt = []
        for path, node in level:
            if not isinstance(node, Mapping):
                continue
            if "*" in part:
                match = _glob(part)
                nxt.extend(((*path, k), v) for k, v in node.items() if match(k))
                # a sum over rows that were not read would be silently short: say which are absent
                absent.extend(cell_path((*path, k)) for k in universe.get(path, ()) if match(k) and k not in node)
            elif part in node:
                nxt.append(((*path, part), node[part]))
        level = nxt
    if not level:
        return [], [cell_path(ref.path)]
    return [(cell_path(p), v) for p, v in level], absent


_NUMBER_TYPES = (int, float)


def _quick_ref(ref: Ref, data: Mapping[str, Any], universe: Callable[[], Universe]) -> Number | None:
    """A reference's value, or None when anything is unusual (absent, blank, text, a glob short of a row)."""
    if not ref.globbed:
        node: Any = data
        for part in ref.path:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                return None
        return node if type(node) in _NUMBER_TYPES else None
    level: list[tuple[tuple[str, ...], Any]] = [((), data)]
    for part in ref.path:
        nxt = []
        for path, node in level:
            if not isinstance(node, dict):
                return None
            if "*" in part:
                if any(k not in node for k in _matching(part, tuple(universe().get(path, ())))):
                    return None  # an expected row was not read: evaluate() names it
                nxt.extend(((*path, k), node[k]) for k in _matching(part, tuple(node)))
            elif part in node:
                nxt.append(((*path, part), node[part]))
            else:
                return None
        level = nxt
    if not level or any(type(v) not in _NUMBER_TYPES for _, v in level):
        return None
    return sum(v for _, v in level)


def quick_sides(
    identity: Identity, data: Mapping[str, Any], universe: Callable[[], Universe] = dict
) -> tuple[Number, Number] | None:
    """Both sides' values when every cell is present and numeric; else None, and the caller takes
    evaluate() (which also says which cells were used, for a finding's message). Most identities of most
    reports hold: this is the path they take, at a fraction of evaluate()'s cost. ``universe`` is called
    only for a glob (the rows it must find)."""
    fast = identity.quick
    if fast is not None:
        return fast(data)
    return (
        _glob_sides(identity, data, universe) if identity.globs is not None else _walk_sides(identity, data, universe)
    )


def _glob_sides(
    identity: Identity, data: Mapping[str, Any], universe: Callable[[], Universe]
) -> tuple[Number, Number] | None:
    """quick_sides() of a glob formula. What a glob matches depends only on the keys beside it and on the rows
    the universe expects there; for each such set of keys (the same in most reports) the formula is generated
    once with the glob spelled out. Walking the globs for every report cost ~60 µs a formula, seven a report."""
    met = []
    for before, _glob, _after in identity.globs.values():  # type: ignore[union-attr]
        node: Any = data
        for part in before:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return None  # where _quick_ref() gives up too
        met.append((tuple(node), tuple(universe().get(before, ()))))
    key = tuple(met)
    fn = identity.expansions.get(key)
    if fn is None:
        fn = identity.expansions.put(key, _generate_expanded(identity, key))
    return fn(data)


def _never(data: Mapping[str, Any]) -> None:
    return None


def _generate_expanded(identity: Identity, met: tuple[Any, ...]) -> Callable[..., Any]:
    """The formula with each glob replaced by the keys it matches among ``met``'s, or a function answering None
    when _quick_ref() would: an expected row absent, or a glob matching nothing."""
    spelled: dict[Ref, tuple[Ref, ...]] = {}
    for (ref, (before, glob, after)), (keys, expected) in zip(identity.globs.items(), met, strict=True):  # type: ignore[union-attr]
        matches = _matching(glob, keys)
        if not matches or any(k not in keys for k in _matching(glob, expected)):
            return _never
        spelled[ref] = tuple(Ref((*before, k, *after)) for k in matches)
    linear = tuple(
        tuple((sign, spelled.get(term, term) if isinstance(term, Ref) else term) for sign, term in terms)
        for terms in identity.linear
    )
    return _generate(linear) or _never


def _walk_sides(
    identity: Identity, data: Mapping[str, Any], universe: Callable[[], Universe] = dict
) -> tuple[Number, Number] | None:
    values = []
    for terms in identity.linear:
        total: Number = 0
        for sign, term in terms:
            if isinstance(term, Ref):
                term = _quick_ref(term, data, universe)
                if term is None:
                    return None
            total += sign * term
        values.append(total)
    return values[0], values[1]


def evaluate(identity: Identity, data: Mapping[str, Any], universe: Universe | None = None) -> Evaluation:
    """Evaluate both sides. ``universe`` lists the keys expected under a path, so globs know what is missing."""
    cells: list[tuple[str, Any]] = []
    missing: list[str] = []

    def ev(node: Node) -> Number | None:
        if node.op == "num":
            return node.value
        if node.op == "ref":
            found, miss = _resolve(data, node.value, universe or {})
            cells.extend(found)
            missing.extend(miss)
            values = [v for _, v in found]
            if miss or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                return None
            return sum(values)
        a, b = ev(node.left), ev(node.right)  # type: ignore[arg-type]
        if a is None or b is None:
            return None
        return a + b if node.op == "+" else a - b

    lhs = ev(identity.lhs)
    split = len(cells)
    rhs = ev(identity.rhs)
    return Evaluation(lhs, rhs, tuple(cells), tuple(missing), tuple(cells[:split]), tuple(cells[split:]))


def expand(template: str, each: Mapping[str, list[str]]) -> list[tuple[dict[str, str], str]]:
    """Expand {name} placeholders over the lists in ``each`` (cartesian product)."""
    combos: list[dict[str, str]] = [{}]
    for name, values in each.items():
        combos = [{**c, name: v} for c in combos for v in values]
    out = []
    for c in combos:
        text = template
        for k, v in c.items():
            text = text.replace("{" + k + "}", v)
        if re.search(r"\{[A-Za-z_]+\}", text):
            raise FormulaError(f"未定义的占位符 / undefined placeholder in {text!r}")
        out.append((c, text))
    return out
