"""The states of a reservation and the actions that move it between them."""

from __future__ import annotations

from shared.errors import Conflict

STATUSES = ("pending_approval", "confirmed", "rejected", "cancelled", "checked_in", "completed", "no_show")
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
