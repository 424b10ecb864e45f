"""A synthetic 年报 as data, rendered into the shapes portals publish (HTML, DOCX, text, PDF-like text).

Used to build the fixture corpus (build.py) and by property/mutation tests. Everything is
deterministic from the seed so fixtures can be rebuilt byte-for-byte.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import date
from html import escape

import opencc

COLS = ["natural", "commercial", "research", "nonprofit", "legal", "other", "total"]
COL_LABELS = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
RESULT_ROWS = {
    "F2019": [
        "3.1",
        "3.2",
        "3.3.1",
        "3.3.2",
        "3.3.3",
        "3.3.4",
        "3.3.5",
        "3.3.6",
        "3.3.7",
        "3.3.8",
        "3.4.1",
        "3.4.2",
        "3.4.3",
        "3.5.1",
        "3.5.2",
        "3.5.3",
        "3.5.4",
        "3.5.5",
        "3.6",
    ],
    "F2021": [
        "3.1",
        "3.2",
        "3.3.1",
        "3.3.2",
        "3.3.3",
        "3.3.4",
        "3.3.5",
        "3.3.6",
        "3.3.7",
        "3.3.8",
        "3.4.1",
        "3.4.2",
        "3.4.3",
        "3.5.1",
        "3.5.2",
        "3.5.3",
        "3.5.4",
        "3.5.5",
        "3.6.1",
        "3.6.2",
        "3.6.3",
    ],
}
ROW_LABELS = {
    "1": "一、本年新收政府信息公开申请数量",
    "2": "二、上年结转政府信息公开申请数量",
    "3.1": "（一）予以公开",
    "3.2": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "3.3.1": "1.属于国家秘密",
    "3.3.2": "2.其他法律行政法规禁止公开",
    "3.3.3": "3.危及“三安全一稳定”",
    "3.3.4": "4.保护第三方合法权益",
    "3.3.5": "5.属于三类内部事务信息",
    "3.3.6": "6.属于四类过程性信息",
    "3.3.7": "7.属于行政执法案卷",
    "3.3.8": "8.属于行政查询事项",
    "3.4.1": "1.本机关不掌握相关政府信息",
    "3.4.2": "2.没有现成信息需要另行制作",
    "3.4.3": "3.补正后申请内容仍不明确",
    "3.5.1": "1.信访举报投诉类申请",
    "3.5.2": "2.重复申请",
    "3.5.3": "3.要求提供公开出版物",
    "3.5.4": "4.无正当理由大量反复申请",
    "3.5.5": "5.要求行政机关确认或重新出具已获取信息",
    "3.6": "（六）其他处理",
    "3.6.1": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "3.6.2": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "3.6.3": "3.其他",
    "3.7": "（七）总计",
    "4": "四、结转下年度继续办理",
}
GROUP_LABELS = {"3.3": "（三）不予公开", "3.4": "（四）无法提供", "3.5": "（五）不予处理", "3.6": "（六）其他处理"}
LIT_GROUPS = ["review", "suit_direct", "suit_after_review"]
LIT_COLS = ["upheld", "corrected", "other", "pending", "total"]
LIT_LABELS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]

ACTIVE = {
    "F2019": [
        (
            "第二十条第（一）项",
            ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
            [("rules", "规章"), ("normative", "规范性文件")],
            ["made", "published", "total"],
        ),
        (
            "第二十条第（五）项",
            ["上一年项目数量", "本年增/减", "处理决定数量"],
            [("licensing", "行政许可"), ("other_services", "其他对外管理服务事项")],
            ["previous", "change", "decisions"],
        ),
        (
            "第二十条第（六）项",
            ["上一年项目数量", "本年增/减", "处理决定数量"],
            [("penalty", "行政处罚"), ("enforcement", "行政强制")],
            ["previous", "change", "decisions"],
        ),
        ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], [("fees", "行政事业性收费")], ["previous", "change"]),
        ("第二十条第（九）项", ["采购项目数量", "采购总金额"], [("procurement", "政府集中采购")], ["count", "amount"]),
    ],
    "F2021": [
        (
            "第二十条第（一）项",
            ["本年制发件数", "本年废止件数", "现行有效件数"],
            [("rules", "规章"), ("normative", "行政规范性文件")],
            ["issued", "repealed", "in_force"],
        ),
        ("第二十条第（五）项", ["本年处理决定数量"], [("licensing", "行政许可")], ["decisions"]),
        (
            "第二十条第（六）项",
            ["本年处理决定数量"],
            [("penalty", "行政处罚"), ("enforcement", "行政强制")],
            ["decisions"],
        ),
        ("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("fees", "行政事业性收费")], ["amount"]),
    ],
}
HEADINGS = [
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
]
NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"

Cell = int | float | str | None


@dataclass
class Model:
    body: str
    year: int
    fmt: str
    published: date | None
    seed: int = 1
    active: dict[str, dict[str, Cell]] = field(default_factory=dict)
    applications: dict[str, dict[str, Cell]] = field(default_factory=dict)
    litigation: dict[str, Cell] = field(default_factory=dict)
    headings: list[str | None] = field(default_factory=lambda: list(HEADINGS))
    prose: dict[int, list[str]] = field(default_factory=dict)
    row_labels: dict[str, str] = field(default_factory=lambda: dict(ROW_LABELS))
    signature: bool = True

    def copy(self) -> Model:
        return copy.deepcopy(self)


def consistent(
    body: str, year: int, fmt: str, published: date | None, seed: int = 1, carried: dict[str, int] | None = None
) -> Model:
    """A report whose tables satisfy R1–R4 (and whose prose quotes the right totals)."""
    rnd = random.Random(seed)
    m = Model(body, year, fmt, published, seed)
    apps: dict[str, dict[str, Cell]] = {}
    applicant = COLS[:-1]
    for r in RESULT_ROWS[fmt]:
        apps[r] = {
            c: (
                rnd.choice([0, 0, 0, 1, 2, 3, 5, 12]) if c in ("natural", "commercial") else rnd.choice([0, 0, 0, 0, 1])
            )
            for c in applicant
        }
    apps["3.7"] = {c: sum(apps[r][c] for r in RESULT_ROWS[fmt]) for c in applicant}  # type: ignore[misc]
    apps["2"] = {c: (carried or {}).get(c, rnd.choice([0, 0, 1, 2])) for c in applicant}
    apps["4"] = {c: rnd.choice([0, 0, 1, 3]) for c in applicant}
    apps["1"] = {c: max(0, apps["3.7"][c] + apps["4"][c] - apps["2"][c]) for c in applicant}  # type: ignore[operator]
    for c in applicant:  # keep R1 exact when max() clipped: move the excess into carried-over
        diff = apps["1"][c] + apps["2"][c] - apps["3.7"][c] - apps["4"][c]  # type: ignore[operator]
        apps["4"][c] += diff  # type: ignore[operator]
    for r in apps:
        apps[r]["total"] = sum(apps[r][c] for c in applicant)  # type: ignore[misc]
    m.applications = {k: apps[k] for k in ["1", "2", *RESULT_ROWS[fmt], "3.7", "4"]}
    lit: dict[str, Cell] = {}
    for g in LIT_GROUPS:
        vals = [rnd.choice([0, 0, 1, 2]) for _ in range(4)]
        lit.update({f"{g}.{c}": v for c, v in zip(LIT_COLS[:4], vals, strict=True)})
        lit[f"{g}.total"] = sum(vals)
    m.litigation = lit
    active: dict[str, dict[str, Cell]] = {}
    for _h, _cols, rows, keys in ACTIVE[fmt]:
        for key, _label in rows:
            active[key] = {k: rnd.randint(0, 40) for k in keys}
    if fmt == "F2021":
        active["fees"]["amount"] = round(rnd.uniform(0, 50), 2)
    else:
        active["procurement"]["amount"] = f"{rnd.randint(1, 90) * 10000}元"
        for key in ("licensing", "other_services", "penalty", "enforcement", "fees"):
            active[key]["change"] = rnd.randint(-3, 5)
    m.active = active
    total_new = m.applications["1"]["total"]
    done = m.applications["3.7"]["total"]
    m.prose = {
        1: [
            f"{year}年，{body}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
            f"围绕中心工作，扎实推进政府信息公开工作，不断提升公开质量和实效。",
            f"（一）主动公开情况。全年通过政府门户网站主动公开各类政府信息{rnd.randint(80, 900)}条，"
            f"发布政策解读{rnd.randint(3, 30)}篇，及时回应社会关切。",
            f"（二）依申请公开情况。{year}年共受理政府信息公开申请{total_new}件，答复{done}件，均在法定期限内予以答复。",
            "（三）政府信息管理情况。严格落实信息发布审核制度，坚持先审后发，确保信息准确规范。",
            "（四）平台建设情况。持续优化政府网站信息公开专栏，加强政务新媒体日常管理。",
            "（五）监督保障情况。将政务公开工作纳入年度考核，定期开展自查和培训。",
        ],
        5: [
            f"{year}年，我单位政府信息公开工作取得一定成效，但仍存在一些不足：一是公开内容的深度和广度有待拓展；"
            "二是政策解读形式较为单一。下一步，将进一步完善公开目录，丰富解读形式，加强队伍建设。"
        ],
        6: ([f"{year}年，本机关未收取政府信息公开信息处理费。"] if fmt == "F2021" else ["无。"]),
    }
    return m


# ------------------------------------------------------------------------------------------ rendering
def _v(v: Cell) -> str:
    return "" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


def _tc(text: str, traditional: bool) -> str:
    return opencc.OpenCC("s2t").convert(text) if traditional else text


def title(m: Model) -> str:
    return f"{m.body}{m.year}年政府信息公开工作年度报告"


def html_tables(m: Model, nbsp_blanks: bool = True) -> dict[int, str]:
    """Section number → the table HTML, with rowspan/colspan as the official template has them."""
    blank = "&nbsp;" if nbsp_blanks else ""

    def td(v: Cell) -> str:
        return f"<td><span>{escape(_v(v))}</span></td>" if v is not None else f"<td>{blank}</td>"

    # table 二
    rows = []
    for header, cols, body_rows, keys in ACTIVE[m.fmt]:
        rows.append(f'<tr><td colspan="4"><b>{header}</b></td></tr>')
        span = 3 - len(cols)
        head_cells = "".join(f"<td>{c}</td>" for c in cols[:-1]) + f'<td colspan="{1 + span}">{cols[-1]}</td>'
        rows.append(f"<tr><td>信息内容</td>{head_cells}</tr>")
        for key, label in body_rows:
            vals = m.active.get(key, {})
            cells = "".join(td(vals.get(k)) for k in keys[:-1])
            last = vals.get(keys[-1])
            cells += f'<td colspan="{1 + span}">{escape(_v(last)) if last is not None else blank}</td>'
            rows.append(f"<tr><td>{label}</td>{cells}</tr>")
    t2 = '<table border="1">' + "".join(rows) + "</table>"
    # table 三
    fmt_rows = RESULT_ROWS[m.fmt]
    rows = [
        f'<tr><td rowspan="3" colspan="3">{NOTE}</td><td colspan="7">申请人情况</td></tr>',
        '<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>',
        "<tr>"
        + "".join(f"<td>{x}</td>" for x in ["商业<br/>企业", "科研<br/>机构", "社会公益组织", "法律服务机构", "其他"])
        + "</tr>",
    ]

    def data(key: str) -> str:
        return "".join(td(m.applications[key].get(c)) for c in COLS) if key in m.applications else ""

    for key in ("1", "2"):
        if key in m.applications:
            rows.append(f'<tr><td colspan="3">{m.row_labels[key]}</td>{data(key)}</tr>')
    result_keys = [k for k in [*fmt_rows, "3.7"] if k in m.applications]
    first = True
    groups_done: set[str] = set()
    for key in result_keys:
        lead = f'<td rowspan="{len(result_keys)}">三、本年度办理结果</td>' if first else ""
        first = False
        group = key.rsplit(".", 1)[0] if key.count(".") == 2 else None
        if group and group not in groups_done:
            n = sum(1 for k in result_keys if k.startswith(group + "."))
            groups_done.add(group)
            rows.append(
                f'<tr>{lead}<td rowspan="{n}">{GROUP_LABELS[group]}</td><td>{m.row_labels[key]}</td>{data(key)}</tr>'
            )
        elif group:
            rows.append(f"<tr>{lead}<td>{m.row_labels[key]}</td>{data(key)}</tr>")
        else:
            rows.append(f'<tr>{lead}<td colspan="2">{m.row_labels[key]}</td>{data(key)}</tr>')
    if "4" in m.applications:
        rows.append(f'<tr><td colspan="3">{m.row_labels["4"]}</td>{data("4")}</tr>')
    t3 = '<table border="1" cellspacing="0">' + "".join(rows) + "</table>"
    # table 四
    rows = [
        '<tr><td colspan="5">行政复议</td><td colspan="10">行政诉讼</td></tr>',
        "<tr>"
        + "".join(f'<td rowspan="2">{x}</td>' for x in LIT_LABELS)
        + '<td colspan="5">未经复议直接起诉</td><td colspan="5">复议后起诉</td></tr>',
        "<tr>" + "".join(f"<td>{x}</td>" for x in LIT_LABELS * 2) + "</tr>",
        "<tr>" + "".join(td(m.litigation.get(f"{g}.{c}")) for g in LIT_GROUPS for c in LIT_COLS) + "</tr>",
    ]
    t4 = '<table border="1">' + "".join(rows) + "</table>"
    return {2: t2, 3: t3, 4: t4}


def to_html(
    m: Model,
    *,
    traditional: bool = False,
    charset: str = "utf-8",
    meta_date: bool = True,
    tables: dict[int, str] | None = None,
    extra_head: str = "",
) -> bytes:
    tables = html_tables(m) if tables is None else tables
    parts = [f"<h1>{escape(title(m))}</h1>"]
    for no, heading in enumerate(m.headings, start=1):
        if heading is None:
            continue
        parts.append(f"<p><strong>{heading}</strong></p>")
        for para in m.prose.get(no, []):
            parts.append(f"<p>&nbsp;&nbsp;{escape(para)}</p>")
        if no in tables:
            parts.append(tables[no])
    if m.signature:
        parts.append(f'<p style="text-align:right">{m.body}</p>')
        if m.published:
            parts.append(
                f'<p style="text-align:right">{m.published.year}年{m.published.month}月{m.published.day}日</p>'
            )
    body = "\n".join(parts)
    pub = f'<meta name="PubDate" content="{m.published.isoformat()} 09:30">' if meta_date and m.published else ""
    html = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="SiteName" content="示例区人民政府"><meta name="ColumnName" content="政府信息公开年报">
<meta name="ArticleTitle" content="{escape(title(m))}">{pub}{extra_head}
<title>{escape(title(m))}_示例区人民政府</title></head>
<body><div class="header">示例区人民政府 首页 &gt; 信息公开 &gt; 年报</div>
<div id="zoom">{body}</div><div class="footer">主办单位：示例区人民政府办公室</div></body></html>"""
    html = _tc(html, traditional)
    return html.encode("gb18030" if charset.lower() in ("gbk", "gb2312", "gb18030") else charset)


def to_pipe_text(m: Model, traditional: bool = False) -> bytes:
    """The flattened shape of the seed: every cell followed by a | line, rows ending in empty cells."""
    out = [m.body, f"{m.year}年政府信息公开工作年度报告"]

    def cells(values: list[Cell]) -> list[str]:
        return [f"{_v(v)}\n|" if v is not None else "|" for v in values]

    for no, heading in enumerate(m.headings, start=1):
        if heading is not None:
            out.append(heading)
        out.extend(m.prose.get(no, []))
        if no == 2:
            for header, cols, body_rows, keys in ACTIVE[m.fmt]:
                out += [header, "|", "||||", "信息内容", "|"] + [f"{c}\n|" for c in cols] + ["|"]
                for key, label in body_rows:
                    out += [label, "|", *cells([m.active[key].get(k) for k in keys]), "|"]
        if no == 3:
            out += [NOTE, "|", "申请人情况", "|", "||||||||"] + [
                f"{c}\n|" for c in ["自然人", "法人或其他组织", "总计"]
            ]
            out += ["|||||||"] + [f"{c}\n|" for c in COL_LABELS[1:6]] + ["|||||"]
            for key, row in m.applications.items():
                group = key.rsplit(".", 1)[0] if key.count(".") == 2 else None
                if group and key.endswith(".1"):
                    out += [GROUP_LABELS[group], "|"]
                out += [m.row_labels[key], "|", *cells([row.get(c) for c in COLS]), "||"]
        if no == 4:
            out += ["行政复议", "|", "行政诉讼", "|", "|||||||||||||"] + [f"{x}\n|" for x in LIT_LABELS]
            out += (
                ["未经复议直接起诉\n|", "复议后起诉\n|", "||||||||"] + [f"{x}\n|" for x in LIT_LABELS * 2] + ["|||||"]
            )
            out += cells([m.litigation.get(f"{g}.{c}") for g in LIT_GROUPS for c in LIT_COLS])
    if m.signature:
        out.append(m.body)
        if m.published:
            out.append(f"{m.published.year}年{m.published.month}月{m.published.day}日")
    return _tc("\n".join(out) + "\n", traditional).encode("utf-8")


def to_layer_text(m: Model, run_together: tuple[str, ...] = ()) -> bytes:
    """What a PDF text layer gives: label and numbers on one line, some rows' digits run together."""
    out = [m.body, f"{m.year}年政府信息公开工作年度报告"]
    for no, heading in enumerate(m.headings, start=1):
        if heading is not None:
            out.append(heading)
        out.extend(m.prose.get(no, []))
        if no == 2:
            for header, cols, body_rows, keys in ACTIVE[m.fmt]:
                out.append(header)
                out.append("信息内容 " + " ".join(cols))
                for key, label in body_rows:
                    out.append(label + " " + " ".join(_v(m.active[key].get(k)) for k in keys))
        if no == 3:
            out += [
                "申请人情况",
                NOTE,
                "自然人 法人或其他组织 总计",
                "商业企业 科研机构 社会公益组织 法律服务机构 其他",
            ]
            for key, row in m.applications.items():
                vals = [_v(row.get(c)) for c in COLS]
                sep = "" if key in run_together else " "
                out.append(f"{m.row_labels[key]} {sep.join(vals)}")
        if no == 4:
            out += ["行政复议 行政诉讼", "未经复议直接起诉 复议后起诉", " ".join(LIT_LABELS * 3)]
            out.append(" ".join(_v(m.litigation.get(f"{g}.{c}")) for g in LIT_GROUPS for c in LIT_COLS))
    if m.signature:
        out.append(m.body)
        if m.published:
            out.append(f"{m.published.year}年{m.published.month}月{m.published.day}日")
    return ("\n".join(out) + "\n").encode("utf-8")


def to_docx(m: Model, path: str, traditional: bool = False) -> None:
    import docx

    d = docx.Document()

    def para(text: str) -> None:
        d.add_paragraph(_tc(text, traditional))

    def grid(rows: list[list[tuple[str, int, int]]], width: int) -> None:
        """rows of (text, rowspan, colspan) → a Word table with merged cells."""
        from scrapers.extract.grid import expand

        n = len(rows)
        t = d.add_table(rows=n, cols=width)
        t.style = "Table Grid"
        placed = expand([[(txt, rs, cs) for txt, rs, cs in r] for r in rows])
        origin: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        occupied: set[tuple[int, int]] = set()
        for r, row in enumerate(rows):
            c = 0
            for _txt, rs, cs in row:
                while (r, c) in occupied:
                    c += 1
                origin[(r, c)] = (r, c, rs, cs)
                for dr in range(rs):
                    for dc in range(cs):
                        occupied.add((r + dr, c + dc))
                c += cs
        for (r, c), (_, _, rs, cs) in origin.items():
            cell = t.cell(r, c)
            if rs > 1 or cs > 1:
                cell = cell.merge(t.cell(r + rs - 1, c + cs - 1))
            cell.text = _tc(placed[r][c] or "", traditional)

    para(title(m))
    for no, heading in enumerate(m.headings, start=1):
        if heading is not None:
            para(heading)
        for p in m.prose.get(no, []):
            para(p)
        if no == 2:
            rows: list[list[tuple[str, int, int]]] = []
            for header, cols, body_rows, keys in ACTIVE[m.fmt]:
                span = 3 - len(cols)
                rows.append([(header, 1, 4)])
                rows.append([("信息内容", 1, 1), *[(c, 1, 1) for c in cols[:-1]], (cols[-1], 1, 1 + span)])
                for key, label in body_rows:
                    vals = [_v(m.active[key].get(k)) for k in keys]
                    rows.append([(label, 1, 1), *[(v, 1, 1) for v in vals[:-1]], (vals[-1], 1, 1 + span)])
            grid(rows, 4)
        if no == 3:
            keys = list(m.applications)
            results = [k for k in keys if k.startswith("3.")]
            rows = [
                [(NOTE, 3, 3), ("申请人情况", 1, 7)],
                [("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)],
                [(x, 1, 1) for x in COL_LABELS[1:6]],
            ]
            done: set[str] = set()
            for i, key in enumerate(keys):
                vals = [(_v(m.applications[key].get(c)), 1, 1) for c in COLS]
                if key in ("1", "2", "4"):
                    rows.append([(m.row_labels[key], 1, 3), *vals])
                    continue
                lead = [("三、本年度办理结果", len(results), 1)] if key == results[0] else []
                group = key.rsplit(".", 1)[0] if key.count(".") == 2 else None
                if group and group not in done:
                    done.add(group)
                    n = sum(1 for k in results if k.startswith(group + "."))
                    rows.append([*lead, (GROUP_LABELS[group], n, 1), (m.row_labels[key], 1, 1), *vals])
                elif group:
                    rows.append([(m.row_labels[key], 1, 1), *vals])
                else:
                    rows.append([*lead, (m.row_labels[key], 1, 2), *vals])
                _ = i
            grid(rows, 10)
        if no == 4:
            rows = [
                [("行政复议", 1, 5), ("行政诉讼", 1, 10)],
                [*[(x, 2, 1) for x in LIT_LABELS], ("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
                [(x, 1, 1) for x in LIT_LABELS * 2],
                [(_v(m.litigation.get(f"{g}.{c}")), 1, 1) for g in LIT_GROUPS for c in LIT_COLS],
            ]
            grid(rows, 15)
    if m.signature:
        para(m.body)
        if m.published:
            para(f"{m.published.year}年{m.published.month}月{m.published.day}日")
    d.save(path)


def sheet_rows(m: Model) -> list[list[Cell]]:
    """The whole report as spreadsheet rows: title, headings and prose in column A, tables as cells."""
    rows: list[list[Cell]] = [[title(m)]]
    for no, heading in enumerate(m.headings, start=1):
        if heading is not None:
            rows.append([heading])
        rows.extend([p] for p in m.prose.get(no, []))
        if no == 2:
            for header, cols, body_rows, keys in ACTIVE[m.fmt]:
                rows.append([header])
                rows.append(["信息内容", *cols])
                rows.extend([label, *(m.active[key].get(k) for k in keys)] for key, label in body_rows)
        if no == 3:
            rows.append([NOTE, None, None, "申请人情况"])
            rows.append([None, None, None, "自然人", "法人或其他组织", None, None, None, None, "总计"])
            rows.append([None, None, None, None, *COL_LABELS[1:6]])
            for key, row in m.applications.items():
                group = key.rsplit(".", 1)[0] if key.count(".") == 2 else None
                lead = ["三、本年度办理结果" if key.startswith("3.") else None, GROUP_LABELS.get(group or "")]
                rows.append([*lead, m.row_labels[key], *(row.get(c) for c in COLS)])
        if no == 4:
            rows.append(["行政复议", None, None, None, None, "行政诉讼"])
            rows.append([*LIT_LABELS, "未经复议直接起诉", None, None, None, None, "复议后起诉"])
            rows.append([None] * 5 + LIT_LABELS * 2)
            rows.append([m.litigation.get(f"{g}.{c}") for g in LIT_GROUPS for c in LIT_COLS])
    if m.signature:
        rows.append([m.body])
        if m.published:
            rows.append([f"{m.published.year}年{m.published.month}月{m.published.day}日"])
    return rows


def to_xlsx(m: Model, path: str) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in sheet_rows(m):
        ws.append(list(row))
    wb.save(path)
