"""What the reservation handlers share, on the session's side: loading with permissions, the
directory (read once per transaction), the overlap lookup, pricing with the quota counter, the
audit trail, the events and the answer. The decisions themselves are pure and live in
:mod:`services.booking.rules`. Nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.booking.handlers import quota
from services.booking.models import (
    Closure,
    Reservation,
    Space,
    Transition,
    directory,
    holds_meeting,
)
from services.booking.permissions import RIGHTS, can_see
from services.booking.queries.park_days import following_park_days
from services.booking.queries.views import reservation_view
from services.booking.rules import Interval, Pricing, SpacePolicy, double_booking, price_of, quota_month
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import NotFound, RuleViolation
from shared.i18n import _
from shared.principal import Principal

MAX_ORG_ID = 64
"""Organisation ids are at most this long (the directory's and every ``org_id`` column's width)."""

SYSTEM = Principal(subject="system:booking", org_id="", org_kind="operator", roles=frozenset(), name="ParkHub booking")


def new_id() -> str:
    return str(uuid.uuid4())


def load_space(uow: UnitOfWork, space_id: str, *, active: bool = True) -> Space:
    space = uow.session.get(Space, space_id)
    if space is None:
        raise NotFound(_("There is no space {id}.", id=space_id))
    if active and not space.active:
        raise RuleViolation(_("This space is not open for booking."), code="rule/space-inactive")
    return space


def load_reservation(uow: UnitOfWork, actor: Principal, reservation_id: str) -> Reservation:
    """The reservation if ``actor`` may see it; another organisation's is simply not found."""
    reservation = uow.session.get(Reservation, reservation_id)
    if reservation is None or not can_see(actor, reservation):
        raise NotFound(_("There is no reservation {id}.", id=reservation_id))
    return reservation


def organisation(uow: UnitOfWork, org_id: str) -> dict[str, Any] | None:
    """The directory's row of ``org_id``, read once per transaction (kept in the session's
    ``info``: the check that the organisation may book and the event's name use one read)."""
    known: dict[str, dict[str, Any] | None] = uow.session.info.setdefault("booking.directory", {})
    if org_id not in known:
        row = uow.session.execute(select(directory).where(directory.c.id == org_id)).mappings().first()
        known[org_id] = dict(row) if row else None
    return known[org_id]


def known_organisation(uow: UnitOfWork, org_id: str) -> dict[str, Any]:
    """The organisation as booking's directory (fed by ``identity.organisation.*``) knows it;
    ``rule/unknown-organisation`` (422) when it does not."""
    known = organisation(uow, org_id) if len(org_id) <= MAX_ORG_ID else None
    if known is None:
        raise RuleViolation(
            _("Booking knows no organisation {id}.", id=org_id[:MAX_ORG_ID]), code="rule/unknown-organisation"
        )
    return known


def booking_organisation(uow: UnitOfWork, actor: Principal, org_id: str | None) -> tuple[str, str]:
    """The organisation a reservation is for, and its kind. Another organisation than the
    caller's own is the ``book_for_another_organisation`` right (staff). The organisation must be
    named (a token without one: ``rule/unknown-organisation``), in booking's directory
    (``rule/unknown-organisation``) and active (``rule/organisation-suspended``)."""
    if org_id and org_id != actor.org_id:
        RIGHTS.require(actor, "book_for_another_organisation")
    target = org_id or actor.org_id
    if not target:
        raise RuleViolation(_("Your token names no organisation to book for."), code="rule/unknown-organisation")
    known = known_organisation(uow, target)
    if known["status"] != "active":
        raise RuleViolation(_("This organisation is suspended and cannot book."), code="rule/organisation-suspended")
    if target == actor.org_id:
        return target, actor.org_kind or known["kind"]
    return target, known["kind"]


def policy_for(uow: UnitOfWork, space: Space, usage: Interval) -> SpacePolicy:
    """The rules of ``space`` for judging ``usage``: a space that closes on public holidays gets
    the park's holidays and make-up working days around it, setup and cleanup included (one
    query); any other space its week alone, with no query."""
    policy = space.policy()
    margin = max(policy.setup, policy.cleanup)
    return following_park_days(uow.session, policy, usage, margin, closes=space.closes_on_public_holidays)


def closures_meeting(uow: UnitOfWork, space_id: str, hold: Interval) -> list[Interval]:
    rows = uow.session.execute(
        select(Closure.starts_at, Closure.ends_at).where(
            Closure.space_id == space_id,
            Closure.starts_at < hold.end,
            Closure.ends_at > hold.start,
        )
    ).all()
    return [Interval(as_utc(a), as_utc(b)) for a, b in rows]


def check_free(uow: UnitOfWork, space_id: str, hold: Interval, *, exclude: Iterable[str] = ()) -> None:
    """Refuse a hold that meets another holding reservation (``rule/no-double-booking``, 409).

    On SQLite this check *is* the guarantee (the unit of work took the write lock first); on
    PostgreSQL the exclusion constraint is, and this only gives the friendlier answer early.
    """
    query = select(Reservation.hold_start, Reservation.hold_end).where(
        Reservation.space_id == space_id, *holds_meeting(uow.session, hold.start, hold.end)
    )
    excluded = list(exclude)
    if excluded:
        query = query.where(Reservation.id.not_in(excluded))
    clash = uow.session.execute(query.limit(1)).first()
    if clash is not None:
        raise double_booking(Interval(as_utc(clash[0]), as_utc(clash[1])))


def flush(uow: UnitOfWork) -> None:
    """Flush, turning PostgreSQL's exclusion violation (a concurrent hold won) into a 409."""
    try:
        uow.session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == "23P01" or "ex_reservations_no_overlap" in str(exc.orig):
            raise double_booking() from None
        raise


def pricing(
    uow: UnitOfWork,
    space: Space,
    org_id: str,
    org_kind: str,
    usage: Interval,
    *,
    returning: quota.Spending | None = None,
) -> Pricing:
    """Quota, then price. The park's own events (the operator) are free of charge; only tenants
    have free hours, read from the counter without a lock (``returning``: the minutes of the
    reservation being priced again count as free). The caller notes what the price took with
    :func:`services.booking.handlers.quota.take`; ``quota.settle`` makes it exact."""
    left = (
        quota.free_minutes(uow, org_id, space.kind, quota_month(usage.start), returning=returning)
        if org_kind == "tenant"
        else 0
    )
    return price_of(space.policy(), usage.minutes, free_minutes_left=left, free_of_charge=org_kind == "operator")


def shown(uow: UnitOfWork, actor: Principal, reservation: Reservation) -> dict[str, Any]:
    """The answer to ``actor`` about ``reservation``, built from what this transaction wrote (no
    read-back in another transaction); flushed first, so the version is the new one."""
    flush(uow)
    org = organisation(uow, reservation.org_id)
    return reservation_view(reservation, actor, org["name"] if org else None)


def record(
    uow: UnitOfWork,
    reservation: Reservation,
    *,
    action: str,
    from_status: str | None,
    actor: Principal,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one line to the audit trail."""
    uow.session.add(
        Transition(
            reservation_id=reservation.id,
            action=action,
            from_status=from_status,
            to_status=reservation.status,
            actor=actor.subject,
            actor_name=actor.name or None,
            reason=reason,
            details=details or {},
            at=utcnow(),
        )
    )


def utc_text(moment: datetime | None) -> str | None:
    """An instant as events carry it: RFC 3339 in UTC with ``Z`` (``None`` stays ``None``)."""
    return as_utc(moment).isoformat().replace("+00:00", "Z") if moment is not None else None


def publish(uow: UnitOfWork, reservation: Reservation, verb: str, **extra: Any) -> str:
    """Flush, then put ``booking.reservation.<verb>`` for ``reservation`` in the outbox; a room
    hold's events carry its request's correlation id (see :attr:`Reservation.correlation_id`)."""
    flush(uow)
    space = reservation.space
    org = organisation(uow, reservation.org_id)
    data: dict[str, Any] = {
        "reservation_id": reservation.id,
        "status": reservation.status,
        "space_id": space.id,
        "space_name": space.name,
        "space_name_zh": space.name_zh,
        "space_kind": space.kind,
        "building": space.building,
        "org_id": reservation.org_id,
        "org_name": org["name"] if org else None,
        "booked_by": reservation.booked_by,
        "booked_by_name": reservation.booked_by_name,
        "title": reservation.title,
        "attendees": reservation.attendees,
        "layout": reservation.layout,
        "starts_at": utc_text(reservation.starts_at),
        "ends_at": utc_text(reservation.ends_at),
        "price": str(reservation.price),
        "currency": reservation.currency,
        "cancellation_fee": str(reservation.cancellation_fee) if reservation.cancellation_fee is not None else None,
        "series_id": reservation.series_id,
        "visitors": [
            {"name": v.name, "company": v.company, "car_plate": v.car_plate, "plate_kind": v.plate_kind}
            for v in reservation.visitors
        ],
        "reason": reservation.reason,
        "request_id": reservation.request_id,
        "purpose": reservation.purpose,
        "purpose_ref": reservation.purpose_ref,
        "version": reservation.version,
    }
    for key, value in extra.items():
        data[key] = utc_text(value) if isinstance(value, datetime) else value
    # A room hold's events all carry the correlation id of the requesting service's request,
    # also when desk staff approve it days later; any other event carries the request at hand's.
    current = uow.context.get("correlationid")
    if reservation.request_id and reservation.correlation_id:
        uow.context["correlationid"] = reservation.correlation_id
    try:
        return uow.publish(
            f"booking.reservation.{verb}", data, subject=f"reservations/{reservation.id}", orgid=reservation.org_id
        )
    finally:
        uow.context["correlationid"] = current
