"""Hostile documents: parsing runs in a child process with a time, memory and output budget. A PDF
that keeps the parser busy, a stream that inflates past the memory budget, entity-expansion XML in
DOCX/XLSX, malformed PDFs — each ends as a clear `unreadable`, quickly, and the caller lives on."""

from __future__ import annotations

import concurrent.futures
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from scrapers.extract import extract, sandbox
from tests.conftest import FILES

ROOT = Path(__file__).resolve().parents[2]

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
    b"<w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)


def pdf(content: bytes, *, compress: bool = False) -> bytes:
    """A one-page PDF whose page content is ``content`` (optionally Flate-compressed)."""
    stream = zlib.compress(content, 1) if compress else content
    filt = b"/Filter /FlateDecode " if compress else b""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< " + filt + b"/Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def timed(data: bytes, name: str) -> tuple[object, float]:
    t0 = time.monotonic()
    doc = extract(data, name)
    return doc, time.monotonic() - t0


def test_a_pdf_that_keeps_the_parser_busy_is_stopped_at_the_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "TIME_BUDGET", 3.0)
    busy = pdf(b"BT /F1 1 Tf " + b"(x) Tj 0.01 0 Td " * 400_000 + b"ET", compress=True)
    doc, took = timed(busy, "busy.pdf")
    assert doc.unreadable and ("超过 3 秒" in doc.unreadable or "CPU" in doc.unreadable), doc.unreadable
    assert took < 12


def test_a_stream_that_inflates_past_the_memory_budget_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "MEMORY_MB", 400)
    zeros = zlib.compressobj(9)
    blob = b"".join(zeros.compress(b"\0" * (64 << 20)) for _ in range(12)) + zeros.flush()  # 768 MB inflated
    big = pdf(b"", compress=False).replace(b"/Length 0 >>\nstream\n\nendstream",
                                          b"/Filter /FlateDecode /Length " + str(len(blob)).encode()
                                          + b" >>\nstream\n" + blob + b"\nendstream")  # fmt: skip
    doc, took = timed(big, "bomb.pdf")
    assert doc.unreadable and "内存超过 400 MB" in doc.unreadable, doc.unreadable
    assert took < 60


@pytest.mark.parametrize("name", ["clean-f2021-government.docx", "clean-f2021-sheet.xlsx"])
def test_entity_expansion_xml_in_office_files_is_refused(tmp_path: Path, name: str) -> None:
    src = zipfile.ZipFile(FILES / name)
    target = "word/document.xml" if name.endswith(".docx") else "xl/workbook.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            z.writestr(info, LAUGHS if info.filename == target else src.read(info))
    doc, took = timed(out.getvalue(), name)
    assert doc.unreadable and "DTD" in doc.unreadable and took < 10


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + bytes(range(256)) * 400,
        pdf(b"BT /F1 12 Tf (x) Tj ET")[:300],
        b"%PDF-1.4\n1 0 obj\n<< /Kids [1 0 R] >>",
    ],
    ids=["garbage", "truncated", "self-referencing"],
)
def test_malformed_pdfs_are_unreadable_not_fatal(data: bytes) -> None:
    doc, took = timed(data, "bad.pdf")
    assert doc.unreadable and took < 30


def test_a_normal_pdf_reads_the_same_through_the_sandbox() -> None:
    data = (FILES / "real-hongze-2024.pdf").read_bytes()
    doc = extract(data, "real.pdf")
    assert not doc.unreadable and doc.tables and "政府信息公开" in doc.text


# ---------------------------------------------------------------- how many parsers at once
# A process that holds a sandbox slot for a while, logging when it got it and when it let go (CLOCK_MONOTONIC
# is one clock for every process of the machine).
HOLDER = """
import sys, time
from scrapers.extract import sandbox
sandbox.share_slots(sys.argv[1])
with sandbox._slot():
    got = time.monotonic()
    with open(sys.argv[2], "a") as f:
        f.write(f"got {got}\\n")
    time.sleep(float(sys.argv[3]))
    with open(sys.argv[2], "a") as f:
        f.write(f"held {got} {time.monotonic()}\\n")
"""


def _holders(n: int, slots: Path, log: Path, seconds: float, at_once: int) -> list[subprocess.Popen]:
    env = {**os.environ, "NIANBAO_EXTRACT_AT_ONCE": str(at_once), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", HOLDER, str(slots), str(log), str(seconds)]
    return [subprocess.Popen(cmd, env=env) for _ in range(n)]


def _most_at_once(log: Path) -> int:
    spans = [tuple(map(float, line.split()[1:])) for line in log.read_text().splitlines() if line.startswith("held")]
    return max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)


@pytest.mark.parametrize("at_once", [1, 2])
def test_parsers_across_processes_never_exceed_the_cap(tmp_path: Path, at_once: int) -> None:
    log = tmp_path / "log"
    procs = _holders(4, tmp_path, log, 0.4, at_once)
    for p in procs:
        assert p.wait(timeout=30) == 0
    assert len([x for x in log.read_text().splitlines() if x.startswith("held")]) == 4  # every one had its turn
    assert _most_at_once(log) == at_once  # never more, and the slots are used (not one at a time regardless)


def test_a_process_killed_while_parsing_frees_its_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log"
    (holder,) = _holders(1, tmp_path, log, 60, 1)
    try:
        deadline = time.monotonic() + 20
        while not (log.exists() and "got" in log.read_text()):
            assert time.monotonic() < deadline and holder.poll() is None, "the holder never took its slot"
            time.sleep(0.05)
        monkeypatch.setattr(sandbox, "_slots", str(tmp_path))
        monkeypatch.setattr(sandbox, "AT_ONCE", 1)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        t0 = time.monotonic()
        with sandbox._slot():
            waited = time.monotonic() - t0
        assert waited < 2  # the kernel dropped the dead process's lock: nobody waits for a slot forever
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_pdfs_extracted_side_by_side_under_the_cap_all_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_slots", str(tmp_path))
    monkeypatch.setattr(sandbox, "AT_ONCE", 1)
    data = (FILES / "clean-f2021-township.pdf").read_bytes()
    alone = extract(data, "a.pdf")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        docs = list(pool.map(lambda i: extract(data, "a.pdf"), range(3)))
    assert not alone.unreadable and docs == [alone] * 3


def test_slots_lost_or_unusable_never_cost_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A service running for months may find its /tmp cleaned: the slots' directory is made again. One that
    cannot be made (a file in its place) means parsing without the cap, said in the log — not a lost report."""
    data = (FILES / "clean-f2021-township.pdf").read_bytes()
    gone = tmp_path / "cleaned" / "slots"
    monkeypatch.setattr(sandbox, "_slots", str(gone))
    assert not extract(data, "a.pdf").unreadable and (gone / "slot-0").exists()
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    monkeypatch.setattr(sandbox, "_slots", str(blocked))
    assert not extract(data, "a.pdf").unreadable
    assert "parsing without the cap" in caplog.text
