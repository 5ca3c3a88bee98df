"""The states of a reservation, the actions that move it between them, and the guards each
action passes first (who may, and when). Statuses and space kinds are defined once, in the
published contract (:mod:`shared.events.booking`): what other services read is what we store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.booking.rules.names import STATUS_NAMES
from services.booking.rules.policy import Seating
from shared.errors import Conflict, PermissionDenied, RuleViolation
from shared.events.booking import RESERVATION_STATUSES, SPACE_KINDS
from shared.i18n import Message, Text, _

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

NO_SHOW_REASON = _("Nobody checked in before the check-in window closed; the space was released.")
EXPIRED_REASON = _("It was not approved before its start.")
_SYSTEM_REASONS = {reason.msgid: reason for reason in (NO_SHOW_REASON, EXPIRED_REASON)}
"""The reasons booking itself gives (the worker's no-show and expiry). A reservation keeps the
English text, as events and the audit trail do; :func:`reason_text` turns it back into the
marked text, so answers show it in the reader's language."""


def reason_text(stored: str | None) -> Text | None:
    """A stored ``reason`` for people to read: booking's own reasons as marked texts, a person's
    reason (desk staff rejecting, a tenant cancelling) as they wrote it."""
    if stored is None:
        return None
    return _SYSTEM_REASONS.get(stored, stored)


def next_status(status: str, action: str) -> str:
    """The state ``action`` leads to from ``status``; ``rule/state-transition`` (409) if none."""
    try:
        return _MOVES[action][status]
    except KeyError:
        refusal = _REFUSALS.get(action, _not_this_way)
        raise Conflict(
            refusal(STATUS_NAMES.get(status, status)),
            code="rule/state-transition",
            reservation_status=status,
            action=action,
        ) from None


def _not_this_way(status: Text) -> Message:
    return _("A reservation that is {status} cannot be changed this way.", status=status)


# One text per action, each naming the states it is possible from (those of _MOVES).
_REFUSALS: dict[str, Callable[[Text], Message]] = {
    "approve": lambda status: _(
        "Only a reservation pending approval can be approved; this one is {status}.", status=status
    ),
    "reject": lambda status: _(
        "Only a reservation pending approval can be rejected; this one is {status}.", status=status
    ),
    "expire": lambda status: _("Only a reservation pending approval can expire; this one is {status}.", status=status),
    "cancel": lambda status: _(
        "Only a reservation pending approval or confirmed can be cancelled; this one is {status}.", status=status
    ),
    "check_in": lambda status: _(
        "Only a confirmed reservation can be checked in; this one is {status}.", status=status
    ),
    "no_show": lambda status: _(
        "Only a confirmed reservation can be released as a no-show; this one is {status}.", status=status
    ),
    "complete": lambda status: _(
        "Only a checked-in reservation can be completed; this one is {status}.", status=status
    ),
    "reschedule": lambda status: _(
        "Only a reservation pending approval or confirmed can be rescheduled; this one is {status}.", status=status
    ),
}


def check_caller_action(action: str) -> None:
    """Whether ``action`` is one a caller may ask for over HTTP (the worker's expire and no-show
    are not). Who may ask for it is booking's table of rights (``permissions.RIGHTS``)."""
    if action not in CALLER_ACTIONS:
        raise PermissionDenied(_("This is not an action a caller may ask for."))


def cancellation_charged(status: str, *, staff: bool, once_confirmed: bool = False) -> bool:
    """Whether cancelling a reservation in ``status`` (or letting it expire) may cost a fee: a
    confirmed one can, and so can one waiting for approval that was confirmed before
    (``once_confirmed``: an edit sent it back to the desk; it must not become free to drop by
    that). A request never approved costs nothing when withdrawn (as when it is rejected or
    expires), and desk staff cancelling (a closure, an emergency) waive the fee."""
    if staff:
        return False
    return status == "confirmed" or (status == "pending_approval" and once_confirmed)


@dataclass(frozen=True)
class TrailLine:
    """One line of a reservation's audit trail, as far as its seating is concerned: the action,
    the state it led to, and its details (an ``edit`` holds each changed field's from/to)."""

    action: str
    to_status: str
    details: Mapping[str, Any]


def confirmed_seating(trail: Sequence[TrailLine], seating: Seating) -> Seating | None:
    """The seating a reservation had when it was last confirmed, from its audit ``trail`` (oldest
    line first) and its ``seating`` now; ``None`` when it was never confirmed (a request that
    still waits for its first approval).

    Every line that leaves a reservation confirmed says so (``to_status``): the request
    confirmed at once, the approval, an edit that kept or restored it. The edits after the last
    such line are undone, newest first, from their ``from`` values."""
    last = max((n for n, line in enumerate(trail) if line.to_status == "confirmed"), default=None)
    if last is None:
        return None
    attendees, layout = seating.attendees, seating.layout
    for line in reversed(trail[last + 1 :]):
        if line.action != "edit":
            continue
        if "attendees" in line.details:
            attendees = line.details["attendees"]["from"]
        if "layout" in line.details:
            layout = line.details["layout"]["from"]
    return Seating(attendees, layout)


def check_transition(
    action: str, *, start: datetime, end: datetime, now: datetime, staff: bool, reason: str | None
) -> None:
    """The time and reason rules of ``action`` on a reservation from ``start`` to ``end``:
    a rejection says why; nothing is approved after its start; nothing is cancelled after its
    end, and only staff cancel after the start."""
    if action == "reject" and not (reason and reason.strip()):
        raise RuleViolation(_("Say why the reservation is rejected."), code="rule/reason-required")
    if action == "approve" and start <= now:
        raise RuleViolation(_("A reservation cannot be approved after its start."), code="rule/too-late")
    if action == "cancel":
        if end <= now:
            raise RuleViolation(_("A reservation that has ended cannot be cancelled."), code="rule/cancel-after-end")
        if start <= now and not staff:
            raise RuleViolation(
                _("A reservation that has started cannot be cancelled."), code="rule/cancel-after-start"
            )
