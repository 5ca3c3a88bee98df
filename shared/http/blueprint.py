"""The blueprint every ParkHub API is built from: flask-smorest's, with the platform's argument parser.

Every view module imports :class:`Blueprint` from here, never from ``flask_smorest``, so that how
requests are parsed (bodies, query strings, their errors) is decided in one place
(``shared.http.arguments``).

Query strings are strict everywhere: an endpoint with a query schema refuses parameters the schema
does not name, and an endpoint without one refuses any query string (400 ``unknown-parameter``),
so a client never believes a parameter did something. A view whose URL is handed to programs we
do not control (a calendar client may append a cache-busting parameter to an iCal feed URL) is
marked :func:`ignores_query`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest
from flask import current_app, request

from shared.http.arguments import ArgumentsParser, refuse_unknown_parameters

F = TypeVar("F", bound=Callable[..., Any])
_IGNORES_QUERY = "_parkhub_ignores_query"


def ignores_query(view: F) -> F:
    """Mark a view (function or MethodView method; the outermost decorator) as taking any query string."""
    setattr(view, _IGNORES_QUERY, True)
    return view


def _declares_query(view: Callable[..., Any]) -> bool:
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") in ("query", "querystring") for p in parameters if isinstance(p, dict))


def _refuse_stray_query() -> None:
    """Before a view of a blueprint: refuse a query string the view has no schema for."""
    if not request.args or request.method == "OPTIONS" or request.endpoint is None:
        return
    view: Any = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = request.method.lower()
        view = getattr(view_class, method, None) or (getattr(view_class, "get", None) if method == "head" else None)
    if view is None or getattr(view, _IGNORES_QUERY, False) or _declares_query(view):
        return  # no such method (405 follows), or the parser checks the query against the schema
    refuse_unknown_parameters(request.args.keys(), [])


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # flask-smorest has no types
    """A flask-smorest blueprint whose ``@arguments`` use the platform's parser, and whose views
    without a query schema refuse query strings."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(_refuse_stray_query)

    def register_views_in_doc(self, api: Any, app: Any, spec: Any, *, name: str, parameters: Any) -> None:
        """Give every operation an ``operationId`` (blueprint, endpoint, method), so that code
        generators name a client's methods after the API and not after its paths (a view's own
        ``@blp.doc(operationId=...)`` wins), and the problems it may answer (:func:`problems_of`)."""
        for endpoint, info in self._docs.items():
            rule = next(app.url_map.iter_rules(f"{name}.{endpoint}"))
            for method, operation in info.items():
                if method == "parameters" or not isinstance(operation, dict):
                    continue
                manual = operation.setdefault("manual_doc", {})
                manual.setdefault("operationId", re.sub(r"\W+", "_", f"{name}_{endpoint}_{method}"))
                responses = manual.setdefault("responses", {})
                for status, component in problems_of(method, bool(rule.arguments), manual).items():
                    responses.setdefault(status, component)
        super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)


def problems_of(method: str, has_path_parameters: bool, manual_doc: dict[str, Any]) -> dict[str, str]:
    """The problems every operation of this shape may answer, as references to the responses
    the platform's ``Api`` registers (application/problem+json): 429 and 503 always (the edge's
    rate limit, a database away; both with ``Retry-After``), 401 and 403 unless it is public
    (``security: []``), 404 when its path names something, 409 for a change, 412 and 428 when it
    takes ``If-Match``. A view documents its own (a 422 with its schema) with ``@blp.alt_response``
    or ``@blp.doc``, which win."""
    problems: dict[str, str] = {"429": "TOO_MANY_REQUESTS", "503": "SERVICE_UNAVAILABLE"}
    if manual_doc.get("security") != []:
        problems |= {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}
    if has_path_parameters:
        problems["404"] = "NOT_FOUND"
    if method in ("post", "put", "patch", "delete"):
        problems["409"] = "CONFLICT"
    if any(p.get("name") == "If-Match" for p in manual_doc.get("parameters", []) if isinstance(p, dict)):
        problems |= {"412": "PRECONDITION_FAILED", "428": "PRECONDITION_REQUIRED"}
    return problems
