"""Transitions of a reservation: approve, reject, expire, cancel, check in, no-show, complete.

Each checks its rules, moves the state, appends to the audit trail and publishes
``booking.reservation.<verb>``; none commits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.booking.commands import ActOnReservation, Actor
from services.booking.handlers.common import check_version, load_reservation, publish, record
from services.booking.models import Reservation
from services.booking.permissions import can_manage
from services.booking.rules import Interval, cancellation_fee, check_check_in_window, next_status
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import PermissionDenied, RuleViolation

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
    actor: Actor,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Apply ``action`` (approve, reject, expire, cancel, check_in, no_show, complete) with its
    rules, record it and publish its event."""
    now = now or utcnow()
    target = next_status(reservation.status, action)
    policy = reservation.space.policy()
    usage = Interval(reservation.start_utc, reservation.end_utc)
    if action == "reject" and not (reason and reason.strip()):
        raise RuleViolation("Say why the reservation is rejected.", code="rule/reason-required")
    if action == "approve" and usage.start <= now:
        raise RuleViolation("A reservation cannot be approved after its start.", code="rule/too-late")
    if action == "cancel":
        if usage.end <= now:
            raise RuleViolation("A reservation that has ended cannot be cancelled.", code="rule/cancel-after-end")
        if usage.start <= now and not actor.is_staff:
            raise RuleViolation("A reservation that has started cannot be cancelled.", code="rule/cancel-after-start")
        # Desk staff cancelling (a closure, an emergency) waive the fee.
        reservation.cancellation_fee = (
            cancellation_fee(policy, reservation.price, usage.start, now) if not actor.is_staff else Decimal("0.00")
        )
    if action == "check_in":
        check_check_in_window(policy, usage, now)
        reservation.checked_in_at = now
    from_status = reservation.status
    reservation.status = target
    if reason:
        reservation.reason = reason
    reservation.sequence += 1
    reservation.updated_at = now
    publish(uow, reservation, _VERB[action])
    details = {"cancellation_fee": str(reservation.cancellation_fee)} if action == "cancel" else {}
    record(uow, reservation, action=action, from_status=from_status, actor=actor, reason=reason, details=details)


def act_on_reservation(cmd: ActOnReservation, *, uow: UnitOfWork) -> str:
    """approve / reject (desk staff), cancel (organiser, tenant admin, staff), check_in and
    complete (the organisation or staff)."""
    reservation = load_reservation(uow, cmd.actor, cmd.reservation_id)
    if cmd.action in ("approve", "reject") and not cmd.actor.is_staff:
        raise PermissionDenied("Only desk staff approve or reject reservations.")
    if cmd.action == "cancel" and not can_manage(cmd.actor, reservation):
        raise PermissionDenied("Only the organiser, a tenant admin or desk staff may cancel this reservation.")
    if cmd.action not in ("approve", "reject", "cancel", "check_in", "complete"):
        raise PermissionDenied(f"{cmd.action} is not something a caller may do.")
    check_version(reservation.version, cmd.expected_versions)
    transition(uow, reservation, cmd.action, actor=cmd.actor, reason=cmd.reason)
    return reservation.id
