"""What a client is told when its bearer token is missing or refused: a 401 in its language.

flask-jwt-extended hands ``init_auth``'s loaders the reason as PyJWT worded it ("Invalid header
string: 'utf-8' codec can't decode byte 0xb7…"); those are decoder internals, so the reason is
only sorted into one of our own texts here, and never echoed.

Every refusal of a token that was there (not a missing one: that is a client not signed in, not
an attack) is also a security event: one warning on the ``parkhub.security`` logger, event
:data:`EVENT`, with a fixed ``reason`` code, the request id, the client's address, the method and
path, and what the token says of itself where it can be read without trusting it (``kid``,
``alg``, ``typ``, ``jti``, ``sub``, ``type``). Never the token's text or signature, and never a
raw header: each value is cut to a few dozen characters of a plain alphabet
(:func:`_loggable`), so a client cannot write what it likes into the log, nor flood it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import structlog
from flask import Response, g, has_request_context, request

from shared.http.problems import problem
from shared.i18n import Message, _

__all__ = ["EVENT", "missing", "record", "refused", "token_refused"]

EVENT = "security.token_refused"
"""The event name of every refused token, at every service and at the gateway."""
log = structlog.get_logger("parkhub.security")
_PLAIN = re.compile(r"[^A-Za-z0-9._:@/+=-]")
_VALUE_CAP = 64
_PATH_CAP = 200
_TOKEN_CAP = 8192
"""A bearer longer than this is not even decoded for the log (nothing a real token needs)."""
_SELF_DESCRIPTION = {"header": ("kid", "alg", "typ"), "claims": ("jti", "sub", "type")}

MALFORMED = _("The bearer token is malformed.")
NOT_VALID = _("The token is not valid.")

# PyJWT's and flask-jwt-extended's reasons, by how they start: the security event's reason code
# and what we say instead.
_REASONS: tuple[tuple[tuple[str, ...], str, Message], ...] = (
    (
        (
            "Not enough segments",
            "Invalid header",
            "Invalid payload",
            "Invalid crypto padding",
            "Invalid token type",
            "Invalid 'crit' header",
            "Key ID header parameter",
            "Bad Authorization header",
        ),
        "malformed",
        MALFORMED,
    ),
    (("Signature verification failed",), "bad_signature", _("The token's signature does not verify.")),
    (
        ("token has no key id", "token was signed by an unknown key"),
        "unknown_key",
        _("The token was not signed by a key of this platform."),
    ),
    (
        ("The specified alg value is not allowed", "Algorithm not", "Token algorithm"),
        "algorithm_refused",
        _("The token is not signed with an algorithm this platform accepts."),
    ),
    (
        ("Invalid audience", "Audience doesn't match"),
        "wrong_audience",
        _("The token was issued for another audience."),
    ),
    (("Invalid issuer", "Payload Issuer"), "wrong_issuer", _("The token was not issued by this platform.")),
    (("The token is not yet valid",), "not_yet_valid", _("The token is not valid yet.")),
    (
        ("Token is missing the", "Missing claim", "Only non-refresh tokens", "Only refresh tokens", "Invalid claim"),
        "not_an_access_token",
        _("The token is not an access token of this platform."),
    ),
)


def token_refused(detail: Message) -> Response:
    """The 401 problem, with the ``WWW-Authenticate`` challenge RFC 6750 asks for."""
    return problem(401, detail, code="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="parkhub"'})


def missing(reason: str) -> Response:
    """No usable Authorization header (flask-jwt-extended's ``unauthorized_loader``)."""
    if reason.startswith("Missing 'Bearer' type"):
        return token_refused(_("The Authorization header must be \u201cBearer\u201d followed by an access token."))
    return token_refused(_("A bearer token is required: send Authorization: Bearer <access token>."))


def refused(reason: str) -> Response:
    """A token that is there but not acceptable (``invalid_token_loader``); logged as :data:`EVENT`."""
    for beginnings, code, detail in _REASONS:
        if reason.startswith(beginnings):
            record(code)
            return token_refused(detail)
    record("invalid")
    return token_refused(NOT_VALID)


def refused_as(code: str, detail: Message) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Response]:
    """A loader for flask-jwt-extended's ``(header, claims)`` refusals (expired, revoked, …):
    logs :data:`EVENT` with ``code`` and answers ``detail``."""

    def loader(header: Mapping[str, Any], claims: Mapping[str, Any]) -> Response:
        record(code, header=header, claims=claims)
        return token_refused(detail)

    return loader


def record(
    reason: str,
    *,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    family: str | None = None,
) -> None:
    """Log one refused token as :data:`EVENT` (a warning), from inside the request that sent it.

    ``header`` and ``claims`` are the token's when the caller has them decoded; otherwise the
    bearer is decoded here WITHOUT verifying anything, only to say what it claims to be. Only
    the names in ``_SELF_DESCRIPTION`` are kept, each through :func:`_loggable`. ``family`` is
    a refused refresh token's family id (the gateway's token endpoint; the token itself never)."""
    fields: dict[str, Any] = {"reason": reason}
    if family is not None:
        fields["token_family"] = _loggable(family)
    if has_request_context():
        if header is None or claims is None:
            header, claims = _unverified(request.headers.get("Authorization", ""))
        fields.update(
            request_id=_loggable(getattr(g, "request_id", None)),
            client=_address(request.remote_addr),
            forwarded_for=_address(request.headers.get("X-Real-IP")),
            method=_loggable(request.method, cap=10),
            path=_loggable(request.path, cap=_PATH_CAP),
        )
    for part, source in (("header", header), ("claims", claims)):
        if isinstance(source, Mapping):
            for name in _SELF_DESCRIPTION[part]:
                value = _loggable(source.get(name))
                if value is not None:
                    fields[f"token_{name}"] = value
    log.warning(EVENT, **{name: value for name, value in fields.items() if value is not None})


def _unverified(authorization: str) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The header and payload a bearer token claims, unverified; None for what cannot be read."""
    scheme, _space, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _TOKEN_CAP:
        return None, None
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError):
        return None, None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        claims = None
    return header, claims if isinstance(claims, Mapping) else None


def _loggable(value: Any, *, cap: int = _VALUE_CAP) -> str | None:
    """``value`` as a short plain string for a log line: anything outside ``[A-Za-z0-9._:@/+=-]``
    becomes ``?`` and the text is cut at ``cap`` characters (a trailing ``…`` says so). Lists,
    dicts and other shapes a forger may put in a claim are not logged at all."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = _PLAIN.sub("?", str(value))
    return text if len(text) <= cap else text[:cap] + "\u2026"


def _address(value: str | None) -> str | None:
    """An IP address as the log may show it, or None for anything that is not one."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


EXPIRED = _("The token has expired; get a new one with your refresh token or sign in again.")
REVOKED = _("The token has been revoked.")
NEEDS_FRESH = _("A freshly issued token is required.")
SUBJECT_UNKNOWN = _("The token's subject is unknown.")
VERIFICATION_FAILED = _("The token was refused.")
