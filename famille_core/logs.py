"""The portal's processes' logs: plain lines, or one JSON object per line for log collectors
(``[logging] format = "json"``; docs/deployment.md, "Logs").

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and ``request_id``
(the web request being answered, ``null`` elsewhere), plus ``exception`` for an error's traceback.
Nothing else of the record is written — not its arguments apart from the message they make, nor
any ``extra`` — so what reaches the log is exactly what the code chose to say, and the code says
nothing personal (docs/security.md point 32; tests/host_flask/test_logs_privacy.py).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from famille_core.settings import LoggingSettings

HANDLER_MARK = "_famille_handler"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _request_id(record: logging.LogRecord) -> str | None:
    value = getattr(record, "request_id", None)
    return str(value) if value and value != "-" else None


class RequestIdFilter(logging.Filter):
    """Gives each record the ``request_id`` that ``current`` returns (``None`` outside one)."""

    def __init__(self, current: Callable[[], str | None] | None = None) -> None:
        super().__init__()
        self.current = current

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = (self.current() if self.current else None) or "-"
        return True


def formatter_for(settings: LoggingSettings) -> logging.Formatter:
    """The formatter of ``[logging] format``."""
    if settings.format == "json":
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(
    settings: LoggingSettings, request_id: Callable[[], str | None] | None = None
) -> logging.Handler:
    """Send the root logger's records at ``[logging] level`` and above to the standard error,
    formatted as ``[logging] format`` says; ``request_id`` tells the current request's id.

    Called by the long-running commands (``famille serve``, workers), never on import. Calling it
    again replaces the handler it installed.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, HANDLER_MARK, True)
    handler.setFormatter(formatter_for(settings))
    handler.addFilter(RequestIdFilter(request_id))
    root.addHandler(handler)
    root.setLevel(settings.level)
    return handler
