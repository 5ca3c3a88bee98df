"""The platform-wide endpoints of the gateway: health of everything, one OpenAPI, the docs page."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from gateway.upstreams import Upstreams
from shared.bus.outbox import backlog
from shared.http.app import current_database, database_health
from shared.http.problems import DATABASE_RETRY_AFTER, problem
from shared.i18n import _

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ParkHub API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#docs", deepLinking: true,
  persistAuthorization: true, displayRequestDuration: true, filter: true});</script></body></html>"""
"""The docs page: Swagger UI 5 (it reads OpenAPI 3.1) over the merged document, its assets served
by the gateway from the ``swagger-ui-bundle-v2`` package, so it works with no network beyond the
park. ``Authorize`` gets a token from the OAuth 2.0 flows the document declares
(``shared.http.app.SECURITY_SCHEMES``); ``persistAuthorization`` keeps it across reloads."""

DOCS_ASSETS = Path(str(swagger_ui_path))
DOCS_ASSET_MAX_AGE = 24 * 3600
"""The assets change only with the package, and the page itself is never cached for long."""


def platform_blueprint(upstreams: Upstreams, bus_health: Callable[[], dict[str, Any]]) -> Blueprint:
    blp = Blueprint("platform", __name__)

    @blp.get("/api/v1/health")
    def health() -> Response:
        """Every service, every database and the bus: 200 when all are up, else 503.

        The health report: each service's database and outbox (``pending``, ``oldest`` in park
        time, ``unroutable``, ``unsubscribed``: see :func:`shared.bus.outbox.backlog`) and the
        broker. Rows the broker returned although a subscriber is declared are ``errors`` (a
        handler's queue is missing) and make the platform degraded. 200 answers the report as
        plain JSON (``status: ok``); 503 is a problem like every other error of the API
        (``application/problem+json``, type ``…/problems/unavailable``, ``Retry-After``) whose
        extension members ``services``, ``bus`` and ``errors`` are the whole report."""
        language = request.headers.get("Accept-Language")  # the services' warnings in the reader's language
        with ThreadPoolExecutor(max_workers=len(upstreams.services) or 1) as pool:
            probes = pool.map(lambda s: upstreams.get_json(s, "health", language=language), upstreams.services)
            answers = dict(zip(upstreams.services, probes, strict=True))
        services: dict[str, Any] = {}
        for service, (status, body) in answers.items():
            if status == 200 and isinstance(body, dict):
                services[service] = body
            else:
                services[service] = {"service": service, "status": "down", "http_status": status}
        database = database_health(current_database())
        try:
            outbox = backlog(current_database())
        except Exception as exc:  # noqa: BLE001 - a database that is down is reported, not raised
            outbox = {"error": type(exc).__name__}
        services = {
            "gateway": {
                "service": "gateway",
                "status": "ok" if database["status"] == "ok" and "error" not in outbox else "degraded",
                "database": database,
                "outbox": outbox,
            },
            **services,
        }
        errors = [
            f"{name}: {count} event(s) the broker returned although a subscriber is declared"
            for name, report in services.items()
            if isinstance(report.get("outbox"), dict) and (count := report["outbox"].get("unroutable"))
        ]
        bus = bus_health()
        healthy = bus.get("status") == "ok" and all(s.get("status") == "ok" for s in services.values()) and not errors
        report = {"services": services, "bus": bus, "errors": errors}
        if healthy:
            response = jsonify({"status": "ok", **report})
        else:
            response = problem(
                503,
                _("Part of the platform is down or degraded; services, bus and errors say which."),
                code="unavailable",
                headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
                services=services,
                bus=bus,
            )
            # problem()'s own ``errors`` is per-field validation messages (translated, dropped
            # when empty): the report's errors are operators' lines, added as they are.
            document = json.loads(response.get_data())
            response.set_data(json.dumps({**document, "errors": errors}, ensure_ascii=False))
        response.headers["Cache-Control"] = "no-store"
        return response

    @blp.get("/api/v1/openapi.json")
    def openapi() -> Response:
        """The gateway's and every service's OpenAPI documents, merged into one."""
        merged = copy.deepcopy(current_app.extensions["parkhub.api"].spec.to_dict())
        merged["info"] = {
            "title": "ParkHub API",
            "version": "v1",
            "description": "The service platform of Tianfu Life Science Park: identity, booking, "
            "consulting, finance and notifications. Authenticate with POST /api/v1/auth/token.",
        }
        for service in upstreams.services:
            status, spec = upstreams.get_json(service, "openapi.json")
            if status == 200 and isinstance(spec, dict):
                merge_spec(merged, spec, service)
        return jsonify(merged)

    @blp.get("/docs")
    @blp.get("/docs/")
    def docs() -> Response:
        """The docs page, at ``/docs`` and ``/docs/`` alike (no redirect: both are what people type)."""
        response = Response(DOCS_PAGE, mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @blp.get("/docs/assets/<path:name>")
    def docs_assets(name: str) -> Response:
        """Swagger UI's files; a name outside the bundle is a 404 problem (``send_from_directory``
        refuses paths that climb out of it)."""
        return send_from_directory(DOCS_ASSETS, name, max_age=DOCS_ASSET_MAX_AGE)

    return blp


def merge_spec(target: dict[str, Any], spec: dict[str, Any], service: str) -> None:
    """Add ``spec``'s paths, tags and component schemas to ``target``.

    Schema names that collide with a different definition are prefixed with the service name
    (and the references to them rewritten), so no service silently redefines another's schema.
    """
    schemas = target.setdefault("components", {}).setdefault("schemas", {})
    renames: dict[str, str] = {}
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if name in schemas and schemas[name] != schema:
            renames[name] = f"{service.capitalize()}{name}"
    if renames:
        spec = _rewrite_refs(
            spec, {f"#/components/schemas/{a}": f"#/components/schemas/{b}" for a, b in renames.items()}
        )
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        schemas[renames.get(name, name)] = schema
    for kind in ("responses", "parameters", "securitySchemes"):
        target["components"].setdefault(kind, {}).update(spec.get("components", {}).get(kind, {}))
    target.setdefault("paths", {}).update(spec.get("paths", {}))
    known = {tag["name"] for tag in target.setdefault("tags", [])}
    target["tags"] += [tag for tag in spec.get("tags", []) if tag["name"] not in known]


def _rewrite_refs(node: Any, refs: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: (refs.get(v, v) if k == "$ref" else _rewrite_refs(v, refs)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(item, refs) for item in node]
    return node
