"""Spaces and their closures, as every signed-in user reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import AdminChange, Closure, Space
from services.booking.queries.views import closure_view, details_in_park_time, space_view
from shared.clock import as_utc
from shared.errors import NotFound
from shared.i18n import _


def list_spaces(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """Filter by kind, seats, equipment, layout, building and (for staff) inactive ones."""
    query = select(Space).order_by(Space.kind, Space.capacity, Space.code)
    if not args.get("include_inactive"):
        query = query.where(Space.active.is_(True))
    if args.get("kind"):
        query = query.where(Space.kind.in_(args["kind"]))
    if args.get("min_capacity"):
        query = query.where(Space.capacity >= args["min_capacity"])
    if args.get("building"):
        query = query.where(Space.building == args["building"])
    wanted = set(args.get("equipment") or ())
    layout = args.get("layout")
    spaces = [
        space
        for space in session.execute(query).scalars()
        if wanted <= set(space.equipment or ()) and (layout is None or layout in (space.layouts or {}))
    ]
    page, size = args.get("page", 1), args.get("page_size", 50)
    chosen = spaces[(page - 1) * size : page * size]
    return {"items": [space_view(s) for s in chosen], "page": page, "page_size": size, "total": len(spaces)}


def get_space(session: Session, space_id: str, *, include_inactive: bool = True) -> dict[str, Any]:
    """One space; an inactive one is not found unless ``include_inactive`` (staff)."""
    space = session.get(Space, space_id)
    if space is None or not (space.active or include_inactive):
        raise NotFound(_("There is no space {id}.", id=space_id))
    return space_view(space)


def list_closures(session: Session, space_id: str, since: datetime | None) -> list[dict[str, Any]]:
    if session.get(Space, space_id) is None:
        raise NotFound(_("There is no space {id}.", id=space_id))
    query = select(Closure).where(Closure.space_id == space_id).order_by(Closure.starts_at)
    if since is not None:
        query = query.where(Closure.ends_at > as_utc(since))
    return [closure_view(c) for c in session.execute(query).scalars()]


def admin_history(session: Session, entity: str, entity_id: str | None = None) -> list[dict[str, Any]]:
    """Park admin's changes to a space (its closures included) or to the quotas, oldest first."""
    query = select(AdminChange).where(AdminChange.entity == entity)
    if entity_id is not None:
        query = query.where(AdminChange.entity_id == entity_id)
    return [
        {
            "entity": c.entity,
            "entity_id": c.entity_id,
            "action": c.action,
            "actor": c.actor,
            "actor_name": c.actor_name,
            "details": details_in_park_time(c.details),
            "at": c.at,
        }
        for c in session.execute(query.order_by(AdminChange.id)).scalars()
    ]
