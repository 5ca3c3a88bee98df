"""The gateway's API: identity and tokens under ``/api/v1``, the JWKS at ``/.well-known/jwks.json``,
and the platform-wide health, OpenAPI and docs (:mod:`gateway.api.platform`).

``create_app`` loads (or on first start generates) the signing key and the key that hashes client
secrets, and writes ``jwks.json``; nothing happens at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from flask import Flask

from gateway.api import api_clients, auth, jwks, me, organisations, users
from gateway.api.platform import platform_blueprint
from gateway.client_secrets import load_client_secrets
from gateway.keys import SigningKey, load_signing_key, retired_public_keys
from gateway.models import NAME, database
from gateway.routes import route_table
from gateway.upstreams import HttpUpstreams, Upstreams
from shared.bus.transport import broker_health
from shared.http.app import create_service_app
from shared.settings import Settings

BusHealth = Callable[[], dict[str, Any]]


def create_app(
    settings: Settings | None = None,
    *,
    upstreams: Upstreams | None = None,
    bus_health: BusHealth | None = None,
) -> Flask:
    """Build the gateway. ``upstreams`` and ``bus_health`` feed ``/api/v1/health`` and the merged
    OpenAPI document: the embedded platform passes in-process ones; by default the services are
    asked over HTTP at their routes' upstreams (the distributed mode)."""
    settings = settings or Settings.from_env()
    key = load_signing_key(settings)
    client_secrets = load_client_secrets(settings)
    app = create_service_app(
        NAME,
        settings=settings,
        database=database(settings),
        inbox=None,
        blueprints=[auth.blp, me.blp, organisations.blp, users.blp, api_clients.blp],
        title="ParkHub Gateway",
        description="Identity of Tianfu Life Science Park's platform: organisations, users, partner API "
        "clients, and OAuth 2.0 tokens.",
        url_prefix="/api/v1",
        ops=False,
    )
    _use_signing_key(app, key, retired_public_keys(settings))
    app.extensions["parkhub.client_secrets"] = client_secrets
    app.extensions["parkhub.api"].register_blueprint(jwks.blp, url_prefix="")
    app.register_blueprint(
        platform_blueprint(
            upstreams or HttpUpstreams(route_table(settings)),
            bus_health or (lambda: broker_health(settings)),
        )
    )
    return app


def _use_signing_key(app: Flask, key: SigningKey, retired: dict[str, Any]) -> None:
    """Sign with the private key; verify our own tokens with its public half (or a retired key
    still in its grace), without reading the JWKS back from a file or URL (shared.http.auth's
    default for the services)."""
    app.config["JWT_PRIVATE_KEY"] = key.private_key  # the loaded key: a PEM is parsed per token
    app.config["JWT_COOKIE_CSRF_PROTECT"] = False  # tokens travel in headers only: no csrf claim
    app.extensions["parkhub.signing_key"] = key
    app.extensions["parkhub.retired_keys"] = retired
    verifying = {key.kid: key.public_key, **retired}

    def decode_key(header: dict[str, Any], _claims: dict[str, Any]) -> Any:
        try:
            return verifying[str(header.get("kid"))]
        except KeyError:
            raise jwt.InvalidTokenError("token was signed by an unknown key") from None

    app.extensions["flask-jwt-extended"].decode_key_loader(decode_key)
