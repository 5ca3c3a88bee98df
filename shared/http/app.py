"""The Flask application every service is built from: same errors, ids, tokens, docs and ops.

``create_service_app`` gives each service, under ``/api/v1/<service>``:
``/health`` (no token), ``/openapi.json``, the staff endpoints for dead letters, and the
service's own blueprints; and at the root ``/metrics`` (no token, Prometheus: served on the
process's own port, never through the edge) with every request measured and traced
(:mod:`shared.http.telemetry`). No I/O happens here: databases are connected on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import fields
from sqlalchemy import text

from shared.bus.inbox import Inbox
from shared.bus.runtime import Participant
from shared.db import Database
from shared.http.auth import init_auth
from shared.http.blueprint import Blueprint
from shared.http.languages import init_languages
from shared.http.problems import PROBLEM_JSON, ProblemSchema, register_problem_handlers
from shared.http.requests import init_request_ids
from shared.http.telemetry import init_telemetry
from shared.http.views import unit_of_work
from shared.service import ServiceTables
from shared.settings import Settings

__all__ = [
    "SECURITY_SCHEMES",
    "ServiceContext",
    "create_service_app",
    "current_database",
    "database_health",
    "openapi_config",
    "service_app",
    "service_context",
    "unit_of_work",
]

TOKEN_URL = "/api/v1/auth/token"
"""Relative, as OpenAPI 3.1 allows: the docs page and code generators resolve it against the
address they read the document from, so one document serves every deployment."""

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": f"An access token from POST {TOKEN_URL}, sent as `Authorization: Bearer <token>`.",
    },
    # The same tokens, declared as the OAuth 2.0 flows that issue them, so that the docs page's
    # Authorize can get one itself: people sign in with the password flow (client_id left empty:
    # the gateway refuses an id it cannot authenticate), partner systems with client credentials.
    "oauth2": {
        "type": "oauth2",
        "description": "People: the password grant. Partner systems: client credentials (HTTP Basic or form).",
        "flows": {
            "password": {"tokenUrl": TOKEN_URL, "refreshUrl": TOKEN_URL, "scopes": {}},
            "clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": {}},
        },
    },
}
"""Every service declares both; an operation needs one of them (``security`` lists them as
alternatives). Roles come from the token, not from scopes, so the flows declare none."""


@dataclass(frozen=True)
class ServiceContext:
    """What a request of a service may reach: its settings, its database, its inbox."""

    name: str
    settings: Settings
    database: Database
    inbox: Inbox | None


def service_context() -> ServiceContext:
    context: ServiceContext = current_app.extensions["parkhub"]
    return context


def current_database() -> Database:
    return service_context().database


RETRY_AFTER = {
    "description": "seconds to wait before sending the request again",
    "schema": {"type": "integer", "minimum": 1},
}


class PlatformApi(Api):  # type: ignore[misc]  # flask-smorest has no types
    """flask-smorest's ``Api`` whose error responses are what the platform answers: problem+json
    (:class:`ProblemSchema`), not flask-smorest's own JSON error. Operations refer to them by
    name (``"NOT_FOUND"``: :func:`shared.http.blueprint.problems_of`)."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *args: Any, **kwargs: Any) -> None:
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(decimal_text_property)
        self.ma_plugin.converter.add_attribute_function(nullable_enum_property)

    def _register_responses(self) -> None:
        # flask-smorest's registration, with the problem media type instead of application/json.
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
                response["headers"] = {"Retry-After": RETRY_AFTER}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "A problem (application/problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


def decimal_text_property(converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The document's type of a ``fields.Decimal(as_string=True)``: a string (``"500000.00"``), as
    it is written, and not apispec's ``number`` (a client validating against the document would
    refuse every amount); nullable still when the field allows ``None``."""
    if not (isinstance(field, fields.Decimal) and field.as_string):
        return {}
    kind = ret.get("type")
    if kind == "number":
        return {"type": "string", "format": "decimal"}
    if isinstance(kind, list) and "number" in kind:
        return {"type": ["string" if item == "number" else item for item in kind], "format": "decimal"}
    return {}


def nullable_enum_property(converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """An ``enum`` of a field that allows ``None`` lists ``null`` too: apispec adds ``"null"`` to
    the type but not to the enum, and JSON Schema checks both, so every ``null`` the field really
    answers would break the document."""
    enum = ret.get("enum")
    if field.allow_none and isinstance(enum, list) and None not in enum:
        return {"enum": [*enum, None]}
    return {}


def openapi_config(name: str, title: str, description: str) -> dict[str, Any]:
    return {
        "API_TITLE": title,
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": f"/api/v1/{name}" if name != "gateway" else "/api/v1",
        "OPENAPI_JSON_PATH": f"{name}-openapi.json" if name == "gateway" else "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": description},
            "security": [{"bearerAuth": []}, {"oauth2": []}],
            "components": {"securitySchemes": SECURITY_SCHEMES},
        },
    }


def create_service_app(
    name: str,
    *,
    settings: Settings,
    database: Database,
    inbox: Inbox | None,
    blueprints: Sequence[Blueprint],
    title: str,
    description: str,
    url_prefix: str | None = None,
    ops: bool = True,
) -> Flask:
    """Build a service's app; its routes live under ``url_prefix`` (``/api/v1/<name>``).

    ``ops=False`` leaves out the per-service health and dead-letter endpoints: the gateway serves
    a platform-wide ``/api/v1/health`` instead, and has no inbox whose letters could die.
    """
    url_prefix = url_prefix if url_prefix is not None else f"/api/v1/{name}"
    app = Flask(f"parkhub.{name}")
    app.config.update(openapi_config(name, title, description))
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["parkhub"] = ServiceContext(name, settings, database, inbox)
    api = PlatformApi(app)
    app.extensions["parkhub.api"] = api  # the gateway merges every service's spec
    register_problem_handlers(app)  # after Api: ours replace flask-smorest's JSON errors
    init_request_ids(app, name)
    init_telemetry(app, name, database)  # after the request id: its log line is inside the span
    init_languages(app)
    init_auth(app, settings, database=database)

    from shared.http.ops import ops_blueprint  # noqa: PLC0415 - it imports this module

    if ops:
        api.register_blueprint(ops_blueprint(name), url_prefix=url_prefix)
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=url_prefix)
    return app


def service_app(
    tables: ServiceTables,
    parts: Participant,
    settings: Settings,
    *,
    blueprints: Sequence[Blueprint] = (),
    title: str,
    description: str,
) -> Flask:
    """The app of a service built on the template (docs/SERVICE.md): ``create_service_app`` over
    the participant's database and inbox, with the service's ``blueprints`` and its directory's
    read endpoints (``/organisations``)."""
    from shared.http.directory import directory_blueprint  # noqa: PLC0415 - it imports this module

    return create_service_app(
        tables.name,
        settings=settings,
        database=parts.database,
        inbox=parts.inbox,
        blueprints=[*blueprints, directory_blueprint(tables.name, tables.directory)],
        title=title,
        description=description,
    )


def database_health(database: Database) -> dict[str, Any]:
    """Whether the database answers, and (SQLite) its file is still there: a pooled connection
    keeps answering from a deleted file, and what it writes is lost."""
    try:
        path = database.engine.url.database
        if database.is_sqlite and path and path != ":memory:" and not Path(path).exists():
            return {"status": "down", "error": "database file missing"}
        with database.reading() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "ok", "backend": database.engine.dialect.name}
