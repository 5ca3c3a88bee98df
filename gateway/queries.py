"""The read side of the identity API: pages and single objects, each within the caller's reach
(see :mod:`gateway.access`: the view's ``requires`` answers 403 for a role that may not read at
all; here, 404 outside one's reach).

Rows are returned *detached as loaded* (:func:`kept`): the view reads in
``shared.http.views.reading()``, which rolls back at its end, and a rollback expires every row
still in the session; flask-smorest dumps the rows after the view returned."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import Session

from gateway import access
from gateway.models import ApiClient, Base, Organisation, User
from shared.errors import NotFound, PermissionDenied
from shared.http.pagination import paginate
from shared.i18n import _
from shared.principal import Principal

ESCAPE = "\\"
R = TypeVar("R", bound=Base)


def list_organisations(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """Staff only (the view's role check); filters ``kind``, ``status`` and ``q`` (in the
    English or Chinese name)."""
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
    return _kept_page(session, paginate(session, query, args))


def get_organisation(session: Session, actor: Principal, organisation_id: str) -> Organisation:
    access.check_organisation_visible(actor, organisation_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("No organisation {id}.", id=organisation_id))
    return kept(session, organisation)


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
    return _kept_page(session, paginate(session, query, args))


def get_user(session: Session, actor: Principal, user_id: str) -> User:
    """Staff: anyone; a tenant admin: their organisation; everyone: themselves."""
    user = session.get(User, user_id)
    if user is None or not _may_read_user(actor, user):
        raise NotFound(_("No user {id}.", id=user_id))
    return kept(session, user)


def list_api_clients(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """Park admins only (the view's role check); filters ``organisation_id`` and ``active``."""
    query = select(ApiClient).order_by(ApiClient.name, ApiClient.client_id)
    if "organisation_id" in args:
        query = query.where(ApiClient.organisation_id == str(args["organisation_id"]))
    if "active" in args:
        query = query.where(ApiClient.active.is_(args["active"]))
    return _kept_page(session, paginate(session, query, args))


def get_api_client(session: Session, client_id: str) -> ApiClient:
    """Park admins only (the view's role check)."""
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(_("No API client {id}.", id=client_id))
    return kept(session, client)


def kept(session: Session, row: R) -> R:
    """``row`` (and the organisation it holds) taken out of ``session`` as loaded, so it stays
    readable after a read session rolled back (see the module's doc)."""
    _detach(session, [row])
    return row


def _kept_page(session: Session, page: dict[str, Any]) -> dict[str, Any]:
    _detach(session, page["items"])
    return page


def _detach(session: Session, rows: Iterable[Any]) -> None:
    for row in rows:
        for loaded in (row, getattr(row, "organisation", None)):
            if loaded is not None and loaded in session:
                session.expunge(loaded)


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
