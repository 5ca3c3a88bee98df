"""RFC 9457 problem details: every error any ParkHub endpoint returns, 404 and 405 included.

``type`` is a stable URI under :data:`PROBLEM_BASE` ending in a code clients can branch on;
``errors`` carries per-field messages for validation problems. ``title`` and ``detail`` are
rendered in the request's language (``shared.http.languages``); ``type`` and codes never change
with it. A database that does not answer is a 503 with ``Retry-After``, not an internal error; a
transaction PostgreSQL rolled back because another one got in its way (a deadlock, a
serialization failure) is a 409 ``conflict/concurrent-change``: the database is there, and the
same request sent again will most likely succeed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from flask import Flask, Response, current_app, g, has_request_context
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy import exc as sa
from werkzeug.exceptions import HTTPException

from shared.errors import DomainError
from shared.http.field_messages import field_errors
from shared.http.languages import current_locale
from shared.i18n import Message, Text, _, render

PROBLEM_BASE = "https://parkhub.tianfu-lifescience.cn/problems/"
PROBLEM_JSON = "application/problem+json"


FIELD_ERRORS = {
    "anyOf": [
        {"type": "array", "items": {"type": "string"}, "description": "the field's messages"},
        {"type": "object", "description": "a nested object's or a list's fields (by index), the same way"},
    ]
}
"""What ``errors`` holds for one field: its messages, or for a nested object or a list (its items
by index, a mapping's keys under ``key``/``value``) the same mapping one level down."""


class ProblemSchema(Schema):
    """Every error answer of the platform (RFC 9457), as the OpenAPI documents show it. Members
    beyond these name what a program needs to act (``allowed``, ``case_status``, ``limit``…): RFC
    9457 extension members, so the document allows additional properties (``unknown = INCLUDE``)."""

    class Meta:
        unknown = INCLUDE

    type = fields.Url(required=True, metadata={"description": "the problem's kind; its last part is the code"})
    title = fields.String(required=True, metadata={"description": "the kind in the reader's language"})
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "what went wrong, in the reader's language"})
    request_id = fields.String(metadata={"description": "quote it to the park's desk"})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "per field of the request: what is wrong with it",
            "additionalProperties": FIELD_ERRORS,
        },
    )


DATABASE_RETRY_AFTER = 5
"""Seconds a client is asked to wait while the database is away (503 ``Retry-After``)."""

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

TITLES: dict[int, Message] = {
    400: _("Bad request"),
    401: _("Not signed in"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    412: _("Precondition failed"),
    413: _("Body too large"),
    415: _("Unsupported media type"),
    422: _("Invalid request"),
    428: _("Precondition required"),
    429: _("Too many requests"),
    500: _("Internal error"),
    502: _("Bad gateway"),
    503: _("Service unavailable"),
    504: _("Gateway timeout"),
}
"""The title of each status, in both languages."""


class RequestProblem(Exception):
    """A request refused by the HTTP layer itself (its body or query string), before any view ran."""

    def __init__(
        self,
        status: int,
        detail: Text,
        *,
        code: str,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = dict(headers or {})
        self.extra = extra


def _title(status: int, locale: str) -> str:
    title = TITLES.get(status)
    if title is not None:
        return title.render(locale)
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _document(
    status: int, detail: Text, *, code: str | None, title: Text | None, locale: str, request_id: str | None
) -> dict[str, Any]:
    return {
        "type": PROBLEM_BASE + (code or _HTTP_CODES.get(status, "error")),
        "title": render(title, locale) if title is not None else _title(status, locale),
        "status": status,
        "detail": render(detail, locale),
        **({"request_id": request_id} if request_id else {}),
    }


def _rendered(value: Any, locale: str) -> Any:
    """An extra member in ``locale``: a marked text rendered, also inside lists and objects
    (a refusal's ``failures``, each with its ``detail``); anything else as it is."""
    if isinstance(value, Message):
        return render(value, locale)
    if isinstance(value, Mapping):
        return {key: _rendered(item, locale) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rendered(item, locale) for item in value]
    return value


def problem(
    status: int,
    detail: Text,
    *,
    code: str | None = None,
    title: Text | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response in this request's language."""
    locale = current_locale()
    request_id = getattr(g, "request_id", None) if has_request_context() else None
    body = _document(status, detail, code=code, title=title, locale=locale, request_id=None)
    if errors:
        body["errors"] = field_errors(errors, locale)
    if request_id:
        body["request_id"] = request_id
    body.update({key: _rendered(value, locale) for key, value in extra.items()})
    response = Response(json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_body(
    status: int, detail: Text, code: str | None = None, request_id: str | None = None, locale: str = "en"
) -> bytes:
    """The bytes of a minimal problem in ``locale``, for layers below Flask (the embedded edge)."""
    document = _document(status, detail, code=code, title=None, locale=locale, request_id=request_id)
    return json.dumps(document, ensure_ascii=False).encode()


_HTTP_DETAILS: dict[int, Message] = {
    400: _("The request is malformed."),
    401: _("A bearer token is required."),
    403: _("You are not allowed to do this."),
    404: _("No resource lives at this URL."),
    405: _("This resource does not accept that method."),
    406: _("This resource cannot answer in a format the request accepts."),
    409: _("The request conflicts with the resource's current state."),
    415: _("This endpoint does not accept a body of that media type."),
    422: _("The request is not valid; see errors for each field."),
    429: _("Too many requests; slow down."),
    500: _("Something went wrong on our side; the request id helps us find it."),
    503: _("The service is unavailable; try again shortly."),
}


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
    detail: Text
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        detail = (
            _("The body is over the limit of {limit} bytes.", limit=limit) if limit else _("The body is too large.")
        )
    elif status != 400 and error.description and error.description != type(error).description:
        detail = error.description  # a view's own words (``abort(409, "...")``), as they are
    else:
        # werkzeug's own descriptions ("The browser (or proxy) sent a request that this server
        # could not understand.") talk about browsers and are English only: ours say what to do.
        # A 400's description may quote a decoder ("Failed to decode JSON object: ..."): never shown.
        detail = _HTTP_DETAILS.get(status) or HTTPStatus(status).phrase
    headers = {}
    allowed = getattr(error, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    extra_headers = data.get("headers") if isinstance(data, dict) else None
    if extra_headers:
        headers.update(extra_headers)
    return problem(status, detail, errors=errors, headers=headers)


def from_domain_error(error: DomainError) -> Response:
    return problem(error.status, error.detail, code=error.code, **error.extra)


def from_request_problem(error: RequestProblem) -> Response:
    return problem(error.status, error.detail, code=error.code, headers=error.headers, **error.extra)


CONCURRENT_CHANGE_SQLSTATES = ("40P01", "40001")
"""PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back so
that another could go on."""


def concurrent_change(error: BaseException) -> bool:
    """Whether ``error`` is a transaction PostgreSQL rolled back for another (a deadlock or a
    serialization failure), raised as psycopg's error or wrapped by SQLAlchemy."""
    original = error.orig if isinstance(error, sa.DBAPIError) else error
    return getattr(original, "sqlstate", None) in CONCURRENT_CHANGE_SQLSTATES


_SQLITE_AWAY = ("unable to open database", "database is locked", "disk i/o error", "database disk image")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached right now (rather than a bug of ours).

    PostgreSQL: any operational or interface error (refused or dropped connections, the server
    shutting down, timeouts — all worth a retry) but a :func:`concurrent_change`, and a full
    connection pool. SQLite
    raises ``OperationalError`` for SQL mistakes too, so only its messages about the file count.
    """
    if concurrent_change(error):
        return False
    if isinstance(error, sa.TimeoutError | sa.DisconnectionError | psycopg.OperationalError | psycopg.InterfaceError):
        return True
    if isinstance(error, sa.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
        if isinstance(original, sqlite3.OperationalError):
            return str(original).lower().startswith(_SQLITE_AWAY)
        return isinstance(error, sa.OperationalError | sa.InterfaceError)
    return False


def _first_line(error: Exception) -> str:
    """The driver's own first line of a database error, for one log line without a stack trace."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else ""


def register_problem_handlers(app: Flask) -> None:
    """Make every error of ``app`` a problem in the request's language: HTTP errors, domain errors,
    a transaction rolled back for a concurrent one (409), a database that is away (503), and the
    unexpected (500)."""
    app.register_error_handler(HTTPException, from_http_exception)
    app.register_error_handler(DomainError, from_domain_error)
    app.register_error_handler(RequestProblem, from_request_problem)

    # Bad input that slips past the schemas must still be a 4xx (the unit of work has rolled back).
    def too_deep(_error: RecursionError) -> Response:
        return problem(400, _("The JSON body nests too deeply."), code="body-too-deep")

    def not_storable(error: Exception) -> Response:
        log.info("refused a value the database cannot store: %s", error)
        return problem(
            422,
            _(
                "A value cannot be stored: text must be valid Unicode without NUL characters, "
                "and numbers must fit their fields."
            ),
            code="value-not-storable",
        )

    app.register_error_handler(RecursionError, too_deep)
    app.register_error_handler(UnicodeEncodeError, not_storable)
    # A number too large for the driver (SQLite binds at most 64-bit integers) is raised as
    # Python's own OverflowError, not as a database error.
    app.register_error_handler(OverflowError, not_storable)

    def database_error(error: Exception) -> Response:
        if concurrent_change(error):
            # The request's transaction has rolled back (nothing of it stays): a retry is safe.
            log.warning("transaction rolled back for a concurrent one: %s", _first_line(error))
            return problem(409, _("Another change got there first; try again."), code="conflict/concurrent-change")
        if database_unavailable(error):
            # One line, no stack trace: an outage is an operations matter, not a bug to debug.
            log.warning("database unavailable (%s): %s", type(error).__name__, _first_line(error))
            return problem(
                503,
                _("The database is not answering; try again in a few seconds."),
                code="database-unavailable",
                headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
            )
        if isinstance(error, sa.DataError):
            return not_storable(error)
        return unexpected(error)

    for database_error_class in (
        sa.DBAPIError,
        sa.TimeoutError,
        sa.DisconnectionError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
    ):
        app.register_error_handler(database_error_class, database_error)

    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return problem(500, _HTTP_DETAILS[500])

    app.register_error_handler(Exception, unexpected)
