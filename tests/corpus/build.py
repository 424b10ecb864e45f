"""Build the fixture corpus: synthetic reports with known, injected defects, plus the real ones.

    python tests/corpus/build.py        (PDF and .doc variants need LibreOffice: soffice)

Each case records the findings its injected defect must produce — derived from the injection,
not from nianbao's output — in expected.json. tests/test_corpus.py asserts every one.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from model import (  # noqa: E402
    COLS,
    Model,
    consistent,
    html_tables,
    to_docx,
    to_html,
    to_layer_text,
    to_pipe_text,
    to_xlsx,
)

FILES = HERE / "files"
SHARED = HERE.parents[2] / "shared"
Expect = list[tuple[str, str, str]]  # (severity, kind, where)


def town() -> Model:
    return consistent("示例区王集镇人民政府", 2021, "F2021", date(2022, 1, 20), seed=11)


def bureau() -> Model:
    return consistent("示例区商务局", 2020, "F2019", date(2021, 1, 18), seed=12)


def district() -> Model:
    return consistent("示例区人民政府", 2022, "F2021", date(2023, 3, 20), seed=13)


def street(year: int = 2023, seed: int = 14, carried: dict[str, int] | None = None) -> Model:
    return consistent("示例区城东街道办事处", year, "F2021", date(year + 1, 1, 25), seed=seed, carried=carried)


CASES: list[tuple[str, Callable[[Path], None], dict]] = []


def case(name: str, expect: Expect, **extra: object) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def deco(fn: Callable[[Path], None]) -> Callable[[Path], None]:
        CASES.append((name, fn, {"findings": [list(x) for x in expect], **extra}))
        return fn

    return deco


def meta(m: Model) -> dict:
    types = {"镇人民政府": "township", "街道办事处": "subdistrict", "区人民政府": "government"}
    bt = next((v for k, v in types.items() if m.body.endswith(k)), "department")
    return {"year": m.year, "format": m.fmt, "body": m.body, "body_type": bt}


# ------------------------------------------------------------------------------------------ clean
@case("clean-f2021-gbk.html", [], **meta(town()))
def _(p: Path) -> None:
    p.write_bytes(to_html(town(), charset="gbk"))


@case("clean-f2019-traditional.html", [], **meta(bureau()))
def _(p: Path) -> None:
    p.write_bytes(to_html(bureau(), traditional=True))


@case("clean-f2021-government.docx", [], **meta(district()))
def _(p: Path) -> None:
    to_docx(district(), str(p))


@case("clean-f2019-traditional.docx", [], **meta(bureau()))
def _(p: Path) -> None:
    to_docx(bureau(), str(p), traditional=True)


@case("clean-f2021-pipe-traditional.txt", [], **meta(street()))
def _(p: Path) -> None:
    p.write_bytes(to_pipe_text(street(), traditional=True))


def _single_digit_rows(m: Model) -> tuple[str, ...]:
    return tuple(k for k, r in m.applications.items() if all(isinstance(v, int) and v < 10 for v in r.values()))[:3]


@case("clean-f2021-textlayer.txt", [], **meta(town()))
def _(p: Path) -> None:
    m = town()
    p.write_bytes(to_layer_text(m, run_together=_single_digit_rows(m)))


@case("clean-f2019-textlayer.txt", [], **meta(bureau()))
def _(p: Path) -> None:
    p.write_bytes(to_layer_text(bureau()))


# ------------------------------------------------------------------------------------------ defects
@case(
    "defect-blank.html",
    [("error", "table.blank", "applications/3.2"), ("error", "table.blank", "applications/4")],
    **meta(town()),
)
def _(p: Path) -> None:
    m = town()
    m.applications["3.2"]["legal"] = None
    m.applications["4"] = dict.fromkeys(COLS)
    p.write_bytes(to_html(m))


@case(
    "defect-sum-pipe.txt",
    [("error", "table.sum", "applications/R2:3.1"), ("error", "table.sum", "applications/R3:natural")],
    **meta(bureau()),
)
def _(p: Path) -> None:
    m = bureau()
    m.applications["3.1"]["natural"] += 1  # type: ignore[operator]
    p.write_bytes(to_pipe_text(m))


@case("defect-sum-litigation.docx", [("error", "table.sum", "litigation/R4:review")], **meta(district()))
def _(p: Path) -> None:
    m = district()
    m.litigation["review.total"] += 2  # type: ignore[operator]
    to_docx(m, str(p))


@case("defect-late-meta.html", [("error", "deadline.late", "document")], **meta(town()))
def _(p: Path) -> None:
    m = town()
    m.published = date(2022, 2, 15)
    p.write_bytes(to_html(m))


@case("defect-late-signature.txt", [("error", "deadline.late", "document")], **meta(district()))
def _(p: Path) -> None:
    m = district()
    m.published = date(2023, 4, 10)
    p.write_bytes(to_pipe_text(m))


@case("defect-no-date.html", [("advisory", "deadline.unknown", "document")], **meta(town()))
def _(p: Path) -> None:
    m = town()
    m.signature = False
    p.write_bytes(to_html(m, meta_date=False))


@case("defect-section-missing.docx", [("error", "section.missing", "section/5")], **meta(town()))
def _(p: Path) -> None:
    m = town()
    m.headings[4] = None
    to_docx(m, str(p))


@case(
    "defect-heading-variant.html",
    [("advisory", "section.heading", "section/4"), ("advisory", "section.heading", "section/5")],
    **meta(bureau()),
)
def _(p: Path) -> None:
    m = bureau()
    m.headings[3] = "四、因政府信息公开工作被申请行政复议、提起行政诉讼情况"
    m.headings[4] = "五、存在的问题及改进措施"
    p.write_bytes(to_html(m))


@case(
    "defect-outdated-2022-in-f2019.html",
    [("error", "format.outdated", "document")],
    year=2022,
    format="F2019",
    body="示例区商务局",
    body_type="department",
)
def _(p: Path) -> None:
    m = consistent("示例区商务局", 2022, "F2019", date(2023, 1, 10), seed=12)
    p.write_bytes(to_html(m))


@case(
    "defect-mixed.html",
    [("warning", "format.mixed", "document")],
    year=2021,
    format="mixed",
    body="示例区王集镇人民政府",
    body_type="township",
)
def _(p: Path) -> None:
    m = town()
    old = consistent("示例区王集镇人民政府", 2021, "F2019", date(2022, 1, 20), seed=11)
    tables = html_tables(m)
    tables[2] = html_tables(old)[2]
    p.write_bytes(to_html(m, tables=tables))


@case("defect-invalid.html", [("error", "table.invalid", "applications/3.1:natural")], **meta(town()))
def _(p: Path) -> None:
    m = town()
    m.applications["3.1"]["natural"] = "/"
    p.write_bytes(to_html(m))


@case("defect-table-image.html", [("error", "table.missing", "applications")], **meta(town()))
def _(p: Path) -> None:
    m = town()
    tables = html_tables(m)
    tables[3] = '<p style="text-align:center"><img src="/images/2022/nb-table3.png" alt="表三"></p>'
    p.write_bytes(to_html(m, tables=tables))


@case(
    "defect-script-shell.html",
    [("error", "source.unreadable", "document")],
    year=2021,
    body_type="township",
    body="示例区王集镇人民政府",
    format="unknown",
)
def _(p: Path) -> None:
    p.write_bytes(
        """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="ArticleTitle" content="示例区王集镇人民政府2021年政府信息公开工作年度报告">
<meta name="PubDate" content="2022-01-20 10:00"><title>示例区王集镇人民政府2021年政府信息公开工作年度报告</title>
<script src="/static/js/app.8f3a.js"></script></head>
<body><div id="app"></div>
<script>window.__INITIAL__={api:"/api/article/detail?id=123"};</script></body></html>""".encode()
    )


@case("defect-wrong-year.txt", [("warning", "content.wrong_year", "document")], **meta(street()))
def _(p: Path) -> None:
    m = street()
    m.prose[1].insert(
        0, "本报告由示例区城东街道办事处编制。本报告中所列数据统计期限自2022年1月1日起至2022年12月31日止。"
    )
    p.write_bytes(to_pipe_text(m))


@case("defect-empty-section.html", [("warning", "content.empty_section", "section/5")], **meta(town()))
def _(p: Path) -> None:
    m = town()
    m.prose[5] = []
    p.write_bytes(to_html(m))


@case("defect-no-fee-statement.docx", [("advisory", "content.fee_statement", "section/6")], **meta(district()))
def _(p: Path) -> None:
    m = district()
    m.prose[6] = ["无。"]
    to_docx(m, str(p))


@case("defect-prose-mismatch.html", [("advisory", "content.prose_mismatch", "applications/1:total")], **meta(town()))
def _(p: Path) -> None:
    m = town()
    m.prose[1][2] = re.sub(
        r"受理政府信息公开申请(\d+)件", lambda g: f"受理政府信息公开申请{int(g.group(1)) + 7}件", m.prose[1][2]
    )
    p.write_bytes(to_html(m))


@case(
    "defect-label-and-row.html",
    [("warning", "table.label", "applications/3.3.2"), ("error", "table.row_missing", "applications/3.5.3")],
    **meta(town()),
)
def _(p: Path) -> None:
    m = town()
    m.row_labels["3.3.2"] = "2.其他法律行政止公开"
    del m.applications["3.5.3"]
    p.write_bytes(to_html(m))


# ------------------------------------------------------------------------------------------ cross-year pair
def _pair() -> tuple[Model, Model]:
    prev = street(2022, seed=21)
    cur = street(2023, seed=22, carried={c: v for c, v in prev.applications["4"].items() if c != "total"})
    for r in ("rules", "normative"):  # R7 holds: keep the stock rule quiet so the pair isolates R5
        a = cur.active[r]
        a["in_force"] = prev.active[r]["in_force"] + a["issued"] - a["repealed"]  # type: ignore[operator]
        if a["in_force"] < 0:  # type: ignore[operator]
            a["repealed"], a["in_force"] = 0, prev.active[r]["in_force"] + a["issued"]  # type: ignore[operator]
    return prev, cur


@case("pair-2022-previous.html", [], **meta(street(2022, seed=21)))
def _(p: Path) -> None:
    p.write_bytes(to_html(_pair()[0]))


@case("pair-2023-clean.html", [], previous="pair-2022-previous.html", **meta(street()))
def _(p: Path) -> None:
    _prev, cur = _pair()
    cur.prose[1] = [
        "今年以来，街道围绕群众关心关注的事项，深化基层政务公开标准化规范化建设，公开质效稳步提升。",
        f"全年共受理政府信息公开申请{cur.applications['1']['total']}件，答复{cur.applications['3.7']['total']}件。",
    ]
    cur.prose[5] = [
        "主要问题是基层公开专栏更新不够及时、解读材料偏少。明年将建立专栏月度巡检机制，并组织专题业务培训。"
    ]
    p.write_bytes(to_html(cur))


@case(
    "pair-2023-copied.html",
    [
        ("warning", "crossyear.carryover", "applications/R5:natural"),
        ("warning", "crossyear.carryover", "applications/R5:total"),
        ("warning", "content.duplicate", "section/1"),
        ("warning", "content.duplicate", "section/5"),
    ],
    previous="pair-2022-previous.html",
    **meta(street()),
)
def _(p: Path) -> None:
    _prev, cur = _pair()
    cur.applications["2"]["natural"] += 1  # type: ignore[operator]
    cur.applications["2"]["total"] += 1  # type: ignore[operator]
    cur.applications["1"]["natural"] -= 1  # type: ignore[operator]
    cur.applications["1"]["total"] -= 1  # type: ignore[operator]
    cur.prose[1][2] = re.sub(
        r"受理政府信息公开申请\d+件", f"受理政府信息公开申请{cur.applications['1']['total']}件", cur.prose[1][2]
    )
    p.write_bytes(to_html(cur))


# ------------------------------------------------------------------------------------------ stock rules (R6, R7)
def _stock_pair(fmt: str) -> tuple[Model, Model]:
    year = 2020 if fmt == "F2019" else 2023
    prev = consistent("示例区市场监督管理局", year - 1, fmt, date(year, 1, 15), seed=41)
    carried = {c: v for c, v in prev.applications["4"].items() if c != "total"}
    cur = consistent("示例区市场监督管理局", year, fmt, date(year + 1, 1, 15), seed=42, carried=carried)
    cur.prose[1] = [
        "本年度，本局聚焦市场主体关切，围绕许可审批、执法检查等事项持续深化主动公开，公开质量进一步提升。",
        f"全年受理政府信息公开申请{cur.applications['1']['total']}件，均按期答复。",
    ]
    cur.prose[5] = ["存在的问题主要是解读形式较少。下一步将围绕重点政策制作图解、视频等多种形式的解读材料。"]
    if fmt == "F2019":  # R6: 上一年项目数量 must carry last year's number plus last year's change
        for r in ("licensing", "other_services", "penalty", "enforcement", "fees"):
            cur.active[r]["previous"] = prev.active[r]["previous"] + prev.active[r]["change"]  # type: ignore[operator]
    else:  # R7: 现行有效件数 ≈ last year's + issued − repealed
        for r in ("rules", "normative"):
            a = cur.active[r]
            a["repealed"] = 0
            a["in_force"] = prev.active[r]["in_force"] + a["issued"]  # type: ignore[operator]
    return prev, cur


@case("stock-f2019-2019.html", [], year=2019, format="F2019", body="示例区市场监督管理局", body_type="department")
def _(p: Path) -> None:
    p.write_bytes(to_html(_stock_pair("F2019")[0]))


@case(
    "stock-f2019-2020-broken.html",
    [("warning", "crossyear.stock", "active/R6:licensing")],
    previous="stock-f2019-2019.html",
    year=2020,
    format="F2019",
    body="示例区市场监督管理局",
    body_type="department",
)
def _(p: Path) -> None:
    _prev, cur = _stock_pair("F2019")
    cur.active["licensing"]["previous"] += 4  # type: ignore[operator]
    p.write_bytes(to_html(cur))


@case("stock-f2021-2022.docx", [], year=2022, format="F2021", body="示例区市场监督管理局", body_type="department")
def _(p: Path) -> None:
    to_docx(_stock_pair("F2021")[0], str(p))


@case(
    "stock-f2021-2023-broken.docx",
    [("advisory", "crossyear.stock", "active/R7:normative")],
    previous="stock-f2021-2022.docx",
    year=2023,
    format="F2021",
    body="示例区市场监督管理局",
    body_type="department",
)
def _(p: Path) -> None:
    _prev, cur = _stock_pair("F2021")
    cur.active["normative"]["in_force"] += 2  # type: ignore[operator]
    to_docx(cur, str(p))


# ------------------------------------------------------------------------------------------ spreadsheets
@case("clean-f2021-sheet.xlsx", [], **meta(district()))
def _(p: Path) -> None:
    to_xlsx(district(), str(p))


# ------------------------------------------------------------------------------------------ converted (LibreOffice)
@case("clean-f2021-sheet.xls", [], **meta(district()))
def _(p: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "r.xlsx"
        to_xlsx(district(), str(src))
        _soffice(src, "xls", p)


def _soffice(src: Path, fmt: str, out: Path) -> None:
    exe = shutil.which("soffice")
    if not exe:
        raise SystemExit("soffice (LibreOffice) is needed to build the PDF/.doc fixtures")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [exe, "--headless", "--convert-to", fmt, "--outdir", tmp, str(src)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        produced = next(Path(tmp).glob("*"))
        shutil.move(str(produced), out)


@case("clean-f2021-township.pdf", [], **meta(town()))
def _(p: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "r.docx"
        to_docx(town(), str(src))
        _soffice(src, "pdf", p)


@case(
    "defect-sum-late.pdf",
    [
        ("error", "table.sum", "applications/R1:commercial"),
        ("error", "table.sum", "applications/R2:4"),
        ("error", "deadline.late", "document"),
    ],
    **meta(street()),
)
def _(p: Path) -> None:
    m = street()
    m.applications["4"]["commercial"] += 3  # type: ignore[operator]
    m.published = date(2024, 2, 6)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "r.docx"
        to_docx(m, str(src))
        _soffice(src, "pdf", p)


# antiword loses Word tables with vertical merges: tables 三/四 and the heading glued to 四 are not in its
# text, and nianbao says so (table.missing) instead of reading zeros. A known limit of the .doc route.
@case(
    "legacy-f2019.doc",
    [
        ("error", "section.missing", "section/4"),
        ("error", "table.missing", "applications"),
        ("error", "table.missing", "litigation"),
    ],
    needs="antiword",
    **meta(bureau()),
)
def _(p: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "r.docx"
        to_docx(bureau(), str(src))
        _soffice(src, "doc", p)


# ------------------------------------------------------------------------------------------ real reports
REAL = {
    "real-seed-2020.txt": (
        SHARED / "seeds" / "000_f4dd133f55a6f46e.txt",
        {
            "findings": [
                ["error", "table.blank", "applications/4"],
                ["warning", "table.label", "table2/(一):made"],
                ["warning", "table.label", "table2/(一):published"],
                ["advisory", "section.heading", "section/4"],
                ["advisory", "section.heading", "section/5"],
            ],
            "year": 2020,
            "format": "F2019",
            "body": "宿城区王官集镇人民政府",
            "body_type": "township",
        },
    ),
    "real-hongze-2023.pdf": (
        SHARED / "corpus" / "hongze-qzf-2023.pdf",
        {
            "findings": [
                ["error", "table.sum", "litigation/R4:review"],
                ["error", "table.sum", "litigation/R4:suit_after_review"],
                ["warning", "format.mixed", "applications/3.6"],
                ["warning", "table.label", "applications/3.3.2"],
                ["advisory", "deadline.unknown", "document"],
            ],
            "year": 2023,
            "format": "F2021",
            "body": "洪泽区人民政府",
            "body_type": "government",
        },
    ),
    "real-hongze-2024.pdf": (
        SHARED / "corpus" / "hongze-qzf-2024.pdf",
        {
            "findings": [
                ["warning", "format.mixed", "applications/3.6"],
                ["warning", "table.label", "applications/3.3.2"],
                ["advisory", "deadline.unknown", "document"],
                ["advisory", "content.prose_mismatch", "applications/1:total"],
            ],
            "previous": "real-hongze-2023.pdf",
            "year": 2024,
            "format": "F2021",
            "body": "淮安市洪泽区人民政府",
            "body_type": "government",
        },
    ),
    "real-template-F2021.docx": (
        SHARED / "corpus" / "template-F2021.docx",
        {
            # the blank official template: every data row blank, prose placeholders only, no year or body
            "findings": [
                ["error", "table.blank", f"active/{k}"]
                for k in ("rules", "normative", "licensing", "penalty", "enforcement", "fees")
            ]
            + [
                ["error", "table.blank", f"applications/{k}"]
                for k in (
                    "1",
                    "2",
                    "3.1",
                    "3.2",
                    *(f"3.3.{i}" for i in range(1, 9)),
                    "3.4.1",
                    "3.4.2",
                    "3.4.3",
                    *(f"3.5.{i}" for i in range(1, 6)),
                    "3.6.1",
                    "3.6.2",
                    "3.6.3",
                    "3.7",
                    "4",
                )
            ]
            + [["error", "table.blank", "litigation"]]
            + [["warning", "content.empty_section", f"section/{n}"] for n in (1, 5, 6)]
            + [["advisory", "deadline.unknown", "document"], ["advisory", "content.fee_statement", "section/6"]],
            "year": None,
            "format": "F2021",
            "body": None,
            "body_type": None,
        },
    ),
    "real-huaian-2024.pdf": (
        SHARED / "corpus" / "huaian-szf-2024.pdf",
        {
            "findings": [["advisory", "deadline.unknown", "document"]],
            "year": 2024,
            "format": "F2021",
            "body": "淮安市人民政府",
            "body_type": "government",
        },
    ),
}


def main() -> None:
    FILES.mkdir(exist_ok=True)
    expected: dict[str, dict] = {}
    for name, build, exp in CASES:
        build(FILES / name)
        expected[name] = exp
    for name, (src, exp) in REAL.items():
        shutil.copyfile(src, FILES / name)
        expected[name] = exp
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"built {len(expected)} fixtures in {FILES}")


if __name__ == "__main__":
    main()
