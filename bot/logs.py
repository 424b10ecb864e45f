"""Logging set-up: one line per record, whatever a scraped page put in a title or URL. A CR or LF
from the web would otherwise forge log lines (and fool whoever greps them)."""

from __future__ import annotations

import logging
import sys


class OneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()  # the traceback, if any, is added by the formatter: untouched
        if "\n" in text or "\r" in text:
            record.msg, record.args = text.replace("\r", "␍").replace("\n", "␤"), None
        return True


def setup(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(OneLine())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
