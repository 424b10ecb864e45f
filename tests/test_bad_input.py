"""Bad input never crashes: exit 2 with a clear message, or a source.unreadable finding."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FILES

ROOT = Path(__file__).resolve().parents[1]


def nianbao(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env
    )


def _no_text_pdf() -> bytes:
    """A valid one-page PDF that draws a rectangle and has no text layer (a scan stand-in)."""
    content = b"0 0 0 rg 50 50 200 200 re f"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


CASES = {
    "empty.txt": b"",
    "random.bin": os.urandom(4096),
    "scan.pdf": _no_text_pdf(),
    "truncated.docx": (FILES / "clean-f2021-government.docx").read_bytes()[:5000],
    "broken.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ngarbage",
    "not-a-docx.docx": b"PK\x03\x04" + os.urandom(200),
    "image.png": b"\x89PNG\r\n\x1a\n" + os.urandom(100),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_unreadable_files_exit_2_with_a_message(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(CASES[name])
    proc = nianbao("check", "--json", str(path))
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    out = json.loads(proc.stdout)
    assert out["source"] == str(path) and out["error"]
    assert "findings" not in out
    assert any("\u4e00" <= ch <= "\u9fff" for ch in out["error"])  # a Chinese message for the supervisor


def test_non_report_web_page_is_a_source_unreadable_finding(tmp_path: Path) -> None:
    page = tmp_path / "news.html"
    page.write_text(
        "<html><head><title>区政府召开常务会议</title></head><body><div id='zoom'>"
        + "<p>会议研究了城市更新、防汛准备和营商环境等议题，要求各部门抓好落实，确保各项任务按期完成。</p>" * 5
        + "</div></body></html>",
        encoding="utf-8",
    )
    proc = nianbao("check", "--json", str(page))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert [f["kind"] for f in findings if f["severity"] == "error"] == ["source.unreadable"]
    assert "未识别为政府信息公开工作年度报告" in findings[0]["message"]


def test_missing_file_and_bad_rules_dir(tmp_path: Path) -> None:
    proc = nianbao("check", "--json", str(tmp_path / "nope.html"))
    assert proc.returncode == 2 and "文件不存在" in json.loads(proc.stdout)["error"]
    proc = nianbao("check", "--rules", str(tmp_path / "missing"), str(FILES / "defect-blank.html"))
    assert proc.returncode == 2 and "rules" in proc.stderr.lower() and "Traceback" not in proc.stderr


def test_zip_bomb_docx_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (210 * 1024 * 1024))
    path = tmp_path / "bomb.docx"
    path.write_bytes(buf.getvalue())
    proc = nianbao("check", "--json", str(path))
    assert proc.returncode == 2 and "压缩" in json.loads(proc.stdout)["error"]
