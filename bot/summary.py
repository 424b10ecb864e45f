"""The readable Chinese summary of `nianbao check` (without --json): what a supervisor reads."""

from __future__ import annotations

from typing import Any

from rules.config import RuleSet
from rules.formats import TableSpec
from rules.report import Finding

_CN = "一二三四五六七八九十"
_SEV = {"error": "错误", "warning": "警告", "advisory": "提示"}
_TYPE = {"department": "部门", "government": "人民政府", "township": "乡镇", "subdistrict": "街道"}
_EVIDENCE = {"meta": "页面元数据", "page": "页面发布日期", "list": "列表日期", "first_seen": "首次发现",
             "url": "网址日期", "signature": "落款日期", "given": "人工指定"}


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
        for g in spec.groups:
            vals = [_cell(data.get(f"{g.key}.{c.key}"), f"{key}/{g.key}.{c.key}", marked) for c in spec.columns]
            lines.append(f"    {g.label:<16}" + " ".join(f"{v:>6}" for v in vals))
        return lines
    rows = spec.rows if spec.layout == "matrix" else tuple(r for b in spec.blocks for r in b.rows)
    if spec.layout == "matrix":
        lines.append("    " + " " * 22 + " ".join(f"{c.label[:4]:>6}" for c in spec.columns))
    for r in rows:
        if r.key not in data:
            continue
        vals = [_cell(v, f"{key}/{r.key}:{c}", marked) for c, v in data[r.key].items()]
        label = r.display.split("/")[-1][:12]
        lines.append(f"    {r.key:<6}{label:<16}" + " ".join(f"{v:>6}" for v in vals))
    return lines


def render(out: dict[str, Any], findings: list[Finding], rules: RuleSet) -> str:
    lines = [f"━━ {out.get('title') or out['source']}"]
    if out.get("error"):
        lines.append(f"  无法读取：{out['error']}")
        return "\n".join(lines)
    pub = out["published"]
    lines.append(f"  来源：{out['source']}（{out.get('input_kind')}）  机关：{out.get('body') or '未识别'}"
                 f"（{_TYPE.get(out.get('body_type') or '', '类型未知')}）  年度：{out.get('year') or '未识别'}  格式：{out['format']}")
    when = f"{pub['date']}（{_EVIDENCE.get(pub['evidence'] or '', '')}）" if pub.get("date") else "未找到发布日期"
    lines.append(f"  发布：{when}  法定期限：{out.get('deadline') or '未知'}")
    secs = []
    for s in out.get("sections", []):
        mark = "✔" if s["found"] else "✘"
        note = "" if not s["found"] or s["exact"] else "（标题不规范）"
        secs.append(f"{mark}{_CN[s['no'] - 1]}{note}")
    lines.append("  章节：" + " ".join(secs))
    marked = _marked(findings)
    fmt = rules.formats.get((out.get("format_used") or {}).get("applications", ""))
    for key, data in out.get("tables", {}).items():
        spec = rules.formats[out["format_used"][key]].tables[key] if key in out.get("format_used", {}) else None
        if spec:
            lines.extend(_table_lines(key, spec, data, marked))
    if fmt:
        missing = [fmt.tables[k].name for k in fmt.tables if k not in out.get("tables", {})]
        if missing:
            lines.append(f"  未读到表格：{'、'.join(missing)}")
    lines.append("  （□ 空白单元格，! 有问题的单元格）")
    counts = out.get("summary", {})
    lines.append(f"  问题：错误 {counts.get('error', 0)}，警告 {counts.get('warning', 0)}，提示 {counts.get('advisory', 0)}")
    for f in findings:
        lines.append(f"   [{_SEV.get(f.severity, f.severity)}] {f.kind} @ {f.where}：{f.message}")
    if not findings:
        lines.append("   未发现问题。")
    return "\n".join(lines)
