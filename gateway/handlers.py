"""Commands on identity: one function per command, ``handler(cmd, *, uow)`` (plus keyword
dependencies such as ``client_secrets``); ``cmd.actor`` is who asks.

The view checks the caller's role before anything is parsed (``shared.http.auth.requires``): a
handler checks only what depends on the rows — whether ``actor`` reaches this organisation or
user (see :mod:`gateway.access`), whether the roles fit — changes rows, writes one audit entry
per change and publishes the integration event into the outbox of ``uow``. Handlers never
commit: the caller (a view through ``shared.http.views.execute``, the seed) owns the transaction
and commits once the handler returned, so a change, its audit entry and its event stand or fall
together. They raise :class:`shared.errors.DomainError` subclasses: 403/404 for access, 409 for a
taken name or username, 412 when ``cmd.expected_versions`` (``If-Match``) misses the current
version, 422 for a broken rule.

Organisations, users and API clients carry SQLAlchemy's version counter
(:mod:`gateway.models`): the UPDATE itself checks the version it read, so a concurrent change
that passed the same ``If-Match`` raises ``StaleDataError`` on flush (412 in ``execute``). A
handler flushes before it reads the new version for the answer, the audit entry or the event.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from gateway import access, audit
from gateway.client_secrets import ClientSecrets, new_secret
from gateway.commands import (
    CreateApiClient,
    CreateUser,
    RegisterOrganisation,
    RotateClientSecret,
    UpdateApiClient,
    UpdateOrganisation,
    UpdateUser,
)
from gateway.models import REVOCATIONS, ApiClient, Organisation, RefreshToken, User
from gateway.passwords import hash_secret
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, check_version
from shared.events.identity import (
    ORGANISATION_REGISTERED,
    ORGANISATION_UPDATED,
    PARTNER_KINDS,
    USER_REGISTERED,
    USER_UPDATED,
)
from shared.i18n import Message, _
from shared.principal import Principal
from shared.revocation import revoke_access

Row = TypeVar("Row", Organisation, User, ApiClient)


def register_organisation(cmd: RegisterOrganisation, *, uow: UnitOfWork) -> Organisation:
    """Register an organisation (the view admits park admins). Publishes
    ``identity.organisation.registered``; 409 ``organisation-name-taken``."""
    now = utcnow()
    organisation = Organisation(
        id=str(uuid.uuid4()),
        name=cmd.name,
        name_zh=cmd.name_zh,
        kind=cmd.kind,
        status=cmd.status,
        contact_email=cmd.contact_email,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(organisation)
    _flush_unique(uow, _name_taken(cmd.name), "organisation-name-taken")
    _audit(uow, cmd.actor, "organisation", organisation.id, "registered", before=None, after=_org_state(organisation))
    uow.publish(ORGANISATION_REGISTERED.type, organisation.event_data(), subject=organisation.id, orgid=organisation.id)
    return organisation


def update_organisation(cmd: UpdateOrganisation, *, uow: UnitOfWork, access_ttl_seconds: int) -> Organisation:
    """Change an organisation's details or status (the view admits park admins); publishes
    ``identity.organisation.updated`` when anything changed (the version then goes up by one).

    Suspending it also ends its people's and API clients' access (:func:`_suspend_access`): every
    access token issued to them so far is refused everywhere, and every sign-in of theirs is
    over. Reinstating it revokes and restores nothing: they sign in again. ``access_ttl_seconds``
    is the access tokens' lifetime (how long the revocation matters)."""
    organisation = _get(uow, Organisation, cmd.organisation_id, _no_organisation(cmd.organisation_id))
    check_version(organisation.version, cmd.expected_versions)
    before = _org_state(organisation)
    if not _apply(organisation, cmd.changes, ("name", "name_zh", "contact_email", "status")):
        return organisation
    organisation.updated_at = utcnow()
    _flush_unique(uow, _name_taken(organisation.name), "organisation-name-taken")
    action = "status_changed" if before["status"] != organisation.status else "updated"
    _audit(uow, cmd.actor, "organisation", organisation.id, action, before=before, after=_org_state(organisation))
    uow.publish(ORGANISATION_UPDATED.type, organisation.event_data(), subject=organisation.id, orgid=organisation.id)
    if before["status"] == "active" and not organisation.is_active:
        _suspend_access(uow, cmd.actor, organisation.id, access_ttl_seconds)
    return organisation


def _suspend_access(uow: UnitOfWork, actor: Principal, organisation_id: str, access_ttl_seconds: int) -> None:
    """Revoke the access tokens of every user and API client of a suspended organisation issued
    until now, one ``subject`` cut-off each (reason ``organisation_suspended``), and end their
    sign-ins (docs/identity.md, "Revocation", says why one row per principal rather than one per
    organisation)."""
    users = uow.session.scalars(select(User).where(User.organisation_id == organisation_id)).all()
    clients = uow.session.scalars(select(ApiClient).where(ApiClient.organisation_id == organisation_id)).all()
    subjects = [user.subject for user in users] + [client.subject for client in clients]
    for subject in subjects:
        revoke_access(
            uow, REVOCATIONS, subject=subject, reason="organisation_suspended", lifetime_seconds=access_ttl_seconds
        )
    _end_sign_ins(uow, actor, subjects, reason="organisation_suspended")


def _end_sign_ins(uow: UnitOfWork, actor: Principal, subjects: Sequence[str], *, reason: str) -> None:
    """Revoke every live refresh-token family of ``subjects`` (one audit entry per family), so
    no sign-in of theirs refreshes again, even once they may sign in again. Their access tokens
    are the caller's business: a ``subject`` cut-off covers every session at once, so no
    ``session`` row is written per family."""
    now = utcnow()
    families = uow.session.scalars(
        select(RefreshToken.family_id)
        .where(RefreshToken.subject.in_(subjects), RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > now)
        .distinct()
        .order_by(RefreshToken.family_id)
    ).all()
    if not families:
        return
    uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id.in_(families), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    for family_id in families:
        audit.family_revoked(uow, actor=actor.subject, family_id=family_id, reason=reason)


def create_user(cmd: CreateUser, *, uow: UnitOfWork) -> User:
    """Create a user account (park admin: anyone; tenant admin: their own organisation)."""
    organisation = _get(uow, Organisation, cmd.organisation_id, _no_organisation(cmd.organisation_id))
    access.check_may_manage_users(cmd.actor, organisation, cmd.roles)
    username = cmd.username.strip().lower()
    if uow.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(_username_taken(username), code="username-taken")
    now = utcnow()
    user = User(
        id=str(uuid.uuid4()),
        username=username,
        display_name=cmd.display_name,
        email=cmd.email,
        password_hash=hash_secret(cmd.password),
        organisation_id=organisation.id,
        roles=sorted(set(cmd.roles)),
        active=True,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(user)
    _flush_unique(uow, _username_taken(username), "username-taken")
    _audit(uow, cmd.actor, "user", user.id, "created", before=None, after=_user_state(user))
    uow.publish(USER_REGISTERED.type, user.event_data(), subject=user.id, orgid=user.organisation_id)
    return user


def update_user(cmd: UpdateUser, *, uow: UnitOfWork, access_ttl_seconds: int) -> User:
    """Change a user's name, email, roles, password or active flag (same reach as create).

    Deactivating the user, changing their roles or setting a password also revokes every access
    token issued to them so far (``identity.access.revoked``, :mod:`shared.revocation`): a token
    still carrying the old roles, a deactivated user's, or one taken with a password that may
    have leaked, is refused everywhere though it has not expired. A new password also ends every
    sign-in of the user (their refresh tokens), the changer's own included when a person sets
    their own password: whoever holds the old password holds nothing after the change.
    ``access_ttl_seconds`` is the tokens' lifetime (how long the revocation matters)."""
    user = _get(uow, User, cmd.user_id, _no_user(cmd.user_id))
    try:
        access.check_may_manage_users(cmd.actor, user.organisation, cmd.changes.get("roles", user.roles))
    except NotFound:
        raise NotFound(_no_user(cmd.user_id)) from None
    check_version(user.version, cmd.expected_versions)
    before = _user_state(user)
    changes = dict(cmd.changes)
    password = changes.pop("password", None)
    if "roles" in changes:
        changes["roles"] = sorted(set(changes["roles"]))
    changed = _apply(user, changes, ("display_name", "email", "roles", "active"))
    if password is not None:
        user.password_hash = hash_secret(password)
    if not changed and password is None:
        return user
    user.updated_at = utcnow()
    uow.session.flush()  # the UPDATE checks and raises the version
    after = _user_state(user) | ({"password_changed": True} if password is not None else {})
    _audit(uow, cmd.actor, "user", user.id, "updated", before=before, after=after)
    if changed:  # a new password alone is nobody else's business
        uow.publish(USER_UPDATED.type, user.event_data(), subject=user.id, orgid=user.organisation_id)
    cut_off = _access_cut_off(before, user.active, user.roles, deactivated="deactivated", re_roled="roles_changed")
    if password is not None:
        # One subject cut-off covers every session: the stronger reason names it when both hold.
        cut_off = cut_off or "password_changed"
        _end_sign_ins(uow, cmd.actor, [user.subject], reason="password_changed")
    if cut_off is not None:
        revoke_access(uow, REVOCATIONS, subject=user.subject, reason=cut_off, lifetime_seconds=access_ttl_seconds)
    return user


def create_api_client(cmd: CreateApiClient, *, uow: UnitOfWork, client_secrets: ClientSecrets) -> tuple[ApiClient, str]:
    """Register a partner's machine client (the view admits park admins); returns it with its
    secret (256 random bits), which is kept only as ``client_secrets``' keyed hash and never
    shown again. 409 when ``client_id`` is taken."""
    organisation = _get(uow, Organisation, cmd.organisation_id, _no_organisation(cmd.organisation_id))
    access.check_roles_fit(organisation, cmd.roles)
    client_id = cmd.client_id or f"{_client_prefix(organisation.kind)}_{secrets.token_hex(8)}"
    if uow.session.get(ApiClient, client_id) is not None:
        raise Conflict(_client_id_taken(client_id), code="client-id-taken")
    secret = cmd.client_secret or new_secret()
    now = utcnow()
    client = ApiClient(
        client_id=client_id,
        secret_hash=client_secrets.hash(secret),
        name=cmd.name,
        organisation_id=organisation.id,
        roles=sorted(set(cmd.roles)),
        active=True,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(client)
    _flush_unique(uow, _client_id_taken(client_id), "client-id-taken")
    _audit(uow, cmd.actor, "api_client", client_id, "created", before=None, after=_client_state(client))
    return client, secret


def update_api_client(cmd: UpdateApiClient, *, uow: UnitOfWork, access_ttl_seconds: int) -> ApiClient:
    """Rename, re-role, deactivate or reactivate a client (the view admits park admins).
    Deactivating it or changing its roles revokes its access tokens issued so far (as
    :func:`update_user` does for a person)."""
    client = _get(uow, ApiClient, cmd.client_id, _no_api_client(cmd.client_id))
    if "roles" in cmd.changes:
        access.check_roles_fit(client.organisation, cmd.changes["roles"])
    check_version(client.version, cmd.expected_versions)
    before = _client_state(client)
    changes = dict(cmd.changes)
    if "roles" in changes:
        changes["roles"] = sorted(set(changes["roles"]))
    if not _apply(client, changes, ("name", "roles", "active")):
        return client
    client.updated_at = utcnow()
    uow.session.flush()  # the UPDATE checks and raises the version
    _audit(uow, cmd.actor, "api_client", client.client_id, "updated", before=before, after=_client_state(client))
    cut_off = _access_cut_off(
        before, client.active, client.roles, deactivated="client_deactivated", re_roled="client_roles_changed"
    )
    if cut_off is not None:
        revoke_access(uow, REVOCATIONS, subject=client.subject, reason=cut_off, lifetime_seconds=access_ttl_seconds)
    return client


def _access_cut_off(
    before: Mapping[str, Any], active: bool, roles: Sequence[str], *, deactivated: str, re_roled: str
) -> str | None:
    """Why a change must revoke the access tokens issued so far, or None: a principal
    deactivated, or whose roles changed (its tokens carry the old ones). Reactivating or
    renaming revokes nothing."""
    if before["active"] and not active:
        return deactivated
    if sorted(before["roles"]) != sorted(roles):
        return re_roled
    return None


def rotate_client_secret(
    cmd: RotateClientSecret, *, uow: UnitOfWork, client_secrets: ClientSecrets
) -> tuple[ApiClient, str]:
    """Replace a client's secret (the view admits park admins); the old one stops working at
    once. Returns the client, one version up, and the new secret."""
    client = _get(uow, ApiClient, cmd.client_id, _no_api_client(cmd.client_id))
    secret = new_secret()
    client.secret_hash = client_secrets.hash(secret)
    client.secret_rotated_at = client.updated_at = utcnow()
    uow.session.flush()  # the UPDATE raises the version the answer's ETag shows
    _audit(uow, cmd.actor, "api_client", cmd.client_id, "secret_rotated", before=None, after=None)
    return client, secret


def _get(uow: UnitOfWork, model: type[Row], ident: str, missing: Message) -> Row:
    """The row ``ident`` of ``model``; :class:`NotFound` saying ``missing`` when there is none."""
    found = uow.session.get(model, ident)
    if found is None:
        raise NotFound(missing)
    return found


def _no_organisation(ident: str) -> Message:
    return _("No organisation {id}.", id=ident)


def _no_user(ident: str) -> Message:
    return _("No user {id}.", id=ident)


def _no_api_client(ident: str) -> Message:
    return _("No API client {id}.", id=ident)


def _name_taken(name: str) -> Message:
    return _("An organisation named {name!r} is already registered.", name=name)


def _username_taken(username: str) -> Message:
    return _("The username {username!r} is taken.", username=username)


def _client_id_taken(client_id: str) -> Message:
    return _("The client id {client_id!r} is taken.", client_id=client_id)


def _apply(target: Any, changes: Mapping[str, Any], allowed: Sequence[str]) -> bool:
    """Set the allowed attributes that differ; return whether anything changed."""
    changed = False
    for name in allowed:
        if name in changes and getattr(target, name) != changes[name]:
            setattr(target, name, changes[name])
            changed = True
    return changed


def _flush_unique(uow: UnitOfWork, detail: Message, code: str) -> None:
    # A concurrent writer may take the name between our check and our insert: the database's
    # unique constraint has the last word, and it is a 409 for the caller, never a 500.
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(detail, code=code) from None


def _audit(
    uow: UnitOfWork,
    actor: Principal,
    entity: str,
    entity_id: str,
    action: str,
    *,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    audit.record(
        uow, actor=actor.subject, entity=entity, entity_id=entity_id, action=action, before=before, after=after
    )


def _org_state(organisation: Organisation) -> dict[str, Any]:
    return organisation.event_data() | {"contact_email": organisation.contact_email}


def _user_state(user: User) -> dict[str, Any]:
    fields = ("username", "display_name", "email", "organisation_id", "active", "version")
    return {name: getattr(user, name) for name in fields} | {"roles": list(user.roles)}


def _client_state(client: ApiClient) -> dict[str, Any]:
    fields = ("name", "organisation_id", "active", "version")
    return {name: getattr(client, name) for name in fields} | {"roles": list(client.roles)}


def _client_prefix(kind: str) -> str:
    return "partner" if kind in PARTNER_KINDS else kind
