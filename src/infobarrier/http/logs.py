"""Structured logs: one JSON object a line, or a readable line when run in a terminal.

``serve`` configures uvicorn with :func:`log_config`: every request is one line of the
``infobarrier.access`` logger (tenant, route, method, path, status, latency, request id,
see ``http.observe``), and uvicorn's own access log is off. ``INFOBARRIER_LOG_FORMAT``
(``json`` or ``text``) overrides the choice made from whether stderr is a terminal.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

#: Fields a request line carries (set as ``extra`` by ``http.observe``).
REQUEST_FIELDS = ("tenant", "method", "route", "path", "status", "latency_ms", "request_id")
FORMAT_VARIABLE = "INFOBARRIER_LOG_FORMAT"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in REQUEST_FIELDS if hasattr(record, k)}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...request fields}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """``HH:MM:SS level message key=value ...`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one readable line."""
        at = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        extra = " ".join(f"{k}={v}" for k, v in _fields(record).items() if v is not None)
        text = f"{at} {record.levelname:<7} {record.getMessage()}"
        if extra:
            text += f"  {extra}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def use_json(stream: Any = None) -> bool:
    """JSON unless the variable says ``text`` or the stream is a terminal."""
    chosen = os.environ.get(FORMAT_VARIABLE, "").strip().lower()
    if chosen in ("json", "text"):
        return chosen == "json"
    target = stream if stream is not None else sys.stderr
    return not (hasattr(target, "isatty") and target.isatty())


def log_config(*, json_lines: bool | None = None) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's ``log_config``."""
    chosen = use_json() if json_lines is None else json_lines
    formatter = f"{__name__}.{'JsonFormatter' if chosen else 'TextFormatter'}"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "infobarrier": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
