"""Structured logs: one JSON object per line (``TIPLAB_LOG_FORMAT=json``, the production
default), for journald, Loki, Elasticsearch and the like. Fields: ``ts`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, ``process``, ``thread``, ``exc`` (the traceback, when
there is one) and any ``extra={...}`` values given to the call."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            a = record.args
            body.update(remote=a.get("h"), method=a.get("m"), path=a.get("U"),
                        status=a.get("s"), bytes=a.get("B"), duration_ms=a.get("M"))
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


def logging_config(fmt: str, level: str = "INFO") -> dict[str, Any]:
    """The ``LOGGING`` setting: everything to standard error, as text or JSON."""
    formatter = ({"()": "tiplab_web.logs.JsonFormatter"} if fmt == "json"
                 else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        # no log line about an anonymous route (survivors, reporters) names its visitor
        "filters": {"anonymous": {"()": "tiplab_web.core.anonymous.AnonymousLogFilter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default",
                                 "filters": ["anonymous"]}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "tiplab": {"level": level},
            "django.server": {"level": "INFO"},
            # gunicorn turns propagation off on its loggers: give them the handler
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "django_tasks": {"level": "INFO"},
            "django_tasks_db": {"level": "INFO"},
        },
    }
