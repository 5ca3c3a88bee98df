"""Commands on identity: one function per command, ``handler(cmd, *, uow, actor, ...)``.

Each handler checks that ``actor`` may act on the object (see :mod:`gateway.access`), changes
rows, writes one audit entry per change and publishes the integration event into the outbox of
``uow``. Handlers never commit: the caller (a view, the seed) owns the transaction and commits
once the handler returned, so a change, its audit entry and its event stand or fall together.
They raise :class:`shared.errors.DomainError` subclasses: 403/404 for access, 409 for a taken
name or username, 422 for a broken rule. ``precondition`` receives the object's current version
before a change (the API passes ``check_if_match``).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway import access, audit
from gateway.client_secrets import ClientSecrets, new_secret
from gateway.commands import (
    CreateApiClient,
    CreateUser,
    RegisterOrganisation,
    UpdateApiClient,
    UpdateOrganisation,
    UpdateUser,
)
from gateway.models import ApiClient, Organisation, User
from gateway.passwords import hash_secret
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound
from shared.events.identity import ORGANISATION_REGISTERED, ORGANISATION_UPDATED, PARTNER_KINDS
from shared.i18n import Message, _
from shared.principal import Principal

Precondition = Callable[[int], None]
Row = TypeVar("Row", Organisation, User, ApiClient)


def _no_precondition(_version: int) -> None:
    return None


def register_organisation(cmd: RegisterOrganisation, *, uow: UnitOfWork, actor: Principal) -> Organisation:
    """Park admin registers an organisation. Publishes ``identity.organisation.registered``."""
    access.require_park_admin(actor)
    now = utcnow()
    organisation = Organisation(
        id=str(uuid.uuid4()),
        name=cmd.name,
        name_zh=cmd.name_zh,
        kind=cmd.kind,
        status=cmd.status,
        contact_email=cmd.contact_email,
        version=1,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(organisation)
    _flush_unique(uow, _name_taken(cmd.name), "organisation-name-taken")
    _audit(uow, actor, "organisation", organisation.id, "registered", before=None, after=_org_state(organisation))
    uow.publish(ORGANISATION_REGISTERED.type, organisation.event_data(), subject=organisation.id, orgid=organisation.id)
    return organisation


def update_organisation(
    cmd: UpdateOrganisation, *, uow: UnitOfWork, actor: Principal, precondition: Precondition = _no_precondition
) -> Organisation:
    """Change an organisation's details or status; publishes ``identity.organisation.updated``
    when anything changed (the version then goes up by one)."""
    access.require_park_admin(actor)
    organisation = _get(uow, Organisation, cmd.organisation_id, _no_organisation(cmd.organisation_id))
    precondition(organisation.version)
    before = _org_state(organisation)
    if not _apply(organisation, cmd.changes, ("name", "name_zh", "contact_email", "status")):
        return organisation
    organisation.version += 1
    organisation.updated_at = utcnow()
    _flush_unique(uow, _name_taken(organisation.name), "organisation-name-taken")
    action = "status_changed" if before["status"] != organisation.status else "updated"
    _audit(uow, actor, "organisation", organisation.id, action, before=before, after=_org_state(organisation))
    uow.publish(ORGANISATION_UPDATED.type, organisation.event_data(), subject=organisation.id, orgid=organisation.id)
    return organisation


def create_user(cmd: CreateUser, *, uow: UnitOfWork, actor: Principal) -> User:
    """Create a user account (park admin: anyone; tenant admin: their own organisation)."""
    access.require_user_manager(actor)
    organisation = _get(uow, Organisation, cmd.organisation_id, _no_organisation(cmd.organisation_id))
    access.check_may_manage_users(actor, organisation, cmd.roles)
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
        version=1,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(user)
    _flush_unique(uow, _username_taken(username), "username-taken")
    _audit(uow, actor, "user", user.id, "created", before=None, after=_user_state(user))
    return user


def update_user(
    cmd: UpdateUser, *, uow: UnitOfWork, actor: Principal, precondition: Precondition = _no_precondition
) -> User:
    """Change a user's name, email, roles, password or active flag (same reach as create)."""
    access.require_user_manager(actor)
    user = _get(uow, User, cmd.user_id, _no_user(cmd.user_id))
    try:
        access.check_may_manage_users(actor, user.organisation, cmd.changes.get("roles", user.roles))
    except NotFound:
        raise NotFound(_no_user(cmd.user_id)) from None
    precondition(user.version)
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
    user.version += 1
    user.updated_at = utcnow()
    after = _user_state(user) | ({"password_changed": True} if password is not None else {})
    _audit(uow, actor, "user", user.id, "updated", before=before, after=after)
    return user


def create_api_client(
    cmd: CreateApiClient, *, uow: UnitOfWork, actor: Principal, client_secrets: ClientSecrets
) -> tuple[ApiClient, str]:
    """Register a partner's machine client; returns it with its secret (256 random bits), which
    is kept only as ``client_secrets``' keyed hash and never shown again. 409 when ``client_id``
    is taken."""
    access.require_park_admin(actor)
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
        version=1,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(client)
    _flush_unique(uow, _client_id_taken(client_id), "client-id-taken")
    _audit(uow, actor, "api_client", client_id, "created", before=None, after=_client_state(client))
    return client, secret


def update_api_client(
    cmd: UpdateApiClient, *, uow: UnitOfWork, actor: Principal, precondition: Precondition = _no_precondition
) -> ApiClient:
    """Rename, re-role, deactivate or reactivate a client (park admin)."""
    access.require_park_admin(actor)
    client = _get(uow, ApiClient, cmd.client_id, _no_api_client(cmd.client_id))
    if "roles" in cmd.changes:
        access.check_roles_fit(client.organisation, cmd.changes["roles"])
    precondition(client.version)
    before = _client_state(client)
    changes = dict(cmd.changes)
    if "roles" in changes:
        changes["roles"] = sorted(set(changes["roles"]))
    if not _apply(client, changes, ("name", "roles", "active")):
        return client
    client.version += 1
    client.updated_at = utcnow()
    _audit(uow, actor, "api_client", client.client_id, "updated", before=before, after=_client_state(client))
    return client


def rotate_client_secret(
    client_id: str, *, uow: UnitOfWork, actor: Principal, client_secrets: ClientSecrets
) -> tuple[ApiClient, str]:
    """Replace a client's secret; the old one stops working at once. Returns the new secret."""
    access.require_park_admin(actor)
    client = _get(uow, ApiClient, client_id, _no_api_client(client_id))
    secret = new_secret()
    client.secret_hash = client_secrets.hash(secret)
    client.secret_rotated_at = client.updated_at = utcnow()
    client.version += 1
    _audit(uow, actor, "api_client", client_id, "secret_rotated", before=None, after=None)
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
