"""Legacy binary Office files: .doc through antiword (when installed), .xls through xlrd.

Without antiword a .doc is reported as unsupported with the fix, never as an empty report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from scrapers.document import Document, unreadable
from scrapers.extract.office import _num_text, rows_to_document
from scrapers.extract.text import from_text

TIMEOUT_S = 30


def read_doc(data: bytes, source: str, content_type: str | None = None) -> Document:
    exe = shutil.which("antiword")
    if not exe:
        return unreadable(
            source,
            "doc",
            "旧版 Word（.doc）需要 antiword 才能读取，本机未安装（apt-get install antiword）"
            " / .doc needs antiword, which is not installed",
        )
    with tempfile.NamedTemporaryFile(suffix=".doc", delete=False) as f:
        f.write(data)
        path = f.name
    try:
        proc = subprocess.run(
            [exe, "-w", "0", "-m", "UTF-8.txt", path], capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return unreadable(source, "doc", "读取 .doc 超时 / antiword timed out")
    finally:
        os.unlink(path)
    text = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0 or not text.strip():
        err = proc.stderr.decode("utf-8", "replace").strip()[:200]
        return unreadable(source, "doc", f".doc 文件无法读取（{err or '无输出'}）/ antiword could not read it")
    return from_text(text, source, kind="doc")


def read_xls(data: bytes, source: str, content_type: str | None = None) -> Document:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data)
    except Exception as exc:
        return unreadable(source, "xls", f".xls 文件无法读取（{type(exc).__name__}）/ could not read .xls")
    sheets = []
    for sh in book.sheets():
        sheets.append([[_num_text(sh.cell_value(r, c)) for c in range(sh.ncols)] for r in range(sh.nrows)])
    return rows_to_document(source, "xls", sheets)
