"""How the gateway reaches the services for its own needs (health, OpenAPI documents).

Requests of clients never pass through here: they are routed by the edge or by nginx. The
gateway only asks each service for ``/health`` and ``/openapi.json``: in-process in the embedded
mode, over HTTP with a short timeout in the distributed one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from werkzeug.test import Client

from gateway.routes import Route
from shared.http.requests import SUBREQUEST

TIMEOUT_SECONDS = 2.0


class Upstreams(Protocol):
    services: list[str]

    def get_json(self, service: str, path: str, *, language: str | None = None) -> tuple[int, Any]:
        """GET ``/api/v1/<service>/<path>``; ``(status, body)``, status 0 when unreachable.
        ``language`` is the client's ``Accept-Language``, passed on so that texts in the answer
        (a service's health warnings) are in the client's language."""


class InProcessUpstreams:
    def __init__(self, apps: Mapping[str, Any]) -> None:
        self.apps = dict(apps)
        self.services = list(self.apps)

    def get_json(self, service: str, path: str, *, language: str | None = None) -> tuple[int, Any]:
        headers = {"Accept-Language": language} if language else {}
        response = Client(self.apps[service]).get(
            f"/api/v1/{service}/{path}", headers=headers, environ_base={SUBREQUEST: True}
        )
        try:
            return response.status_code, json.loads(response.get_data())
        except ValueError:
            return response.status_code, None


class HttpUpstreams:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = {route.service: route for route in routes}
        self.services = list(self.routes)

    def get_json(self, service: str, path: str, *, language: str | None = None) -> tuple[int, Any]:
        url = f"{self.routes[service].upstream.rstrip('/')}/api/v1/{service}/{path}"
        headers = {"Accept-Language": language} if language else {}
        upstream = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own upstreams
        try:
            with urllib.request.urlopen(upstream, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read())
            except ValueError:
                return exc.code, None
        except (OSError, ValueError):
            return 0, None
