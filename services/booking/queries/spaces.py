"""Spaces and their closures, as every signed-in user reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import Closure, QuotaRule, Space
from services.booking.queries.views import closure_view, space_view
from shared.clock import as_utc
from shared.errors import NotFound


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


def get_space(session: Session, space_id: str) -> dict[str, Any]:
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(f"There is no space {space_id}.")
    return space_view(space)


def list_closures(session: Session, space_id: str, since: datetime | None) -> list[dict[str, Any]]:
    if session.get(Space, space_id) is None:
        raise NotFound(f"There is no space {space_id}.")
    query = select(Closure).where(Closure.space_id == space_id).order_by(Closure.starts_at)
    if since is not None:
        query = query.where(Closure.ends_at > as_utc(since))
    return [closure_view(c) for c in session.execute(query).scalars()]


def list_quotas(session: Session) -> list[dict[str, Any]]:
    rules = session.execute(select(QuotaRule).order_by(QuotaRule.org_id, QuotaRule.space_kind)).scalars()
    return [
        {"org_id": r.org_id, "space_kind": r.space_kind, "free_hours_per_month": r.free_hours_per_month} for r in rules
    ]
