"""Transitions of a reservation: approve, reject, expire, cancel, check in, no-show, complete.

Each checks its rules (:mod:`services.booking.rules.lifecycle`), moves the state, gives the
free minutes back when the new state no longer counts (noted: the caller ends with
``quota.settle``), appends to the audit trail and publishes
``booking.reservation.<verb>``; none commits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.booking.commands import ActOnReservation
from services.booking.handlers import quota
from services.booking.handlers.common import load_reservation, publish, record, shown
from services.booking.models import Reservation, Transition
from services.booking.permissions import RIGHTS, desk_leeway
from services.booking.rules import (
    Interval,
    cancellation_fee,
    check_caller_action,
    check_check_in_window,
    check_transition,
    counts_for_quota,
    next_status,
)
from services.booking.rules.lifecycle import TrailLine, cancellation_charged, confirmed_seating
from services.booking.rules.policy import Seating
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import check_version
from shared.principal import Principal

_VERB = {
    "approve": "confirmed",
    "reject": "rejected",
    "expire": "rejected",
    "cancel": "cancelled",
    "check_in": "checked_in",
    "no_show": "no_show",
    "complete": "completed",
}


def transition(
    uow: UnitOfWork,
    reservation: Reservation,
    action: str,
    *,
    actor: Principal,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Apply ``action`` (approve, reject, expire, cancel, check_in, no_show, complete) with its
    rules, record it and publish its event."""
    now = now or utcnow()
    target = next_status(reservation.status, action)
    policy = reservation.space.policy()
    usage = Interval(reservation.start_utc, reservation.end_utc)
    leeway = desk_leeway(actor)
    check_transition(action, start=usage.start, end=usage.end, now=now, staff=leeway, reason=reason)
    if action in ("cancel", "expire"):
        # A booking an edit sent back to approval is charged as the confirmed one it was, when it
        # is withdrawn or left to expire; a request never approved is not (and its expiry
        # records no fee at all).
        once_confirmed = reservation.status == "pending_approval" and not leeway and was_confirmed(uow, reservation)
        charged = cancellation_charged(reservation.status, staff=leeway, once_confirmed=once_confirmed)
        if action == "cancel" or charged:
            reservation.cancellation_fee = (
                cancellation_fee(policy, reservation.price, usage.start, now) if charged else Decimal("0.00")
            )
    if action == "check_in":
        check_check_in_window(policy, usage, now)
        reservation.checked_in_at = now
    from_status = reservation.status
    if not counts_for_quota(target):
        quota.give_back(uow, quota.spending(reservation))  # written by the caller's quota.settle
    reservation.status = target
    if reason:
        reservation.reason = reason
    reservation.sequence += 1
    reservation.updated_at = now
    publish(uow, reservation, _VERB[action])
    charges = action in ("cancel", "expire") and reservation.cancellation_fee is not None
    details = {"cancellation_fee": str(reservation.cancellation_fee)} if charges else {}
    record(uow, reservation, action=action, from_status=from_status, actor=actor, reason=reason, details=details)


def confirmed_seating_of(uow: UnitOfWork, reservation: Reservation) -> Seating | None:
    """The seating a current ``reservation`` had when it was last confirmed (``None``: never).
    A confirmed or checked-in one is seated as confirmed; for one waiting for approval its audit
    trail says (:func:`services.booking.rules.lifecycle.confirmed_seating`)."""
    seating = Seating(reservation.attendees, reservation.layout)
    if reservation.status != "pending_approval":
        return seating
    query = (
        select(Transition.action, Transition.to_status, Transition.details)
        .where(Transition.reservation_id == reservation.id)
        .order_by(Transition.id)
    )
    trail = [TrailLine(action, to_status, details or {}) for action, to_status, details in uow.session.execute(query)]
    return confirmed_seating(trail, seating)


def was_confirmed(uow: UnitOfWork, reservation: Reservation) -> bool:
    """Whether ``reservation`` was ever confirmed (its audit trail says so once it waits for
    approval again)."""
    return confirmed_seating_of(uow, reservation) is not None


def act_on_reservation(cmd: ActOnReservation, *, uow: UnitOfWork) -> dict[str, Any]:
    """approve, reject, cancel, check_in or complete, by those booking's table of rights names
    for the action (another organisation's reservation is not found); returns the reservation
    as the caller sees it."""
    reservation = load_reservation(uow, cmd.actor, cmd.reservation_id)
    check_caller_action(cmd.action)
    RIGHTS.require(cmd.actor, cmd.action, reservation)
    check_version(reservation.version, cmd.expected_versions)
    transition(uow, reservation, cmd.action, actor=cmd.actor, reason=cmd.reason)
    quota.settle(uow)
    return shown(uow, cmd.actor, reservation)
