"""Issuing tokens (RFC 6749 grants) and revoking them (RFC 7009).

Access tokens are RS256 JWTs minted with flask-jwt-extended (so they need the gateway's app
context): ``sub`` (``user:<id>`` or ``client:<client_id>``), ``org``, ``org_kind``, ``roles``,
``name``, ``type=access``, ``iss``, ``aud``, ``exp``, ``jti``, and for a sign-in (password and
refresh grants) ``sid``, the refresh-token family: revoking the family revokes its access tokens
too (:mod:`shared.revocation`). The header names the ``kid``.

Refresh tokens are opaque random strings; the table keeps only their SHA-256 (``jti``). Each use
rotates: the presented token is marked used and replaced by a new one of the same family (one
family per sign-in). Presenting a token that was already used means it leaked or was replayed:
the whole family is revoked, and the caller (thief or owner) must sign in again.

Nothing here commits: the caller (the token view) owns the transaction. Credentials are checked
in a read session (``verify_password``, ``verify_client``: they raise :class:`OAuthError`); what a
grant writes (a new family, a rotation, a revocation) goes into the caller's unit of work. A
refusal that must still be kept (a reused token revokes its family) is returned as a
:class:`Refusal` for the caller to commit before answering.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from flask import current_app
from flask_jwt_extended import create_access_token
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from gateway import audit
from gateway.client_secrets import ClientSecrets
from gateway.models import REVOCATIONS, ApiClient, Organisation, RefreshToken, User
from gateway.passwords import secret_matches
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.http import token_refusals
from shared.i18n import Text, _
from shared.revocation import revoke_access
from shared.settings import Settings

REFRESH_PREFIX = "rt_"


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: ``error`` is the registered code, 401 only for ``invalid_client``.

    ``description`` is for people: a marked text, rendered in the reader's language when answered
    (as the problem's ``detail`` and the OAuth ``error_description``); ``str()`` is English."""

    def __init__(self, error: str, description: Text) -> None:
        super().__init__(str(description))
        self.error = error
        self.description = description
        self.status = 401 if error == "invalid_client" else 400


@dataclass(frozen=True)
class IssuedTokens:
    """The successful token response (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    token_type: str = "Bearer"


Principal = User | ApiClient


@dataclass(frozen=True)
class Grantee:
    """Whom a token is for: the subject and its access claims, read while checking credentials."""

    subject: str
    claims: dict[str, object]
    outdated_secret_hash: str | None = None
    """An API client's stored hash when it is of an older scheme (scrypt): the caller replaces it
    with :func:`upgrade_client_secret`, which it may, since the secret just matched it."""


@dataclass(frozen=True)
class Refusal:
    """A refused grant that changed something (a token family revoked on reuse): the caller
    commits, so the revocation sticks, and then answers with ``error``."""

    error: OAuthError


def verify_password(session: Session, *, username: str, password: str) -> Grantee:
    """The user ``username`` names, if ``password`` is theirs and they may sign in. Raises
    ``invalid_grant`` otherwise (one message for all, so usernames cannot be probed).

    Run it in a read session, never in a unit of work: on SQLite a unit of work holds the write
    lock from its start, and scrypt's deliberate cost must not queue every writer behind it."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    # Hash even for an unknown user, so the answer takes as long either way.
    valid = secret_matches(user.password_hash if user else None, password)
    if user is None or not valid or not _may_sign_in(user):
        raise OAuthError("invalid_grant", _("The username or password is wrong, or the account is disabled."))
    return Grantee(user.subject, access_claims(user))


def verify_client(session: Session, client_secrets: ClientSecrets, *, client_id: str, client_secret: str) -> Grantee:
    """The API client ``client_id`` names, if ``client_secret`` is its secret and it may sign in.
    Raises ``invalid_client`` otherwise."""
    # One row of the columns a grant needs, not the client and its organisation as entities:
    # building those was most of this grant's time after the keyed hash made the secret cheap.
    # A Core statement built once, on the session's connection: no ORM compilation either.
    client = session.connection().execute(_CLIENT_GRANT, {"client_id": client_id}).one_or_none()
    valid = client_secrets.matches(client.secret_hash if client else None, client_secret)
    if client is None or not valid or not (client.active and client.org_status == "active"):
        raise OAuthError("invalid_client", _("The client id or secret is wrong, or the client is disabled."))
    outdated = None if client_secrets.is_current(client.secret_hash) else client.secret_hash
    claims = _claims(client.organisation_id, client.org_kind, client.roles, client.name)
    return Grantee(f"client:{client.client_id}", claims, outdated_secret_hash=outdated)


_clients, _organisations = cast(Table, ApiClient.__table__), cast(Table, Organisation.__table__)
_CLIENT_GRANT = (
    select(
        _clients.c.client_id,
        _clients.c.secret_hash,
        _clients.c.name,
        _clients.c.roles,
        _clients.c.active,
        _clients.c.organisation_id,
        _organisations.c.kind.label("org_kind"),
        _organisations.c.status.label("org_status"),
    )
    .join(_organisations, _organisations.c.id == _clients.c.organisation_id)
    .where(_clients.c.client_id == bindparam("client_id"))
)
"""What :func:`verify_client` reads of a client and its organisation (what :func:`access_claims`
and :func:`_may_sign_in` read of the entities)."""


def upgrade_client_secret(
    uow: UnitOfWork, client_secrets: ClientSecrets, *, client_id: str, client_secret: str, outdated_hash: str
) -> bool:
    """Replace an older hash of a client's secret, just verified, by the keyed hash; the caller
    commits. Nothing changes if the secret was rotated meanwhile. Returns whether it changed."""
    result = uow.session.execute(
        update(ApiClient)
        .where(ApiClient.client_id == client_id, ApiClient.secret_hash == outdated_hash)
        .values(secret_hash=client_secrets.hash(client_secret))
    )
    changed = bool(result.rowcount)  # type: ignore[attr-defined]
    if changed:
        audit.record(uow, actor=audit.SYSTEM, entity="api_client", entity_id=client_id, action="secret_rehashed")
    return changed


def password_grant(uow: UnitOfWork, settings: Settings, grantee: Grantee) -> IssuedTokens:
    """Sign in a user already verified by :func:`verify_password`: a new refresh-token family
    starts in ``uow``. The caller commits."""
    family_id = str(uuid.uuid4())
    refresh = _new_refresh_token(uow, settings, subject=grantee.subject, family_id=family_id)
    access_token = _access_token(grantee.subject, grantee.claims, settings, session_id=family_id)
    return IssuedTokens(access_token, settings.access_ttl_seconds, refresh)


def client_credentials_grant(settings: Settings, grantee: Grantee) -> IssuedTokens:
    """An access token for a client verified by :func:`verify_client`; no refresh token (it can
    always authenticate again) and nothing written."""
    return IssuedTokens(_access_token(grantee.subject, grantee.claims, settings), settings.access_ttl_seconds)


def refresh_grant(uow: UnitOfWork, settings: Settings, *, refresh_token: str) -> IssuedTokens | Refusal:
    """Rotate ``refresh_token`` in ``uow``; the caller commits, whatever the outcome.

    Raises ``invalid_grant`` for a token that is unknown, revoked or expired (nothing changed).
    Returns a :class:`Refusal` when refusing changed something: a reused token, or one whose
    subject is disabled, revokes its whole family (see the module docstring). Every refusal is
    also logged as a security event (:data:`shared.http.token_refusals.EVENT`, reason
    ``refresh_*``), with the family and subject when the token is known, never the token."""
    now = utcnow()
    token = uow.session.get(RefreshToken, _digest(refresh_token), with_for_update=True)
    if token is None or token.revoked_at is not None:
        _refused("refresh_unknown" if token is None else "refresh_revoked", token)
        raise OAuthError("invalid_grant", _("The refresh token is not valid; sign in again."))
    if token.used_at is not None:
        _refused("refresh_reused", token)
        revoke_family(uow, settings, token, actor=audit.SYSTEM, reason="reuse_detected")
        return Refusal(
            OAuthError("invalid_grant", _("The refresh token was already used; every session of it is revoked."))
        )
    if as_utc(token.expires_at) <= now:
        _refused("refresh_expired", token)
        raise OAuthError("invalid_grant", _("The refresh token has expired; sign in again."))
    principal = load_principal(uow.session, token.subject)
    if principal is None or not _may_sign_in(principal):
        _refused("refresh_subject_disabled", token)
        revoke_family(uow, settings, token, actor=audit.SYSTEM, reason="subject_disabled")
        return Refusal(OAuthError("invalid_grant", _("The account or its organisation is disabled.")))
    successor = _new_refresh_token(uow, settings, subject=token.subject, family_id=token.family_id)
    token.used_at = now
    token.replaced_by = _digest(successor)
    claims = access_claims(principal)
    access_token = _access_token(token.subject, claims, settings, session_id=token.family_id)
    return IssuedTokens(access_token, settings.access_ttl_seconds, successor)


def _refused(reason: str, token: RefreshToken | None) -> None:
    """Log a refused refresh token as a security event: its family and subject, not its text."""
    if token is None:
        token_refusals.record(reason, header={}, claims={})
    else:
        token_refusals.record(reason, header={}, claims={"sub": token.subject}, family=token.family_id)


def revoke(uow: UnitOfWork, settings: Settings, *, token: str) -> bool:
    """RFC 7009: revoke the family of a refresh token (logout) in ``uow``; the caller commits.
    Unknown tokens and access tokens are ignored (the endpoint answers 200 regardless); returns
    whether a family was revoked."""
    row = uow.session.get(RefreshToken, _digest(token))
    if row is None or row.revoked_at is not None:
        return False
    revoke_family(uow, settings, row, actor=row.subject, reason="logout")
    return True


_ACCESS_REVOCATION_REASON = {"logout": "logout", "reuse_detected": "reuse_detected", "subject_disabled": "deactivated"}
"""A family's revocation reason as ``identity.access.revoked`` names it."""


def revoke_family(uow: UnitOfWork, settings: Settings, token: RefreshToken, *, actor: str, reason: str) -> None:
    """Revoke every live token of ``token``'s family, and the access tokens of that sign-in
    everywhere (``identity.access.revoked`` with its ``session_id``), and audit it; the caller
    commits."""
    family_id = token.family_id
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    revoke_access(
        uow,
        REVOCATIONS,
        subject=token.subject,
        session_id=family_id,
        reason=_ACCESS_REVOCATION_REASON[reason],
        lifetime_seconds=settings.access_ttl_seconds,
    )
    audit.family_revoked(uow, actor=actor, family_id=family_id, reason=reason)


def load_principal(session: Session, subject: str) -> Principal | None:
    """The user or API client a ``sub`` claim names, or None."""
    kind, _colon, ident = subject.partition(":")
    if not ident:
        return None
    if kind == "user":
        return session.get(User, ident)
    if kind == "client":
        return session.get(ApiClient, ident)
    return None


def access_claims(principal: Principal) -> dict[str, object]:
    organisation = principal.organisation
    name = principal.display_name if isinstance(principal, User) else principal.name
    return _claims(organisation.id, organisation.kind, principal.roles, name)


def _claims(org_id: str, org_kind: str, roles: list[str], name: str) -> dict[str, object]:
    return {"org": org_id, "org_kind": org_kind, "roles": sorted(roles), "name": name}


def _access_token(subject: str, claims: dict[str, object], settings: Settings, *, session_id: str | None = None) -> str:
    key = current_app.extensions["parkhub.signing_key"]
    return str(
        create_access_token(
            identity=subject,
            additional_claims=claims if session_id is None else {**claims, "sid": session_id},
            additional_headers={"kid": key.kid},
            expires_delta=timedelta(seconds=settings.access_ttl_seconds),
        )
    )


def _new_refresh_token(uow: UnitOfWork, settings: Settings, *, subject: str, family_id: str) -> str:
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    uow.session.add(
        RefreshToken(
            jti=_digest(token),
            family_id=family_id,
            subject=subject,
            issued_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_ttl_seconds),
        )
    )
    return token


def _may_sign_in(principal: Principal) -> bool:
    return principal.active and principal.organisation.is_active


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def purge_expired_refresh_tokens(*, uow: UnitOfWork) -> int:
    """Delete refresh tokens expired for a day or more: past expiry a token is refused whatever
    its row says, so reuse detection no longer needs it. The caller commits."""
    result = uow.session.execute(delete(RefreshToken).where(RefreshToken.expires_at < utcnow() - timedelta(days=1)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
