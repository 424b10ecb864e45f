"""Small helpers shared by tests: build a synthetic report and check it through the real pipeline."""

from __future__ import annotations

import sys
from pathlib import Path

from rules.config import RuleSet
from rules.engine import check
from rules.read.document import read
from rules.report import Finding, Report
from scrapers.extract import extract

sys.path.insert(0, str(Path(__file__).parent / "corpus"))

import model

__all__ = ["check_bytes", "model"]


def check_bytes(data: bytes, name: str, rules: RuleSet, previous: Report | None = None) -> tuple[Report, list[Finding]]:
    report = read(extract(data, name), rules.formats)
    return report, check(report, rules, previous)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (openssl), for TLS tests against local servers."""
    import subprocess

    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def run_service_until(cfg: Path, done: object, timeout: float = 60.0) -> tuple[int, str]:
    """`nianbao run` as a real process until ``done()`` holds (or the timeout), then SIGTERM.
    Returns the exit code and stderr."""
    import os
    import signal
    import subprocess
    import time

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(cfg)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done():  # type: ignore[operator]
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err
