"""Structured logs: JSON lines through structlog, the request id bound to every line, and the
current trace's ``trace_id`` and ``span_id`` while a span is current (:mod:`shared.tracing`)."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog

from shared.tracing import add_trace_ids


def configure_logging(level: str | None = None) -> None:
    """Route stdlib logging and structlog through one JSON renderer (idempotent)."""
    level = level or os.environ.get("PARKHUB_LOG_LEVEL", "INFO")
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = _CurrentStderr()
    handler.setFormatter(formatter)
    handler.set_name("parkhub")
    root = logging.getLogger()
    # Replace only our own handler: a host (gunicorn, pytest) may have put its own there.
    root.handlers = [h for h in root.handlers if h.get_name() != "parkhub"] + [handler]
    root.setLevel(level.upper())
    for noisy in ("amqp", "kombu", "werkzeug", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(f, _AlembicPreamble) for f in migration.filters):
        migration.addFilter(_AlembicPreamble())


class _AlembicPreamble(logging.Filter):
    """Drops the two lines alembic logs for every database on every run ("Context impl …",
    "Will assume …"), so that a start with nothing to migrate is quiet; "Running upgrade" stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Context impl", "Will assume"))


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is logged, not to the stream it was when
    logging was configured: a host (pytest's capture, a daemoniser) may swap it, and a handler
    holding a closed stream would fail on every later line."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass  # StreamHandler.__init__ and setStream assign it; sys.stderr stays the truth
