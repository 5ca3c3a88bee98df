"""``POST /auth/token`` (RFC 6749) and ``POST /auth/revoke`` (RFC 7009).

Errors are problem+json documents that also carry the RFC 6749 members ``error`` and
``error_description``, so both OAuth libraries and our own clients understand them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, unquote_plus

from flask import Response, request

from gateway import tokens
from gateway.api import current_client_secrets
from gateway.api.schemas import RevokeRequestSchema, TokenRequestSchema, TokenSchema
from gateway.models import ApiClient
from gateway.tokens import IssuedTokens, OAuthError, Refusal
from shared.http.app import current_database, service_context
from shared.http.blueprint import Blueprint
from shared.http.problems import problem
from shared.http.views import unit_of_work
from shared.i18n import _

blp = Blueprint("auth", __name__, description="Sign in: OAuth 2.0 tokens for users and partner API clients.")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
View = TypeVar("View", bound=Callable[..., Any])


def utf8_form(view: View) -> View:
    """Refuse a form that is not UTF-8 (RFC 6749 Appendix B), raw or percent-encoded, with an
    ``invalid_request`` that says so. (werkzeug would parse such a form as empty, or keep the
    bad escapes as they came, and the answer would complain about a field that was sent.)"""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.mimetype == "application/x-www-form-urlencoded":
            try:
                # cache=True: the form parser reads these same bytes afterwards
                parse_qsl(request.get_data(cache=True).decode(), keep_blank_values=True, errors="strict")
            except UnicodeDecodeError:
                return oauth_problem(
                    OAuthError("invalid_request", _("The form is not UTF-8: send every field encoded in UTF-8."))
                )
        return view(*args, **kwargs)

    return cast(View, wrapper)


@blp.route("/auth/token", methods=["POST"])
@utf8_form
@blp.doc(security=[])
@blp.arguments(TokenRequestSchema, location="form")
@blp.response(200, TokenSchema)
@blp.alt_response(400, description="An OAuth error: invalid_request, invalid_grant or unsupported_grant_type.")
@blp.alt_response(401, description="invalid_client: the client id or secret is wrong.")
def token(form: dict[str, str]) -> Any:
    """Get an access token: grants ``password``, ``client_credentials`` and ``refresh_token``.

    Access tokens last 15 minutes by default; refresh tokens rotate on every use, and reusing a
    spent one revokes its whole family. The response is never cached. A client that sends a
    secret (HTTP Basic or ``client_secret``) is verified with every grant (401 ``invalid_client``);
    the password grant also takes a caller that names no client (the portal, the docs page), but
    an unknown ``client_id`` is 401 ``invalid_client``.
    """
    try:
        issued = _grant(form)
    except OAuthError as exc:
        return oauth_problem(exc)
    body = {k: v for k, v in vars(issued).items() if v is not None}
    return body, 200, NO_STORE


@blp.route("/auth/revoke", methods=["POST"])
@utf8_form
@blp.doc(security=[])
@blp.arguments(RevokeRequestSchema, location="form")
@blp.response(200, description="Always 200, whether or not the token was known (RFC 7009).")
def revoke(form: dict[str, str]) -> Any:
    """Sign out: revoke a refresh token and every token rotated from the same sign-in."""
    if not form.get("token"):
        return oauth_problem(OAuthError("invalid_request", _("Send the token to revoke in the form field 'token'.")))
    with unit_of_work() as uow:
        tokens.revoke(uow, service_context().settings, token=form["token"])
        uow.commit()
    return Response(status=200, headers=NO_STORE)


def _grant(form: dict[str, str]) -> IssuedTokens:
    settings = service_context().settings
    grant_type = form.get("grant_type")
    if not grant_type:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", _("Send the token request form-encoded (RFC 6749), with grant_type."))
        raise OAuthError("invalid_request", _("Send grant_type."))
    database = current_database()
    if grant_type == "password":
        username, password = _required(form, "username", "password")
        _authenticate_client_if_it_tries(form)
        with database.reading() as session:
            user = tokens.verify_password(session, username=username, password=password)
        with unit_of_work() as uow:
            issued = tokens.password_grant(uow, settings, user)
            uow.commit()
        return issued
    if grant_type == "client_credentials":
        credentials = _client_credentials(form)
        if credentials is None or not credentials[0]:
            raise OAuthError("invalid_request", _("Send client_id and client_secret, in the form or with HTTP Basic."))
        client = _verified_client(*credentials)
        return tokens.client_credentials_grant(settings, client)
    if grant_type == "refresh_token":
        (refresh_token,) = _required(form, "refresh_token")
        with unit_of_work() as uow:
            outcome = tokens.refresh_grant(uow, settings, refresh_token=refresh_token)
            uow.commit()  # also for a refusal: a family revoked on reuse stays revoked
        if isinstance(outcome, Refusal):
            raise outcome.error
        return outcome
    raise OAuthError(
        "unsupported_grant_type",
        _(
            "grant_type {grant_type!r} is not one of password, client_credentials, refresh_token.",
            grant_type=grant_type[:40],
        ),
    )


def _verified_client(client_id: str, client_secret: str) -> tokens.Grantee:
    """Check a client's credentials in a read session; an older hash of its secret is replaced
    by the keyed hash in a short unit of work of its own."""
    client_secrets = current_client_secrets()
    with current_database().reading() as session:
        client = tokens.verify_client(session, client_secrets, client_id=client_id, client_secret=client_secret)
    if client.outdated_secret_hash is not None:
        with unit_of_work() as uow:
            tokens.upgrade_client_secret(
                uow,
                client_secrets,
                client_id=client_id,
                client_secret=client_secret,
                outdated_hash=client.outdated_secret_hash,
            )
            uow.commit()
    return client


def _required(form: dict[str, str], *names: str) -> list[str]:
    """The values of form fields ``names`` (two at most), or ``invalid_request`` naming the missing."""
    missing = [name for name in names if not form.get(name)]
    if len(missing) == 1:
        raise OAuthError("invalid_request", _("Send {field}.", field=missing[0]))
    if missing:
        raise OAuthError("invalid_request", _("Send {first} and {second}.", first=missing[0], second=missing[1]))
    return [form[name] for name in names]


def _client_credentials(form: dict[str, str]) -> tuple[str, str] | None:
    """The client's id and secret from HTTP Basic (RFC 6749 §2.3.1, each part form-urlencoded)
    or the form, never both; None when the request names no client. Either part may be empty:
    Swagger UI sends ``Basic Og==`` (":") when its dialog's client fields are left blank."""
    header = request.headers.get("Authorization", "")
    in_form = bool(form.get("client_id") or form.get("client_secret"))
    if header.lower().startswith("basic "):
        if in_form:
            raise OAuthError("invalid_request", _("Authenticate the client one way: HTTP Basic or the form, not both."))
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", _("The HTTP Basic credentials are not readable.")) from None
        client_id, sep, client_secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", _("The HTTP Basic credentials are not readable."))
        return unquote_plus(client_id), unquote_plus(client_secret)
    if in_form:
        return form.get("client_id", ""), form.get("client_secret", "")
    return None


def _authenticate_client_if_it_tries(form: dict[str, str]) -> None:
    """The password grant's client. A caller that names no client — no credentials at all (the
    portal) or an empty id and secret (Swagger UI's ``Basic Og==`` when its dialog's client
    fields are blank) — signs its user in. One that names a client must be one we know and prove
    it: an unknown id, a wrong secret, a disabled client, or a registered API client without its
    secret (API clients are confidential) is 401 ``invalid_client``. There are no registered
    public clients, so an id alone is never enough."""
    credentials = _client_credentials(form)
    if credentials is None:
        return
    client_id, client_secret = credentials
    if client_secret:
        _verified_client(client_id, client_secret)
        return
    if not client_id:
        return
    with current_database().reading() as session:
        registered = session.get(ApiClient, client_id) is not None
    if registered:
        raise OAuthError("invalid_client", _("This client is confidential: authenticate it with its secret."))
    raise OAuthError("invalid_client", _("Unknown client: send no client id, or a registered one with its secret."))


def oauth_problem(error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="parkhub", charset="UTF-8"'
    return problem(
        error.status,
        error.description,
        code=f"oauth/{error.error.replace('_', '-')}",
        title=_("OAuth error"),
        headers=headers,
        error=error.error,
        error_description=error.description,
    )
