"""Structured, greppable logging to stderr.

One line per event, ``key=value`` pairs after a fixed prefix, so ``grep repository=hue-dspace``
or ``grep level=ERROR`` finds what an administrator needs::

    ts=2026-11-21T10:00:00Z level=INFO logger=lienhop.harvest msg="page done" repository=hue page=3
"""

from __future__ import annotations

import logging
import sys
import time

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is printed.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _quote(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\n\t'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class KeyValueFormatter(logging.Formatter):
    """Render a record as ``ts=… level=… logger=… msg=… key=value …``."""

    converter = time.gmtime  # type: ignore[assignment]  # typeshed types it with an argument it is always called with

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"ts={self.formatTime(record, '%Y-%m-%dT%H:%M:%SZ')}",
            f"level={record.levelname}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                parts.append(f"{key}={_quote(value)}")
        if record.exc_info:
            parts.append(f"exc={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


def configure_logging(level: str = "INFO") -> None:
    """Send the ``lienhop`` loggers to stderr in key=value form (idempotent)."""
    root = logging.getLogger("lienhop")
    root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, "_lienhop", False):
            handler.setLevel(level)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    handler._lienhop = True  # type: ignore[attr-defined]  # our mark, so a second call adds no second handler
    root.addHandler(handler)
    root.propagate = False
