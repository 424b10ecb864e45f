"""The `nianbao check` contract (spec/check-json.md): JSON Lines, options, exit codes, URLs."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rules.config import BUNDLED
from tests.conftest import FILES
from tests.test_bad_input import nianbao

REQUIRED = {
    "source",
    "title",
    "body",
    "body_type",
    "year",
    "format",
    "published",
    "deadline",
    "sections",
    "tables",
    "findings",
}


def lines(stdout: str) -> list[dict]:
    return [json.loads(x) for x in stdout.splitlines() if x.strip()]


def test_json_lines_one_per_source_in_order_and_exit_code() -> None:
    srcs = [FILES / "clean-f2021-gbk.html", FILES / "defect-blank.html", FILES / "real-seed-2020.txt"]
    proc = nianbao("check", "--json", *map(str, srcs))
    out = lines(proc.stdout)
    assert [o["source"] for o in out] == list(map(str, srcs))
    assert proc.returncode == 1  # defect-blank has error-level findings
    for o in out:
        assert set(o) >= REQUIRED
        assert len(o["sections"]) == 6 and {"no", "found", "heading"} <= set(o["sections"][0])
        assert set(o["published"]) >= {"date", "evidence"}
    seed = out[2]
    assert (seed["year"], seed["format"], seed["body_type"]) == (2020, "F2019", "township")
    assert seed["published"] == {"date": "2021-01-25", "evidence": "signature", "text": "2021年1月25日"}
    assert seed["deadline"] == "2021-01-31"
    assert seed["tables"]["applications"]["4"] == dict.fromkeys(
        ["natural", "commercial", "research", "nonprofit", "legal", "other", "total"]
    )
    assert seed["tables"]["applications"]["3.1"]["total"] == 0
    assert seed["tables"]["litigation"]["suit_after_review.total"] == 0
    blank = next(f for f in seed["findings"] if f["kind"] == "table.blank")
    assert blank == {
        "kind": "table.blank",
        "rule": "no-blank-cells",
        "severity": "error",
        "where": "applications/4",
        "message": "表三“四、结转下年度继续办理”一行有7个空白单元格（无数据应填0）",
        "data": {"count": 7, "columns": ["natural", "commercial", "research", "nonprofit", "legal", "other", "total"]},
    }
    assert not any(f["kind"] == "table.sum" for f in seed["findings"])
    assert all(s["found"] for s in seed["sections"])


def test_clean_report_exits_0() -> None:
    proc = nianbao("check", "--json", str(FILES / "clean-f2021-gbk.html"))
    assert proc.returncode == 0 and lines(proc.stdout)[0]["findings"] == []


def test_options_override_inference() -> None:
    # published after 31 Jan: late for a township, on time when declared a government (31 Mar)
    src = str(FILES / "clean-f2021-gbk.html")
    late = lines(nianbao("check", "--json", "--published", "2022-02-10", src).stdout)[0]
    assert late["published"] == {"date": "2022-02-10", "evidence": "given"}
    assert [f["kind"] for f in late["findings"]] == ["deadline.late"]
    assert "逾期10天" in late["findings"][0]["message"]
    gov = lines(nianbao("check", "--json", "--published", "2022-02-10", "--body-type", "government", src).stdout)[0]
    assert gov["body_type"] == "government" and gov["deadline"] == "2022-03-31" and gov["findings"] == []
    other_year = lines(nianbao("check", "--json", "--year", "2022", src).stdout)[0]
    assert other_year["year"] == 2022 and other_year["deadline"] == "2023-01-31"


def test_previous_enables_cross_year_rules() -> None:
    cur, prev = str(FILES / "pair-2023-copied.html"), str(FILES / "pair-2022-previous.html")
    alone = lines(nianbao("check", "--json", cur).stdout)[0]
    assert not {f["kind"] for f in alone["findings"]} & {"crossyear.carryover", "content.duplicate"}
    both = lines(nianbao("check", "--json", "--previous", prev, cur).stdout)[0]
    kinds = [f["kind"] for f in both["findings"]]
    assert kinds.count("crossyear.carryover") == 2 and kinds.count("content.duplicate") == 2
    r5 = next(f for f in both["findings"] if f["where"] == "applications/R5:natural")
    assert r5["rule"] == "R5" and "上年" in r5["message"] and r5["data"]["cells"]


def test_unreadable_previous_is_reported_not_ignored(tmp_path: Path) -> None:
    bad = tmp_path / "prev.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    out = lines(nianbao("check", "--json", "--previous", str(bad), str(FILES / "clean-f2021-gbk.html")).stdout)[0]
    assert "上年报告无法读取" in out["previous_error"] and out["findings"] == []


def test_rules_dir_changes_deadline_and_disables_a_check(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    text = BUNDLED.read_text(encoding="utf-8")
    text = text.replace('township = "01-31"', 'township = "02-20"')
    text = text.replace(
        "[checks.no-blank-cells]      # table.blank (R9): blank data cells (0 must be written when none)\n"
        'severity = "error"',
        "[checks.no-blank-cells]\nenabled = false",
    )
    (rules / "rules.toml").write_text(text, encoding="utf-8")
    src = str(FILES / "defect-blank.html")
    proc = nianbao("check", "--json", "--rules", str(rules), "--published", "2022-02-15", src)
    out = lines(proc.stdout)[0]
    assert out["deadline"] == "2022-02-20" and out["findings"] == [] and proc.returncode == 0
    (rules / "rules.toml").write_text(text.replace('severity = "warning"', 'severity = "loud"', 1), encoding="utf-8")
    proc = nianbao("check", "--rules", str(rules), src)
    assert proc.returncode == 2 and "loud" in proc.stderr and "Traceback" not in proc.stderr


def test_readable_summary_in_chinese() -> None:
    proc = nianbao("check", str(FILES / "real-seed-2020.txt"))
    assert proc.returncode == 1
    out = proc.stdout
    assert "宿城区王官集镇人民政府2020年政府信息公开工作年度报告" in out
    assert "章节：✔一 ✔二 ✔三 ✔四（标题不规范） ✔五（标题不规范） ✔六" in out
    assert "问题：错误 1，警告 2，提示 2" in out
    row4 = next(line for line in out.splitlines() if line.strip().startswith("4 "))
    assert row4.count("□!") == 7  # the blank, failing cells are marked in the table


# ------------------------------------------------------------------------------------------ URLs
@pytest.fixture()
def portal(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving fixture pages (GBK with a gb2312 header, a PDF)."""
    shutil.copy(FILES / "clean-f2021-gbk.html", tmp_path / "art.html")
    shutil.copy(FILES / "real-huaian-2024.pdf", tmp_path / "P020250120.pdf")
    name = "淮安市人民政府2024年政府信息公开工作年度报告"
    (tmp_path / "t20250120_88.html").write_text(
        f'<html><head><meta name="PubDate" content="2025-01-20 16:02"><title>{name}</title></head>'
        f'<body><div id="zoom"><p>{name}</p><p>附件：<a href="./P020250120.pdf">{name}.pdf</a></p></div></body></html>',
        encoding="utf-8",
    )

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(tmp_path), **kw)

        def guess_type(self, path):  # type: ignore[no-untyped-def]
            return "text/html; charset=gb2312" if str(path).endswith(".html") else "application/octet-stream"

        def log_message(self, *a):  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_check_urls_on_a_local_portal(portal: str) -> None:
    proc = nianbao("check", "--json", "--allow-private", f"{portal}/art.html", f"{portal}/P020250120.pdf")
    html, pdf = lines(proc.stdout)
    assert html["body"] == "示例区王集镇人民政府" and html["findings"] == []
    assert html["published"]["evidence"] == "meta"
    assert pdf["year"] == 2024 and pdf["tables"]["applications"]["1"]["total"] == 3119


def test_private_addresses_are_refused_by_default(portal: str) -> None:
    proc = nianbao("check", "--json", f"{portal}/art.html")
    assert proc.returncode == 2
    assert "内网" in lines(proc.stdout)[0]["error"]
    proc = nianbao("check", "--json", "file:///etc/passwd")
    assert proc.returncode == 2


def test_page_that_only_links_a_pdf_is_read_through_the_attachment(portal: str) -> None:
    proc = nianbao("check", "--json", "--allow-private", f"{portal}/t20250120_88.html")
    out = lines(proc.stdout)[0]
    assert out["attachment"] == f"{portal}/P020250120.pdf"
    assert out["published"] == {"date": "2025-01-20", "evidence": "meta", "text": "pubdate=2025-01-20 16:02"}
    assert out["tables"]["litigation"]["review.total"] == 351
    assert [f["kind"] for f in out["findings"]] == []  # on time (31 Mar for a government) and consistent


def test_check_without_a_config_file_loads_no_service_machinery(tmp_path: Path) -> None:
    """A report author's `nianbao check draft.html` (no config.toml where it runs) starts without the store, the
    scheduler, the config loader and the network stack; with a broken config.toml it says so and exits 2."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys\nfrom bot.cli import main\n"
        f"rc = main(['check', '--json', {str(FILES / 'clean-f2021-gbk.html')!r}])\n"
        "heavy = ('bs4', 'httpx', 'sqlite_utils', 'apscheduler', 'bot.config', 'bot.store', 'bot.service')\n"
        "print(sorted(m for m in heavy if m in sys.modules), rc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    out = run.stdout.splitlines()
    assert json.loads(out[0])["format"] == "F2021", run.stderr
    assert out[-1] == "[] 0", (out[-1], run.stderr)
    (tmp_path / "config.toml").write_text("[service\n", encoding="utf-8")
    broken = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert "配置错误" in broken.stderr and broken.stdout.splitlines()[-1].endswith(" 2"), (broken.stdout, broken.stderr)
