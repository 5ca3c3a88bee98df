"""RFC 9457 problem details: every error any ParkHub endpoint returns, 404 and 405 included.

``type`` is a stable URI under :data:`PROBLEM_BASE` ending in a code clients can branch on;
``errors`` carries per-field messages for validation problems.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from shared.errors import DomainError

PROBLEM_BASE = "https://parkhub.tianfu-lifescience.cn/problems/"
PROBLEM_JSON = "application/problem+json"

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
    502: "bad-gateway",
    503: "unavailable",
    504: "gateway-timeout",
}


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (code or _HTTP_CODES.get(status, "error")),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    request_id = getattr(g, "request_id", None) if g else None
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_body(status: int, detail: str, code: str | None = None, request_id: str | None = None) -> bytes:
    """The bytes of a minimal problem, for layers below Flask (the embedded edge)."""
    body = {
        "type": PROBLEM_BASE + (code or _HTTP_CODES.get(status, "error")),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if request_id:
        body["request_id"] = request_id
    return json.dumps(body).encode()


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = None
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:
        # webargs nests by location ({"json": {...}, "query": {...}}); clients want fields.
        errors = {}
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                errors.update(location_errors)
    detail = (
        {
            404: "No resource lives at this URL.",
            405: "This resource does not accept that method.",
            422: "The request is not valid; see errors for each field.",
        }.get(status)
        or (data.get("message") if isinstance(data, dict) else None)
        or error.description
        or ""
    )
    headers = {}
    allowed = getattr(error, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    extra_headers = data.get("headers") if isinstance(data, dict) else None
    if extra_headers:
        headers.update(extra_headers)
    return problem(status, str(detail), errors=errors, headers=headers)


def from_domain_error(error: DomainError) -> Response:
    return problem(error.status, error.detail, code=error.code, **error.extra)


def register_problem_handlers(app: Flask) -> None:
    """Make every error of ``app`` a problem: HTTP errors, domain errors, and the unexpected."""
    app.register_error_handler(HTTPException, from_http_exception)
    app.register_error_handler(DomainError, from_domain_error)

    # Bad input that slips past the schemas must still be a 4xx (the unit of work has rolled back).
    def too_deep(_error: RecursionError) -> Response:
        return problem(400, "The JSON body nests too deeply.", code="body-too-deep")

    def not_storable(error: Exception) -> Response:
        log.info("refused a value the database cannot store: %s", error)
        return problem(
            422,
            "A value cannot be stored: text must be valid Unicode without NUL characters, "
            "and numbers must fit their fields.",
            code="value-not-storable",
        )

    app.register_error_handler(RecursionError, too_deep)
    app.register_error_handler(UnicodeEncodeError, not_storable)
    app.register_error_handler(DataError, not_storable)

    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return problem(500, "Something went wrong on our side; the request id helps us find it.")

    app.register_error_handler(Exception, unexpected)
