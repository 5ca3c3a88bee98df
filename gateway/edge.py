"""The embedded edge: what nginx does in the distributed mode, as WSGI middleware.

In order: stamp ``X-Request-ID``; answer CORS preflights for the portal's origins; refuse bodies
over the size limit (413); apply the per-client rate limit (429 with ``Retry-After``); dispatch
``/api/v1/<service>/...`` to that service's app in-process (no socket hop) and the rest to the
gateway. Errors made here are problem+json like everything else, in the language
``Accept-Language`` asks for (``Content-Language`` and ``Vary: Accept-Language`` say so).
Every request it passes on is marked as public (:data:`shared.http.telemetry.PUBLIC`): an app
answers ``/metrics`` with its 404 problem then, as nginx does in the distributed mode.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from gateway.routes import Route, body_limit, route_for
from shared.http.languages import negotiate
from shared.http.problems import PROBLEM_JSON, problem_body
from shared.http.requests import REQUEST_ID
from shared.http.telemetry import PUBLIC
from shared.i18n import CONTENT_LANGUAGE, Message, _
from shared.settings import Settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ADDRESS_CAP = 10
"""A client's address may send this many times its per-client rate: the Authorization header is
the client's to choose, so without this cap made-up tokens would each get a fresh allowance."""
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-ID"
CORS_EXPOSED = "ETag, Location, Retry-After, X-Request-ID, Idempotent-Replayed"


class Edge:
    def __init__(
        self, settings: Settings, gateway: WSGIApp, services: Mapping[str, WSGIApp], routes: list[Route]
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.services = dict(services)
        self.routes = routes
        self.limit = parse(settings.rate_limit)
        self.address_limit = type(self.limit)(self.limit.amount * ADDRESS_CAP, self.limit.multiples)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        environ["HTTP_X_REQUEST_ID"] = request_id
        environ[PUBLIC] = True
        origin = environ.get("HTTP_ORIGIN", "")
        cors = self._cors_headers(origin)

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = {name.lower() for name, _value in headers}
            if "vary" in names:  # the app's Vary (Accept-Language) and ours (Origin) both hold
                headers = [(k, _with_origin(v) if k.lower() == "vary" else v) for k, v in headers]
            extra = [(k, v) for k, v in cors if k.lower() not in names]
            if "x-request-id" not in names:
                extra.append(("X-Request-ID", request_id))
            return (
                start_response(status, headers + extra, exc_info)
                if exc_info
                else start_response(status, headers + extra)
            )

        if environ["REQUEST_METHOD"] == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            respond("204 No Content", [("Access-Control-Max-Age", "600")] if cors else [])
            return [b""]
        length = environ.get("CONTENT_LENGTH") or "0"
        limit = body_limit(self.settings, environ.get("PATH_INFO", ""))
        if length.isdigit() and int(length) > limit:
            detail = _("The body is over the limit of {limit} bytes.", limit=limit)
            return self._problem(environ, respond, 413, detail, request_id)
        retry_after = self._rate_limited(environ)
        if retry_after is not None:
            return self._problem(
                environ,
                respond,
                429,
                _("Too many requests from this client; try again in {seconds} s.", seconds=retry_after),
                request_id,
                headers=[("Retry-After", str(retry_after))],
            )
        route = route_for(self.routes, environ.get("PATH_INFO", ""))
        app = self.services[route.service] if route else self.gateway
        return app(environ, respond)

    def _cors_headers(self, origin: str) -> list[tuple[str, str]]:
        # Every answer depends on Origin (allowed or not), so caches must key on it.
        if not origin or origin not in self.settings.portal_origins:
            return [("Vary", "Origin")]
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Methods", CORS_METHODS),
            ("Access-Control-Allow-Headers", CORS_HEADERS),
            ("Access-Control-Expose-Headers", CORS_EXPOSED),
        ]

    def _rate_limited(self, environ: dict[str, Any]) -> int | None:
        """Seconds to wait when this client is over its limit, else None.

        The client is its bearer token when it sends one (a user session or a partner's client),
        else its address; an address sending tokens may use :data:`ADDRESS_CAP` times the rate in
        all. nginx applies the same two limits in the distributed mode.
        """
        address = "addr:" + environ.get("REMOTE_ADDR", "?")
        credential = environ.get("HTTP_AUTHORIZATION", "")
        checks = [
            (self.limit, "token:" + hashlib.sha256(credential.encode()).hexdigest()[:32] if credential else address)
        ]
        if credential:
            checks.append((self.address_limit, address))
        for limit, key in checks:
            if not self.limiter.hit(limit, key):
                reset_at, _remaining = self.limiter.get_window_stats(limit, key)
                return max(1, math.ceil(reset_at - time.time()))
        return None

    @staticmethod
    def _problem(
        environ: dict[str, Any],
        respond: Callable[..., Any],
        status: int,
        detail: Message,
        request_id: str,
        *,
        headers: list[tuple[str, str]] | None = None,
    ) -> Iterable[bytes]:
        locale = negotiate(environ.get("HTTP_ACCEPT_LANGUAGE"))
        body = problem_body(status, detail, request_id=request_id, locale=locale)
        reason = {413: "Payload Too Large", 429: "Too Many Requests"}[status]
        respond(
            f"{status} {reason}",
            [
                ("Content-Type", PROBLEM_JSON),
                ("Content-Length", str(len(body))),
                ("Content-Language", CONTENT_LANGUAGE[locale]),
                ("Vary", "Accept-Language"),
                *(headers or []),
            ],
        )
        return [body]


def _with_origin(vary: str) -> str:
    """``vary`` with ``Origin`` among its fields (every answer depends on it: CORS)."""
    fields = [f.strip() for f in vary.split(",") if f.strip()]
    if "*" in fields or any(f.lower() == "origin" for f in fields):
        return vary
    return ", ".join([*fields, "Origin"])
