"""``GET /.well-known/jwks.json``: the public keys that verify the gateway's tokens (no token needed)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields

from gateway.keys import jwks_document
from shared.http.blueprint import Blueprint, ignores_query

blp = Blueprint("jwks", __name__, description="Public signing keys (RFC 7517).")


class JwksSchema(Schema):
    keys = fields.List(fields.Dict(), required=True)


@blp.route("/.well-known/jwks.json")
@ignores_query  # its URL is handed to JWKS clients and caches we do not control, which may append parameters
@blp.doc(security=[])
@blp.response(200, JwksSchema)
def jwks() -> Any:
    """The JWK Set services verify access tokens with; keys are found by the token's ``kid``."""
    # Short caching: a service that meets an unknown kid re-fetches anyway (shared.http.auth).
    extensions = current_app.extensions
    document = jwks_document(extensions["parkhub.signing_key"], extensions["parkhub.retired_keys"])
    return document, 200, {"Cache-Control": "public, max-age=300"}
