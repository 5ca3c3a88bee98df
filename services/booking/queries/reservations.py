"""Reservations as their organisation and desk staff read them; series; the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from services.booking.models import Reservation, Series, Transition, directory
from services.booking.permissions import RIGHTS, can_see
from services.booking.queries.views import reservation_view, transition_view
from shared.clock import as_utc
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal


def _org_names(session: Session, org_ids: set[str]) -> dict[str, str]:
    if not org_ids:
        return {}
    rows = session.execute(select(directory.c.id, directory.c.name).where(directory.c.id.in_(org_ids))).all()
    return {row.id: row.name for row in rows}


def _visible(session: Session, actor: Principal, reservation_id: str) -> Reservation:
    reservation = session.get(Reservation, reservation_id)
    if reservation is None or not can_see(actor, reservation):
        raise NotFound(_("There is no reservation {id}.", id=reservation_id))
    return reservation


def get_reservation(session: Session, actor: Principal, reservation_id: str) -> dict[str, Any]:
    """One reservation with its organisation's name: one statement (the directory joined)."""
    found = session.execute(
        select(Reservation, directory.c.name)
        .outerjoin(directory, directory.c.id == Reservation.org_id)
        .where(Reservation.id == reservation_id)
    ).first()
    if found is None or not can_see(actor, found[0]):
        raise NotFound(_("There is no reservation {id}.", id=reservation_id))
    return reservation_view(found[0], actor, found[1])


def history(session: Session, actor: Principal, reservation_id: str) -> list[dict[str, Any]]:
    _visible(session, actor, reservation_id)
    rows = session.execute(
        select(Transition).where(Transition.reservation_id == reservation_id).order_by(Transition.id)
    ).scalars()
    return [transition_view(t) for t in rows]


def _scoped(actor: Principal, args: dict[str, Any]) -> Select[Any]:
    scope = args.get("scope") or ("all" if RIGHTS.allows(actor, "list_all") else "mine")
    query = select(Reservation)
    if scope == "all":
        RIGHTS.require(actor, "list_all")
        if args.get("organisation_id"):
            query = query.where(Reservation.org_id == args["organisation_id"])
    elif scope == "organisation":
        query = query.where(Reservation.org_id == actor.org_id)
    else:
        query = query.where(Reservation.booked_by == actor.subject, Reservation.org_id == actor.org_id)
    return query


def matching(text: str) -> ColumnElement[bool]:
    """Reservations whose organisation's name (English or Chinese), title or booker's name holds
    ``text``, in any case: ``%`` and ``_`` in it are themselves, not wildcards (``autoescape``).
    ILIKE on PostgreSQL; on SQLite ``lower() LIKE lower()``, which folds ASCII letters only."""
    organisations = select(directory.c.id).where(
        or_(directory.c.name.icontains(text, autoescape=True), directory.c.name_zh.icontains(text, autoescape=True))
    )
    return or_(
        Reservation.title.icontains(text, autoescape=True),
        Reservation.booked_by_name.icontains(text, autoescape=True),
        Reservation.org_id.in_(organisations),
    )


def list_reservations(session: Session, actor: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """``scope``: mine (default for tenants), organisation, all (the ``list_all`` right: staff,
    their default); ``q`` searches within the scope (:func:`matching`), so searching never shows
    more than listing does."""
    query = _scoped(actor, args)
    if args.get("status"):
        query = query.where(Reservation.status.in_(args["status"]))
    if args.get("space_id"):
        query = query.where(Reservation.space_id == str(args["space_id"]))
    if args.get("series_id"):
        query = query.where(Reservation.series_id == str(args["series_id"]))
    if args.get("purpose") == "none":
        query = query.where(Reservation.purpose.is_(None))
    elif args.get("purpose"):
        query = query.where(Reservation.purpose == args["purpose"])
    if args.get("from_"):
        query = query.where(Reservation.ends_at > as_utc(args["from_"]))
    if args.get("to"):
        query = query.where(Reservation.starts_at < as_utc(args["to"]))
    if args.get("q"):
        query = query.where(matching(args["q"]))
    newest_first = args.get("order") == "desc"
    query = query.order_by(Reservation.starts_at.desc() if newest_first else Reservation.starts_at, Reservation.id)
    page, size = args.get("page", 1), args.get("page_size", 50)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = list(session.execute(query.limit(size).offset((page - 1) * size)).scalars())
    names = _org_names(session, {r.org_id for r in rows})
    return {
        "items": [reservation_view(r, actor, names.get(r.org_id)) for r in rows],
        "page": page,
        "page_size": size,
        "total": int(total),
    }


def get_series(session: Session, actor: Principal, series_id: str) -> dict[str, Any]:
    series = session.get(Series, series_id)
    if series is None or not can_see(actor, series):
        raise NotFound(_("There is no series {id}.", id=series_id))
    rows = session.execute(
        select(Reservation).where(Reservation.series_id == series.id).order_by(Reservation.starts_at)
    ).scalars()
    names = _org_names(session, {series.org_id})
    return {
        "id": series.id,
        "space_id": series.space_id,
        "organisation": {"id": series.org_id, "name": names.get(series.org_id)},
        "booked_by": series.booked_by,
        "rrule": series.rrule,
        "first_start": series.first_start,
        "first_end": series.first_end,
        "mode": series.mode,
        "title": series.title,
        "status": series.status,
        "version": series.version,
        "occurrences": [reservation_view(r, actor, names.get(r.org_id)) for r in rows],
    }
