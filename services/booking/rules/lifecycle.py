"""The states of a reservation, the actions that move it between them, and the guards each
action passes first (who may, and when). Statuses and space kinds are defined once, in the
published contract (:mod:`shared.events.booking`): what other services read is what we store.
"""

from __future__ import annotations

from datetime import datetime

from shared.errors import Conflict, PermissionDenied, PreconditionFailed, RuleViolation
from shared.events.booking import RESERVATION_STATUSES, SPACE_KINDS

STATUSES = RESERVATION_STATUSES
KINDS = SPACE_KINDS
CALLER_ACTIONS = ("approve", "reject", "cancel", "check_in", "complete")
"""The actions a caller may ask for over HTTP; the others are the worker's (expire, no_show)."""
HOLDING = ("pending_approval", "confirmed", "checked_in")
"""States in which a reservation holds its space (and its buffers) against every other."""

COUNTED_FOR_QUOTA = ("pending_approval", "confirmed", "checked_in", "completed", "no_show")
"""States whose minutes count against the organisation's free hours of the month."""

_MOVES: dict[str, dict[str, str]] = {
    "approve": {"pending_approval": "confirmed"},
    "reject": {"pending_approval": "rejected"},
    "expire": {"pending_approval": "rejected"},
    "cancel": {"pending_approval": "cancelled", "confirmed": "cancelled"},
    "check_in": {"confirmed": "checked_in"},
    "no_show": {"confirmed": "no_show"},
    "complete": {"checked_in": "completed"},
    "reschedule": {"pending_approval": "pending_approval", "confirmed": "confirmed"},
}
ACTIONS = tuple(_MOVES)


def next_status(status: str, action: str) -> str:
    """The state ``action`` leads to from ``status``; ``rule/state-transition`` (409) if none."""
    try:
        return _MOVES[action][status]
    except KeyError:
        allowed = ", ".join(sorted(_MOVES.get(action, {}))) or "none"
        raise Conflict(
            f"A reservation that is {status} cannot be {_PAST.get(action, action)} (only from: {allowed}).",
            code="rule/state-transition",
            reservation_status=status,
            action=action,
        ) from None


_PAST = {
    "approve": "approved",
    "reject": "rejected",
    "expire": "expired",
    "cancel": "cancelled",
    "check_in": "checked in",
    "no_show": "marked a no-show",
    "complete": "completed",
    "reschedule": "rescheduled",
}


def check_version(current: int, expected: frozenset[int] | None) -> None:
    """``If-Match`` named versions (None: ``*``) and ``current`` is not one: 412."""
    if expected is not None and current not in expected:
        raise PreconditionFailed(
            f"The resource changed since you read it (now at version {current}); read it again.",
            current_etag=f'"{current}"',
        )


def check_caller_action(action: str, *, staff: bool, manages: bool) -> None:
    """Who may ask for ``action``: approve and reject are desk staff's; cancel the organiser's,
    a tenant admin's or staff's (``manages``); check-in and complete anybody who sees it."""
    if action not in CALLER_ACTIONS:
        raise PermissionDenied(f"{action} is not something a caller may do.")
    if action in ("approve", "reject") and not staff:
        raise PermissionDenied("Only desk staff approve or reject reservations.")
    if action == "cancel" and not manages:
        raise PermissionDenied("Only the organiser, a tenant admin or desk staff may cancel this reservation.")


def check_transition(
    action: str, *, start: datetime, end: datetime, now: datetime, staff: bool, reason: str | None
) -> None:
    """The time and reason rules of ``action`` on a reservation from ``start`` to ``end``:
    a rejection says why; nothing is approved after its start; nothing is cancelled after its
    end, and only staff cancel after the start."""
    if action == "reject" and not (reason and reason.strip()):
        raise RuleViolation("Say why the reservation is rejected.", code="rule/reason-required")
    if action == "approve" and start <= now:
        raise RuleViolation("A reservation cannot be approved after its start.", code="rule/too-late")
    if action == "cancel":
        if end <= now:
            raise RuleViolation("A reservation that has ended cannot be cancelled.", code="rule/cancel-after-end")
        if start <= now and not staff:
            raise RuleViolation("A reservation that has started cannot be cancelled.", code="rule/cancel-after-start")
