"""The readable Chinese summary of `nianbao check` (without --json): what a supervisor reads."""

from __future__ import annotations

import unicodedata
from typing import Any

from rules.config import RuleSet
from rules.formats import TableSpec
from rules.report import BODY_TYPE_LABELS, EVIDENCE_LABELS, Finding

_CN = "一二三四五六七八九十"
_SEV = {"error": "错误", "warning": "警告", "advisory": "提示"}


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cols: int, right: bool = False) -> str:
    """Pad to ``cols`` terminal columns (a Chinese character takes two)."""
    fill = " " * max(0, cols - width(text))
    return fill + text if right else text + fill


def _clip(text: str, cols: int) -> str:
    out = ""
    for ch in text:
        if width(out + ch) > cols:
            break
        out += ch
    return out


def _marked(findings: list[Finding]) -> set[str]:
    """Cell paths (table/row:col) that a finding points at."""
    cells: set[str] = set()
    for f in findings:
        if f.kind == "table.blank":
            table, _, row = f.where.partition("/")
            for col in f.data.get("columns", []):
                cells.add(f"{table}/{row}:{col}")
        elif f.kind == "table.invalid":
            cells.add(f.where)
        elif f.kind in ("table.sum", "crossyear.carryover", "crossyear.stock"):
            cells.update(p for p in f.data.get("cells", {}) if not p.startswith("previous"))
    return cells


def _cell(v: Any, path: str, marked: set[str]) -> str:
    text = "□" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))
    return f"{text}!" if path in marked else text


def _table_lines(key: str, spec: TableSpec, data: dict[str, Any], marked: set[str]) -> list[str]:
    lines = [f"  {spec.name} {spec.title}"]
    if spec.layout == "single_row":
        lines.append("    " + pad("", 28) + "".join(pad(c.label, 10, True) for c in spec.columns))
        for g in spec.groups:
            vals = [_cell(data.get(f"{g.key}.{c.key}"), f"{key}/{g.key}.{c.key}", marked) for c in spec.columns]
            lines.append("    " + pad(_clip(g.label, 28), 28) + "".join(pad(v, 10, True) for v in vals))
        return lines
    rows = spec.all_rows
    if spec.layout == "matrix":
        lines.append("    " + pad("", 30) + "".join(pad(c.label[:4], 9, True) for c in spec.columns))
    for r in rows:
        if r.key not in data:
            continue
        vals = [_cell(v, f"{key}/{r.key}:{c}", marked) for c, v in data[r.key].items()]
        label = _clip(r.display.split("/")[-1], 24)
        key_col = f"{r.key:<6}" if spec.layout == "matrix" else ""
        lines.append("    " + key_col + pad(label, 24 if key_col else 30) + "".join(pad(v, 9, True) for v in vals))
    return lines


def render(out: dict[str, Any], findings: list[Finding], rules: RuleSet, brief: bool = False) -> str:
    lines = [f"━━ {out.get('title') or out['source']}"]
    if out.get("error"):
        lines.append(f"  无法读取：{out['error']}")
        return "\n".join(lines)
    pub = out["published"]
    lines.append(
        f"  来源：{out['source']}（{out.get('input_kind')}）  机关：{out.get('body') or '未识别'}"
        f"（{BODY_TYPE_LABELS.get(out.get('body_type') or '', '类型未知')}）"
        f"  年度：{out.get('year') or '未识别'}  格式：{out['format']}"
    )
    when = f"{pub['date']}（{EVIDENCE_LABELS.get(pub['evidence'] or '', '')}）" if pub.get("date") else "未找到发布日期"
    lines.append(f"  发布：{when}  法定期限：{out.get('deadline') or '未知'}")
    secs = []
    for s in out.get("sections", []):
        mark = "✔" if s["found"] else "✘"
        note = "" if not s["found"] or s["exact"] else "（标题不规范）"
        secs.append(f"{mark}{_CN[s['no'] - 1]}{note}")
    lines.append("  章节：" + " ".join(secs))
    marked = _marked(findings)
    fmt = rules.formats.get((out.get("format_used") or {}).get("applications", ""))
    if not brief:
        for key, data in out.get("tables", {}).items():
            spec = rules.formats[out["format_used"][key]].tables[key] if key in out.get("format_used", {}) else None
            if spec:
                lines.extend(_table_lines(key, spec, data, marked))
        lines.append("  （□ 空白单元格，! 有问题的单元格）")
    if fmt:
        missing = [fmt.tables[k].name for k in fmt.tables if k not in out.get("tables", {})]
        if missing:
            lines.append(f"  未读到表格：{'、'.join(missing)}")
    if out.get("previous_error"):
        lines.append(f"  注意：{out['previous_error']}")
    counts = out.get("summary", {})
    lines.append(
        f"  问题：错误 {counts.get('error', 0)}，警告 {counts.get('warning', 0)}，提示 {counts.get('advisory', 0)}"
    )
    for f in findings:
        lines.append(f"   [{_SEV.get(f.severity, f.severity)}] {f.kind} @ {f.where}：{f.message}")
    if not findings:
        lines.append("   未发现问题。")
    return "\n".join(lines)


def overview(outs: list[dict[str, Any]]) -> str:
    """One line per report: the table a supervisor scans first."""
    head = (
        "  " + pad("机关", 28) + pad("年度", 6) + pad("格式", 8) + pad("发布", 12) + pad("期限", 12) + "错误 警告 提示"
    )
    lines = ["━━ 汇总", head]
    for o in outs:
        s = o.get("summary", {})
        body = o.get("body") or o["source"].rsplit("/", 1)[-1]
        if o.get("error"):
            lines.append("  " + pad(_clip(body, 26), 28) + "无法读取：" + o["error"][:40])
            continue
        lines.append(
            "  "
            + pad(_clip(body, 26), 28)
            + pad(str(o.get("year") or "?"), 6)
            + pad(o["format"], 8)
            + pad(o["published"]["date"] or "未知", 12)
            + pad(o.get("deadline") or "未知", 12)
            + f"{s.get('error', 0):>4} {s.get('warning', 0):>4} {s.get('advisory', 0):>4}"
        )
    return "\n".join(lines)
