"""What a client is told when its bearer token is missing or refused: a 401 in its language.

flask-jwt-extended hands ``init_auth``'s loaders the reason as PyJWT worded it ("Invalid header
string: 'utf-8' codec can't decode byte 0xb7…"); those are decoder internals, so the reason is
only sorted into one of our own texts here, and never echoed.
"""

from __future__ import annotations

from flask import Response

from shared.http.problems import problem
from shared.i18n import Message, _

__all__ = ["missing", "refused", "token_refused"]

MALFORMED = _("The bearer token is malformed.")
NOT_VALID = _("The token is not valid.")

# PyJWT's and flask-jwt-extended's reasons, by how they start, and what we say instead.
_REASONS: tuple[tuple[tuple[str, ...], Message], ...] = (
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
        MALFORMED,
    ),
    (("Signature verification failed",), _("The token's signature does not verify.")),
    (
        ("token has no key id", "token was signed by an unknown key"),
        _("The token was not signed by a key of this platform."),
    ),
    (
        ("The specified alg value is not allowed", "Algorithm not", "Token algorithm"),
        _("The token is not signed with an algorithm this platform accepts."),
    ),
    (("Invalid audience", "Audience doesn't match"), _("The token was issued for another audience.")),
    (("Invalid issuer", "Payload Issuer"), _("The token was not issued by this platform.")),
    (("The token is not yet valid",), _("The token is not valid yet.")),
    (
        ("Token is missing the", "Missing claim", "Only non-refresh tokens", "Only refresh tokens", "Invalid claim"),
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
    """A token that is there but not acceptable (``invalid_token_loader``)."""
    for beginnings, detail in _REASONS:
        if reason.startswith(beginnings):
            return token_refused(detail)
    return token_refused(NOT_VALID)


EXPIRED = _("The token has expired; get a new one with your refresh token or sign in again.")
REVOKED = _("The token has been revoked.")
NEEDS_FRESH = _("A freshly issued token is required.")
SUBJECT_UNKNOWN = _("The token's subject is unknown.")
VERIFICATION_FAILED = _("The token was refused.")
