"""The read side of the identity API: pages and single objects, each within the caller's reach
(see :mod:`gateway.access`: 403 for a role that may not read at all, 404 outside one's reach)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import Session

from gateway import access
from gateway.models import ApiClient, Organisation, User
from shared.errors import NotFound, PermissionDenied
from shared.http.pagination import paginate
from shared.i18n import _
from shared.principal import Principal

ESCAPE = "\\"


def list_organisations(session: Session, actor: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """Staff only; filters ``kind``, ``status`` and ``q`` (in the English or Chinese name)."""
    access.require_staff(actor)
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if "kind" in args:
        query = query.where(Organisation.kind == args["kind"])
    if "status" in args:
        query = query.where(Organisation.status == args["status"])
    if args.get("q"):
        pattern = _like(args["q"])
        query = query.where(
            or_(Organisation.name.ilike(pattern, escape=ESCAPE), Organisation.name_zh.ilike(pattern, escape=ESCAPE))
        )
    return paginate(session, query, args)


def get_organisation(session: Session, actor: Principal, organisation_id: str) -> Organisation:
    access.check_organisation_visible(actor, organisation_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("No organisation {id}.", id=organisation_id))
    return organisation


def list_users(session: Session, actor: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """Staff see everyone, a tenant admin their own organisation; filters ``organisation_id``,
    ``role``, ``active`` and ``q`` (username, name or email)."""
    scope = access.user_scope(actor)
    query: Select[Any] = select(User).order_by(User.username)
    if scope is not None:
        query = query.where(User.organisation_id == scope)
    if "organisation_id" in args:
        query = query.where(User.organisation_id == str(args["organisation_id"]))
    if "active" in args:
        query = query.where(User.active.is_(args["active"]))
    if "role" in args:
        # Roles are a short JSON list; a text match on the quoted name is exact and portable.
        query = query.where(cast(User.roles, String).like(_like(f'"{args["role"]}"'), escape=ESCAPE))
    if args.get("q"):
        pattern = _like(args["q"])
        query = query.where(
            or_(
                User.username.ilike(pattern, escape=ESCAPE),
                User.display_name.ilike(pattern, escape=ESCAPE),
                User.email.ilike(pattern, escape=ESCAPE),
            )
        )
    return paginate(session, query, args)


def get_user(session: Session, actor: Principal, user_id: str) -> User:
    """Staff: anyone; a tenant admin: their organisation; everyone: themselves."""
    user = session.get(User, user_id)
    if user is None or not _may_read_user(actor, user):
        raise NotFound(_("No user {id}.", id=user_id))
    return user


def list_api_clients(session: Session, actor: Principal, args: dict[str, Any]) -> dict[str, Any]:
    access.require_park_admin(actor)
    query = select(ApiClient).order_by(ApiClient.name, ApiClient.client_id)
    if "organisation_id" in args:
        query = query.where(ApiClient.organisation_id == str(args["organisation_id"]))
    if "active" in args:
        query = query.where(ApiClient.active.is_(args["active"]))
    return paginate(session, query, args)


def get_api_client(session: Session, actor: Principal, client_id: str) -> ApiClient:
    access.require_park_admin(actor)
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(_("No API client {id}.", id=client_id))
    return client


def _may_read_user(actor: Principal, user: User) -> bool:
    if actor.subject == user.subject:
        return True
    try:
        scope = access.user_scope(actor)
    except PermissionDenied:
        return False
    return scope is None or scope == user.organisation_id


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"
