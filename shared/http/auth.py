"""Token verification and permissions, done by every service itself (it trusts no network).

Access tokens are RS256 JWTs signed by the gateway; the public keys come from its JWKS (a URL in
the distributed mode, the file the gateway writes under ``var/keys`` in the embedded one). A token
is accepted only with a known ``kid``, a valid signature, our issuer and audience, an unexpired
``exp`` and ``type == "access"``, and not revoked since (:mod:`shared.revocation`: the
service's snapshot of ``access_revocations``, no query per request); anything else is a 401 problem.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import jwt
from flask import Flask, g, request
from flask_jwt_extended import JWTManager, verify_jwt_in_request
from flask_jwt_extended.exceptions import NoAuthorizationError

from shared.db import Database
from shared.errors import PermissionDenied
from shared.http import token_refusals
from shared.i18n import Listing, _, label
from shared.principal import ROLES, STAFF_ROLES, Principal
from shared.revocation import RevocationList
from shared.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
__all__ = ["ROLES", "STAFF_ROLES", "KeySet", "Principal", "caller", "current_principal", "init_auth", "requires"]


class KeySet:
    """The gateway's public keys by ``kid``; re-read at most every 30 s when a kid is unknown."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._keys: dict[str, Any] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def key(self, kid: str | None) -> Any:
        if not kid:
            raise jwt.InvalidTokenError("token has no key id")
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._loaded_at > 30:
                self._load()
            try:
                return self._keys[kid]
            except KeyError:
                raise jwt.InvalidTokenError("token was signed by an unknown key") from None

    def _load(self) -> None:
        self._loaded_at = time.monotonic()
        try:
            if self.source.startswith(("http://", "https://")):
                document = jwt.PyJWKClient(self.source, cache_keys=False, timeout=5).fetch_data()
            else:
                document = json.loads(Path(self.source).read_text())
            keyset = jwt.PyJWKSet.from_dict(document)
        except (OSError, ValueError, jwt.PyJWTError):
            return  # keep what we had; the token at hand is then refused as unknown
        self._keys = {k.key_id: k.key for k in keyset.keys if k.key_id}


def init_auth(
    app: Flask, settings: Settings, keys: KeySet | None = None, *, database: Database | None = None
) -> JWTManager:
    """Configure token verification on ``app``; all failures become 401 problems. With
    ``database`` (the service's own), a token revoked there is refused too (reason ``revoked``)."""
    app.config.update(
        JWT_ALGORITHM="RS256",
        JWT_DECODE_ALGORITHMS=["RS256"],
        JWT_DECODE_AUDIENCE=settings.audience,
        JWT_DECODE_ISSUER=settings.issuer,
        JWT_ENCODE_AUDIENCE=settings.audience,
        JWT_ENCODE_ISSUER=settings.issuer,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_IDENTITY_CLAIM="sub",
        JWT_ACCESS_TOKEN_EXPIRES=settings.access_ttl_seconds,
        JWT_ERROR_MESSAGE_KEY="detail",
    )
    manager = JWTManager(app)
    keys = keys or KeySet(settings.jwks_source)
    manager.decode_key_loader(lambda header, _claims: keys.key(header.get("kid")))
    if database is not None:
        revoked = RevocationList(database, refresh_seconds=settings.revocation_refresh_seconds)
        app.extensions["parkhub.revocations"] = revoked
        # Asked after the signature and claims held; a True answer is the revoked_token_loader's 401.
        manager.token_in_blocklist_loader(lambda _header, claims: revoked.refuses(claims))

    # The reasons PyJWT gives are decoder internals: token_refusals says what is wrong in our words.
    manager.unauthorized_loader(token_refusals.missing)
    manager.invalid_token_loader(token_refusals.refused)
    # Each refusal of a token that was sent is also logged as a security event (token_refusals.EVENT).
    manager.expired_token_loader(token_refusals.refused_as("expired", token_refusals.EXPIRED))
    manager.revoked_token_loader(token_refusals.refused_as("revoked", token_refusals.REVOKED))
    manager.needs_fresh_token_loader(token_refusals.refused_as("not_fresh", token_refusals.NEEDS_FRESH))
    manager.user_lookup_error_loader(token_refusals.refused_as("subject_unknown", token_refusals.SUBJECT_UNKNOWN))
    manager.token_verification_failed_loader(
        token_refusals.refused_as("verification_failed", token_refusals.VERIFICATION_FAILED)
    )
    return manager


def current_principal() -> Principal:
    """The verified caller of this request; raises (→ 401) when there is none.

    The token is decoded and verified once per request: the principal is kept on ``flask.g``,
    so the idempotency check, ``requires`` and the view all see the same caller for one cost.
    """
    known = caller()
    if known is None:
        verify_jwt_in_request()  # no token at all: raises the 401 with flask-jwt-extended's reason
        raise NoAuthorizationError("Missing Authorization Header")  # exempt methods (OPTIONS) get here
    return known


def caller() -> Principal | None:
    """The verified caller, or None when the request carries no token; an invalid token raises
    (→ 401). Verified on first use and cached on ``flask.g`` for the rest of the request.

    The cache names the request it belongs to: ``g`` is the app context's, and Flask reuses an
    app context still pushed (a streamed answer whose iterator was not closed yet) for the next
    request on the thread, which must never be served as the previous caller."""
    here = request.environ  # one per request (WSGI), unlike the app context
    cached = g.get("parkhub_caller")
    if cached is not None and cached[0] is here:
        known: Principal | None = cached[1]
        return known
    verified = verify_jwt_in_request(optional=True)
    principal = None if verified is None else _principal_of(verified[1])
    g.parkhub_caller = (here, principal)
    return principal


def _principal_of(claims: dict[str, Any]) -> Principal:
    return Principal(
        subject=str(claims["sub"]),
        org_id=str(claims.get("org", "")),
        org_kind=str(claims.get("org_kind", "")),
        roles=frozenset(claims.get("roles", ())),
        name=str(claims.get("name", "")),
    )


def requires(*roles: str) -> Callable[[F], F]:
    """Decorator: a valid token (else 401), and (when ``roles`` are given) one of them, or a 403
    problem whose ``detail`` names the roles by their labels in the reader's language and whose
    ``roles`` member lists their codes (``["park_admin", "desk_staff"]``) for clients to branch on.

    This is the one role check of a request: handlers trust the view's decorator and check only
    what depends on the rows (whose reservation, which organisation). It is the outermost
    decorator of a view (docs/SERVICE.md, step 7): a caller who may not do something learns
    that before anything about the body, and nothing is claimed or opened for them.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if roles and not principal.has_any(roles):
                labels = Listing(tuple(label("role", role) for role in roles))
                raise PermissionDenied(_("This needs one of the roles: {roles}.", roles=labels), roles=list(roles))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
