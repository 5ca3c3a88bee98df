"""Request ids: taken from ``X-Request-ID`` (the edge stamps one) or made here; echoed on every
response, bound into every log line, and handed to units of work as the ``correlationid``."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, Response, g, request

REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
"""What an incoming ``X-Request-ID`` may be (the edge, nginx and every app agree); else one is made."""
SUBREQUEST = "parkhub.subrequest"
"""WSGI environ key set on the gateway's own in-process requests to the services."""
log = structlog.get_logger("parkhub.http")


def request_id() -> str:
    return str(getattr(g, "request_id", "")) or str(uuid.uuid4())


def init_request_ids(app: Flask, service: str) -> None:
    @app.before_request
    def _stamp() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        g.started = time.perf_counter()
        # Tokens, not clear(): an in-process sub-request (the gateway asking a service for its
        # health) must hand the outer request its own context back when it ends.
        g.log_context = structlog.contextvars.bind_contextvars(request_id=g.request_id, service=service)

    @app.after_request
    def _echo(response: Response) -> Response:
        rid = getattr(g, "request_id", None)
        if rid:
            response.headers["X-Request-ID"] = rid
        started = getattr(g, "started", None)
        # Health probes (a supervisor's every few seconds, and the gateway asking each service in
        # process) would drown the log of real traffic: they are logged at debug level.
        quiet = request.path.endswith(("/health", "/metrics")) or request.environ.get(SUBREQUEST)
        (log.debug if quiet else log.info)(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 1) if started else None,
        )
        return response

    @app.teardown_request
    def _unbind(_error: BaseException | None) -> None:
        tokens = g.pop("log_context", None)
        if tokens:
            structlog.contextvars.reset_contextvars(**tokens)
