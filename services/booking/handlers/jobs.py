"""Scheduled work of booking's worker: release no-shows, complete what ended, expire what was
never approved. Each function handles one batch inside the caller's unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from services.booking.handlers import quota
from services.booking.handlers.common import SYSTEM
from services.booking.handlers.transitions import transition
from services.booking.models import Reservation
from services.booking.rules import EXPIRED_REASON, NO_SHOW_REASON, Interval
from services.booking.rules.policy import no_show_after
from shared.clock import utcnow
from shared.db import UnitOfWork

BATCH = 500


def _due(uow: UnitOfWork, status: str, column: InstrumentedAttribute[datetime], now: datetime) -> list[Reservation]:
    query = (
        select(Reservation)
        .where(Reservation.status == status, column <= now)
        .order_by(Reservation.starts_at)
        .limit(BATCH)
    )
    return list(uow.session.execute(query).scalars())


def release_no_shows(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """Confirmed reservations nobody checked in for once the check-in window closed become
    ``no_show``; the space is free again. Publishes ``booking.reservation.no_show``."""
    now = now or utcnow()
    released = 0
    for reservation in _due(uow, "confirmed", Reservation.starts_at, now):
        usage = Interval(reservation.start_utc, reservation.end_utc)
        if no_show_after(reservation.space.policy(), usage) <= now:
            transition(
                uow,
                reservation,
                "no_show",
                actor=SYSTEM,
                now=now,
                reason=str(NO_SHOW_REASON),  # stored and published in English; answers translate it
            )
            released += 1
    quota.settle(uow)
    return released


def complete_ended(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """Checked-in reservations whose end has passed become ``completed``."""
    now = now or utcnow()
    ended = _due(uow, "checked_in", Reservation.ends_at, now)
    for reservation in ended:
        transition(uow, reservation, "complete", actor=SYSTEM, now=now)
    quota.settle(uow)
    return len(ended)


def expire_unapproved(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """Reservations still waiting for approval at their start are rejected (they held the space)."""
    now = now or utcnow()
    waiting = _due(uow, "pending_approval", Reservation.starts_at, now)
    for reservation in waiting:
        transition(uow, reservation, "expire", actor=SYSTEM, now=now, reason=str(EXPIRED_REASON))
    quota.settle(uow)
    return len(waiting)
