"""Exhibition booths inside a booking of a whole hall: which reservations can let booths, which
booth numbers exist. A let booth has no state of its own: it stands with the hall's reservation
(pending while the hall waits for approval, confirmed with it, gone with its cancellation or
rejection), so every answer about a booth shows the hall's state. Pure: no Flask, no session."""

from __future__ import annotations

from services.booking.rules.lifecycle import HOLDING
from services.booking.rules.names import LAYOUT, STATUS_NAMES
from shared.errors import Conflict, RuleViolation
from shared.i18n import _, label

BOOTH_LAYOUT = "booths"
"""The layout of a hall set out in booths; a reservation in another layout (a cocktail) has none."""

LET, RELEASED = "booth_let", "booth_released"
"""The actions of a booth on the hall reservation's audit trail (their names: ``rules/names.py``)."""


def check_booths_open(*, space_booths: int | None, layout: str | None, status: str) -> int:
    """The number of booths of a reservation whose booths may be let now; refuses a space without
    booths or a reservation in another layout (``rule/no-booths``, 422) and a reservation that no
    longer holds its space (``rule/state-transition``, 409)."""
    if not space_booths:
        raise RuleViolation(_("This space has no exhibition booths."), code="rule/no-booths")
    if layout is not None and layout != BOOTH_LAYOUT:
        raise RuleViolation(
            _(
                "This reservation sets the hall out as {layout}, not in booths.",
                layout=label(LAYOUT, layout),
            ),
            code="rule/no-booths",
        )
    check_hall_holds(status, LET)
    return space_booths


def check_hall_holds(status: str, action: str) -> None:
    """Booths are let and released only while the hall's reservation holds the space
    (``rule/state-transition``, 409): afterwards they stand or fall with it."""
    if status not in HOLDING:
        raise Conflict(
            _(
                "Booths can be let or released only while the hall's reservation holds it; this one is {status}.",
                status=STATUS_NAMES.get(status, status),
            ),
            code="rule/state-transition",
            reservation_status=status,
            action=action,
        )


def check_booth_number(booth: int, booths: int) -> None:
    """Booths are numbered 1 to ``booths`` (``rule/booth-number``, 422)."""
    if not 1 <= booth <= booths:
        raise RuleViolation(
            _("This hall's booths are numbered 1 to {booths}; there is no booth {booth}.", booths=booths, booth=booth),
            code="rule/booth-number",
            booths=booths,
        )


def booth_taken(booth: int) -> Conflict:
    """The answer to letting a booth that is already let (``rule/booth-taken``, 409)."""
    return Conflict(
        _("Booth {booth} is already let; release it first.", booth=booth), code="rule/booth-taken", booth=booth
    )
