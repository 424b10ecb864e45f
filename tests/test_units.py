"""Pure-unit seams: formulas, values, charsets, dates, normalisation, alignment, config validation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rules.config import RulesError, load_rules
from rules.expr import FormulaError, evaluate, expand, parse_identity
from rules.formats import BUNDLED, FormatError, load_format
from rules.normalize import norm, strip_numbering
from rules.read.align import align, similarity
from rules.read.values import parse_value, split_numbers, split_run_together
from scrapers.charset import decode
from scrapers.dates import date_in_url, labelled_page_date, parse_date
from scrapers.extract import extract, sniff
from scrapers.extract.grid import expand as expand_grid


def test_formula_evaluation_with_globs_and_missing_cells() -> None:
    ident = parse_identity('t."3".x = t."1".x + sum(t."2.*".x) - 1')
    data = {"t": {"3": {"x": 5}, "1": {"x": 2}, "2.1": {"x": 3}, "2.2": {"x": 1}}}
    ev = evaluate(ident, data)
    assert ev.computable and ev.holds() and (ev.lhs, ev.rhs) == (5, 5)
    assert [p for p, _ in ev.rhs_cells] == ["t/1:x", "t/2.1:x", "t/2.2:x"]
    ev = evaluate(ident, data, {("t",): ["1", "2.1", "2.2", "2.3", "3"]})
    assert not ev.computable and ev.missing == ("t/2.3",)  # a glob over a row not read is not computed
    data["t"]["1"]["x"] = None
    assert not evaluate(ident, data).computable  # blanks are skipped, never read as 0


@pytest.mark.parametrize(
    "bad",
    [
        "a.b = ",
        "a.b == c",
        "__import__('os').system('x') = 1",
        'a.b = c."*"',
        "a.b = (c.d",
        "a.b = c.d )",
        "lambda: 1 = 2",
        "a.b = c.d; x",
    ],
)
def test_unsafe_or_broken_formulas_are_refused(bad: str) -> None:
    with pytest.raises(FormulaError):
        parse_identity(bad)


def test_placeholders_expand_and_undefined_ones_fail() -> None:
    out = expand("t.{r}.x = 1", {"r": ["a", "b"]})
    assert [text for _, text in out] == ["t.a.x = 1", "t.b.x = 1"]
    with pytest.raises(FormulaError):
        expand("t.{q}.x = 1", {"r": ["a"]})


def test_values_keep_blank_zero_and_slash_apart() -> None:
    assert [parse_value(x) for x in [None, "", " ", "0", "０", "/", "1,234", "251000元", "7.5", "-3", "无"]] == [
        None,
        None,
        None,
        0,
        0,
        "/",
        1234,
        251000,
        7.5,
        -3,
        "无",
    ]


def test_text_layer_lines_split_into_label_and_numbers() -> None:
    assert split_numbers("三、 2.其他法律行政法规禁止公开 0 0 0 0 0 0 0") == (
        "三、 2.其他法律行政法规禁止公开",
        ["0"] * 7,
    )
    assert split_numbers("行政事业性收费 96171.6") == ("行政事业性收费", ["96171.6"])
    assert split_numbers("第二十条 第（一）项") == ("第二十条 第（一）项", [])
    assert split_run_together(["1001002"], 7, True) == ["1", "0", "0", "1", "0", "0", "2"]
    assert split_run_together(["112110015"], 7, True) is None  # 1,12,… and 11,2,… both add up: refuse to guess


def test_gb_family_is_decoded_as_gb18030() -> None:
    text = "朱镕基 王喆 李堃 政府信息公开"
    raw = text.encode("gb18030")
    assert decode(raw, "text/html; charset=gb2312")[0] == text
    page = b'<html><head><meta charset="gbk"></head><body>' + raw + b"</body></html>"
    assert text in decode(page)[0]
    assert decode(raw)[0] == text  # no label at all: detection
    assert decode(text.encode("utf-8"), "text/html; charset=gbk")[0] == text  # a wrong label is not trusted


def test_dates() -> None:
    assert parse_date("2021年1月25日") == date(2021, 1, 25)
    assert parse_date("二〇二一年一月二十五日") == date(2021, 1, 25)
    assert parse_date("2025/01/20 10:30") == date(2025, 1, 20)
    assert date_in_url("http://x.gov.cn/zfxxgk/202501/t20250123_123.html") == date(2025, 1, 23)
    assert date_in_url("http://x.gov.cn/art/2025/1/16/art_1_2.html") == date(2025, 1, 16)
    assert labelled_page_date("索引号：1 发布日期：2024-01-15 公开方式：主动")[0] == date(2024, 1, 15)


def test_normalisation() -> None:
    assert norm("第二十條第（一）項") == "第二十条第(一)项"
    assert norm("１、申請人 無正當理由") == "1.申请人无正当理由"
    assert strip_numbering(norm("（三）不予公開")) == "不予公开"


def test_similarity_and_ordered_alignment() -> None:
    assert similarity("本年新", "本年新制作数量") == 0.9
    assert similarity("其他法律行政止公开", "其他法律行政法规禁止公开") > 0.8
    pairs = align(["其他", "予以公开", "总计", "其他"], ["予以公开", "其他", "总计"], similarity)
    assert [(i, j) for i, j, _ in pairs] == [(1, 0), (2, 2)] or [(i, j) for i, j, _ in pairs] == [(1, 0), (3, 1)]


def test_span_grid_expansion() -> None:
    grid = expand_grid([[("A", 2, 1), ("B", 1, 2)], [("C", 1, 1), ("D", 1, 1)]])
    assert grid == [["A", "B", "B"], ["A", "C", "D"]]


def test_an_html_table_is_read_row_by_row_in_document_order_whatever_wraps_its_rows() -> None:
    """Rows straight under <table> and inside thead/tbody/tfoot, in document order; th and td alike; comments,
    and captions are not cells; spans expanded; a cell's markup flattened."""
    html = (
        "<html><body><table><caption>表一</caption><thead><tr><th>项目</th><th colspan='2'>数量</th><th>备注</th></tr>"
        "</thead><tr><td rowspan='2'>申请</td><!-- 注释 --><td>1</td><td> 2 </td><td><span>甲</span></td></tr>"
        "<tbody><tr><td>3</td><td>4<br/>5</td><td>&nbsp;</td></tr></tbody>"
        "<tfoot><tr><td>合计</td><td>4</td><td>6</td><td><b>x</b></td></tr></tfoot>"
        "</table></body></html>"
    )
    doc = extract(html.encode(), "t.html", "text/html; charset=utf-8")
    table = next(t for t in doc.tables if t.rows[0][0] == "项目")
    assert [list(r) for r in table.rows] == [
        ["项目", "数量", "数量", "备注"],
        ["申请", "1", "2", "甲"],
        ["申请", "3", "45", None],  # 商业<br/>企业 is one label: a line break inside a cell joins
        ["合计", "4", "6", "x"],
    ]


def test_sniffing_ignores_misleading_names() -> None:
    assert sniff(b"%PDF-1.7 ...", "report.html") == "pdf"
    assert sniff(b"<html><body>x</body></html>", "download.do") == "html"
    assert sniff("一、总体情况".encode(), "a") == "text"
    assert extract(b"   \n ", "x.txt").unreadable


def test_format_file_errors_name_the_problem(tmp_path: Path) -> None:
    text = (BUNDLED / "F2021.toml").read_text(encoding="utf-8")
    bad = tmp_path / "F2021.toml"
    bad.write_text(text.replace('layout = "matrix"', 'layout = "matrix"\ncolour = "red"'), encoding="utf-8")
    with pytest.raises(FormatError, match="colour"):
        load_format(bad)
    bad.write_text(text.replace('applications."1".{c} +', 'applications."1".{c} + +'), encoding="utf-8")
    with pytest.raises(FormatError, match="R1"):
        load_format(bad)


def test_rules_errors(tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text('[checks.no-such-check]\nseverity = "error"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="no-such-check"):
        load_rules(tmp_path)
    (tmp_path / "rules.toml").write_text('[deadlines]\ntownship = "13-45"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="MM-DD"):
        load_rules(tmp_path)
    (tmp_path / "rules.toml").write_text('[checks.duplicate-prose]\nthreshold = "high"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="float"):
        load_rules(tmp_path)
    (tmp_path / "rules.toml").write_text("[checks\n", encoding="utf-8")
    with pytest.raises(RulesError, match="TOML"):
        load_rules(tmp_path)


def test_deadlines_by_body_type_and_legacy_years() -> None:
    rules = load_rules()
    assert rules.deadline(2023, "department") == date(2024, 1, 31)
    assert rules.deadline(2023, "township") == date(2024, 1, 31)
    assert rules.deadline(2023, "government") == date(2024, 3, 31)
    assert rules.deadline(2018, "department") == date(2019, 3, 31)
    assert rules.format_for_year(2020) == "F2019" and rules.format_for_year(2021) == "F2021"


def test_format_years_come_from_rules_toml(tmp_path: Path) -> None:
    """Moving F2021's start year in rules.toml changes which format a year requires, with no code edit."""
    from rules.config import BUNDLED
    from tests.conftest import FILES
    from tests.helpers import check_bytes

    text = BUNDLED.read_text(encoding="utf-8").replace("F2021 = { from = 2021 }", "F2021 = { from = 2022 }")
    (tmp_path / "rules.toml").write_text(text, encoding="utf-8")
    rules = load_rules(tmp_path)
    assert rules.format_for_year(2021) == "F2019" and rules.format_for_year(2017) is None
    _r, findings = check_bytes((FILES / "clean-f2021-gbk.html").read_bytes(), "r.html", rules)
    assert [(f.kind, f.data["required"]) for f in findings] == [("format.outdated", "F2019")]


def test_align_memo_reuses_a_sequence_and_never_mixes_up_expected_items() -> None:
    from rules.read.align import align, align_memo, similarity

    calls = []

    def run(found: list[str], expected: tuple[str, ...]) -> list:
        calls.append(1)
        return align(found, expected, similarity)

    a = ("本年新收政府信息公开申请数量", "上年结转政府信息公开申请数量")
    b = ("上年结转政府信息公开申请数量", "本年新收政府信息公开申请数量")
    found = ["本年新收政府信息公开申请数量", "上年结转政府信息公开申请数量"]
    first = align_memo(tuple(found), a, lambda: run(found, a))
    assert align_memo(tuple(found), a, lambda: run(found, a)) == first and len(calls) == 1
    other = align_memo(tuple(found), b, lambda: run(found, b))  # same rows, other labels: computed anew
    assert len(calls) == 2 and other != first and other == align(found, b, similarity)


def test_opening_a_new_database_waits_for_another_writer_instead_of_failing(tmp_path) -> None:
    """Another connection is writing the new file (still in rollback mode) when the store opens it: SQLite
    refuses the switch to WAL at once, without waiting, so the store must retry until the writer is done."""
    import sqlite3
    import threading

    from bot.store import MIGRATIONS, Store

    db = tmp_path / "new.sqlite"
    writer = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE other_writer (x)")
    threading.Timer(0.3, writer.execute, ("COMMIT",)).start()
    store = Store(db)
    try:
        assert store.one("PRAGMA journal_mode")["journal_mode"] == "wal"
        assert store.one("PRAGMA user_version")["user_version"] == len(MIGRATIONS)
        assert store.one("SELECT count(*) AS n FROM other_writer")["n"] == 0  # the writer's commit is kept
    finally:
        store.close()
        writer.close()


def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path) -> None:
    """The service starting while a command opens the same new file: each migration must run exactly once."""
    import subprocess
    import sys

    from bot.store import MIGRATIONS, Store

    db = tmp_path / "new.sqlite"
    code = f"from bot.store import Store; Store({str(db)!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    errors = []
    for p in procs:
        _out, err = p.communicate(timeout=60)
        if p.returncode:
            errors.append(err.strip().splitlines()[-1])
    assert errors == []
    store = Store(db)
    try:
        assert store.one("PRAGMA user_version")["user_version"] == len(MIGRATIONS)
        assert store.one("SELECT count(*) AS n FROM fts_state")["n"] == 1  # migration 5 ran once, not twice
    finally:
        store.close()


def test_published_body_years_sees_reports_another_connection_stored(tmp_path) -> None:
    """The deadline pass's remembered set must never miss a report another process stored (the service and
    a manual `nianbao scan` share the file): a missing entry would send a false DeadlineMissed."""
    from bot.store import Store

    service, other = Store(tmp_path / "s.sqlite"), Store(tmp_path / "s.sqlite")
    try:
        assert service.published_body_years() == frozenset()

        def store_report(store: Store, body: str) -> None:
            row = {"url": f"http://x/{body}", "portal": "p", "body": body, "year": 2024}
            store._insert("reports", {**row, "first_seen": "2025-01-02", "last_seen": "2025-01-02"})

        store_report(other, "甲镇人民政府")
        assert service.published_body_years() == {("甲镇人民政府", 2024)}
        assert service.published_body_years() is service.published_body_years()  # nothing new: not re-read
        service._saved += 1  # what save_version does before writing through this connection
        store_report(service, "乙镇人民政府")
        assert service.published_body_years() == {("甲镇人民政府", 2024), ("乙镇人民政府", 2024)}
    finally:
        service.close()
        other.close()


def test_html_extraction_from_eight_threads_at_once_gives_the_same_documents() -> None:
    """Without workers the service extracts pages in threads: one parser per thread, nothing shared that
    parses (lxml replicates only its default parser per thread)."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import FILES

    pages = [(p.read_bytes(), p.name) for p in sorted(FILES.glob("*.html"))]
    want = [extract(data, name) for data, name in pages]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            assert list(pool.map(lambda page: extract(*page), pages * 2)) == want * 2


def test_an_analysis_worker_does_not_load_the_network_stack(tmp_path: Path) -> None:
    """A worker extracts, reads and checks. Spawned, it re-imports its parent's main script — for the service
    that is the `nianbao` console script, i.e. bot.cli — so whatever bot.cli imports at the top every worker
    loads too: httpx (with anyio, ~0.3 s and ~10 MB a worker), the config loader's bs4 and portal kinds. The
    script below is the console script's shape; the worker it starts reports what it has loaded."""
    import subprocess
    import sys

    script = tmp_path / "nianbao_main.py"
    script.write_text(
        "import asyncio, sys\n"
        "from bot.cli import main  # as the console script does\n"
        "def loaded():\n"
        "    import sys\n"
        "    from rules.normalize import _nfkc_tables, _t2s_changes\n"
        "    built = _nfkc_tables.cache_info().currsize, _t2s_changes.cache_info().currsize\n"
        "    names = ('httpx', 'httpcore', 'anyio', 'bs4', 'sqlite_utils')\n"
        "    return sorted(m for m in names if m in sys.modules), built\n"
        "if __name__ == '__main__':\n"
        "    from bot.analysis import Analyser\n"
        "    from rules.config import load_rules\n"
        "    a = Analyser(load_rules(), 1)\n"
        "    async def ask():\n"
        "        return await a.pool.run(loaded)\n"
        "    print(a.pool is not None, asyncio.run(ask()))\n"
        "    a.close()\n",
        encoding="utf-8",
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "True ([], (1, 1))", out.stderr  # and the normaliser's tables built at its start


def test_the_article_is_found_by_the_first_selector_that_holds_one() -> None:
    """The article container decides what is read as the report; the page around it only lends its date.
    Ids are looked up in libxml2's id table, which also holds <a name> anchors and only the first of
    duplicate ids; class selectors match one class among several."""
    para = "<p>" + "本机关二〇二三年政府信息公开工作情况如下。" * 5 + "</p>"
    nav = "<div class='nav'>首页 › 年报 发布日期：2024-01-05</div>"

    def article(body: str) -> tuple[list[str], dict[str, str]]:
        doc = extract(f"<html><body>{nav}{body}<p>版权所有</p></body></html>".encode(), "http://x/a.html", "text/html")
        return list(doc.lines), doc.meta

    lines, meta = article(f"<a name='zoom'>锚点</a><div id='zoom'><h1>标题</h1>{para}</div>")
    assert lines[0] == "标题" and "锚点" not in lines and "版权所有" not in lines
    assert meta["page_date"] == "2024-01-05"  # from the page, outside the article
    trs = f"<div class='x TRS_Editor  y'>{para}正文</div>"
    lines, _ = article(f"<div id='zoom'>短</div><div id='zoom'>{para}</div>{trs}")
    assert lines[-1].endswith("正文")  # the first #zoom is too short: the next selector's element is taken
    lines, _ = article(f"<div class='content'>{para}内容</div><article>{para}文章</article>")
    assert lines[-1].endswith("内容")  # .content precedes article in the selectors
    lines, _ = article(f"<span id='zoom'>{para}</span>")  # an inline container: read on its own as well
    assert lines[0].startswith("本机关") and "首页" not in lines[0]


def test_column_header_notes_are_remembered_per_header_layout_and_never_shared() -> None:
    """The header checks run once per (table, header labels): a repeated layout gets the notes its first
    reading got, a changed one its own, and no two reports share a note object."""
    from rules.read import tables
    from rules.read.document import read

    rules = load_rules()
    text = decode((Path(__file__).parent / "corpus/files/clean-f2021-gbk.html").read_bytes(), "text/html")[0]
    variants = {
        "clean": text,
        "short column": text.replace("<td>社会公益组织</td>", "<td>社会公益</td>"),
        "lost column": text.replace("<td>法律服务机构</td>", "<td>律所</td>"),
        "short block column": text.replace("本年制发件数", "本年制发"),
    }

    def header_notes(name: str) -> list:
        doc = extract(variants[name].encode("utf-8"), "x.html", "text/html; charset=utf-8")
        return [n for n in read(doc, rules.formats, year=2023).notes if "header:" in n.where or ":" in n.where[7:]]

    tables._HEADER_NOTES.clear()
    fresh = {name: header_notes(name) for name in variants}  # each layout read first: computed
    assert fresh["clean"] == []
    assert [(n.kind, n.where) for n in fresh["short column"]] == [("table.label", "applications/header:nonprofit")]
    assert [(n.kind, n.where) for n in fresh["lost column"]] == [("table.row_missing", "applications/header:legal")]
    assert [n.where for n in fresh["short block column"]] == ["table2/(一):issued"]
    for name in reversed(list(variants)):  # read again, in another order: from the memo
        again = header_notes(name)
        assert again == fresh[name]
        assert all(a is not b and a.data is not b.data for a, b in zip(again, fresh[name], strict=True))


def test_the_single_row_table_is_found_by_its_labels_whatever_was_read_before() -> None:
    """Where table 4 starts is remembered per label sequence: a document whose rows sit elsewhere (rows
    added above) is searched anew, and the values are read from each document itself."""
    from rules.read import tables
    from rules.read.document import read

    rules = load_rules()
    text = decode((Path(__file__).parent / "corpus/files/clean-f2021-gbk.html").read_bytes(), "text/html")[0]
    first_row = '<tr><td colspan="4"><b>第二十条第（一）项</b></td></tr>'
    head = '<table border="1"><tr><td colspan="5">行政复议</td>'
    table4 = text[text.index(head) :]
    variants = {
        "clean": text,
        "rows added above": text.replace(first_row, first_row * 6, 1),
        "other values": text.replace(table4, table4.replace("<span>0</span>", "<span>7</span>")),
    }

    def litigation(name: str) -> dict:
        doc = extract(variants[name].encode("utf-8"), "x.html", "text/html; charset=utf-8")
        return read(doc, rules.formats, year=2023).tables["litigation"]

    tables._STARTS.clear()
    fresh = {}
    for name in variants:
        tables._STARTS.clear()
        fresh[name] = litigation(name)
    assert fresh["clean"] == fresh["rows added above"] != fresh["other values"]
    assert 7 in fresh["other values"].values()
    tables._STARTS.clear()
    for name in [*variants, *reversed(variants)]:  # each after the others: from the memo where the labels match
        assert litigation(name) == fresh[name], name


def test_a_bounded_memo_empties_itself_when_full_and_keeps_one_per_object() -> None:
    from rules.memo import Bounded, bounded_per_object

    memo: Bounded[str, int] = Bounded(2)
    assert memo.put("a", 1) == 1 and memo.put("b", 2) == 2 and dict(memo) == {"a": 1, "b": 2}
    assert memo.put("c", 3) == 3 and dict(memo) == {"c": 3}  # full: emptied, then the new one stored
    per = bounded_per_object(5)
    one, two = tuple(["x"]), tuple(["x"])  # equal, not the same object
    assert per(one) is per(one) and per(one) is not per(two) and per(one).limit == 5
