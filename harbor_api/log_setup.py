"""Structured logging: one JSON object per line, carrying the request id when there is one."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# the client's address, for records written below the edge (e.g. a refused login)
remote_var: contextvars.ContextVar[str] = contextvars.ContextVar("remote", default="")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key in (
            "method",
            "path",
            "status",
            "duration_ms",
            "user",
            "remote",
            "event",
            "attempted_user",
            "reason",
            "service",
            "scopes",
        ):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None) or request_id_var.get()
        base = super().format(record)
        return f"{base} [{rid}]" if rid else base


def formatter_for(fmt: str = "json") -> logging.Formatter:
    """The formatter of every server log line (ours, uvicorn's and gunicorn's)."""
    return (
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings as log lines, not bare text on stderr
    for noisy in (
        "uvicorn.access",
        "connexion.security",
        "connexion.operations",
        "connexion.middleware.security",
        "alembic.runtime.migration",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
