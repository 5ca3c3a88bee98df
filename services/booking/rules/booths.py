"""Exhibition booths inside a booking of a whole hall: which reservations can let booths, which
booth numbers exist. A let booth has no state of its own: it stands with the hall's reservation
(pending while the hall waits for approval, confirmed with it, gone with its cancellation or
rejection), so every answer about a booth shows the hall's state. Pure: no Flask, no session."""

from __future__ import annotations

from datetime import datetime

from services.booking.rules.lifecycle import HOLDING
from services.booking.rules.names import LAYOUT, STATUS_NAMES
from shared.errors import Conflict, RuleViolation
from shared.i18n import _, label

BOOTH_LAYOUT = "booths"
"""The layout of a hall set out in booths; a reservation in another layout (a cocktail) has none."""

LET, RELEASED = "booth_let", "booth_released"
"""The actions of a booth on the hall reservation's audit trail (their names: ``rules/names.py``)."""


def sets_out_booths(layout: str | None) -> bool:
    """Whether a reservation in ``layout`` can have booths: set out in booths, or in no layout."""
    return layout is None or layout == BOOTH_LAYOUT


def check_booths_open(
    *, space_booths: int | None, layout: str | None, status: str, end: datetime, now: datetime
) -> int:
    """The number of booths of a reservation whose booths may be let now; refuses a space without
    booths or a reservation in another layout (``rule/no-booths``, 422), a reservation that no
    longer holds its space (``rule/state-transition``, 409) and one that has ended
    (``rule/booths-after-end``, 422)."""
    if not space_booths:
        raise RuleViolation(_("This space has no exhibition booths."), code="rule/no-booths")
    if layout is not None and not sets_out_booths(layout):
        raise RuleViolation(
            _(
                "This reservation sets the hall out as {layout}, not in booths.",
                layout=label(LAYOUT, layout),
            ),
            code="rule/no-booths",
        )
    check_hall_holds(status, LET, end=end, now=now)
    return space_booths


def check_hall_holds(status: str, action: str, *, end: datetime, now: datetime) -> None:
    """Booths are let and released only while the hall's reservation holds the space
    (``rule/state-transition``, 409) and has not ended (``rule/booths-after-end``, 422: a hall
    still checked in after its end, before the worker completes it): afterwards they stand or
    fall with it."""
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
    if end <= now:
        raise RuleViolation(
            _("The hall's reservation has ended: its booths can no longer be let or released."),
            code="rule/booths-after-end",
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


def check_booths_fit(highest_let: int | None, booths: int | None) -> None:
    """A hall booking moves to a space only if every booth it has let is there too: its highest
    let booth at most the new space's ``booths`` (none: no booth may be let). Otherwise 409
    ``rule/booths-let``: the exhibitors were given those booths, so the organiser releases them
    first, knowingly, rather than the move dropping them or keeping booths that do not exist."""
    if highest_let is None or highest_let <= (booths or 0):
        return
    detail = (
        _(
            "Booth {booth} of this hall booking is let and the new space has no booths: release the booths first.",
            booth=highest_let,
        )
        if not booths
        else _(
            "Booth {booth} of this hall booking is let and the new space has only {booths} booths: "
            "release the booths first.",
            booth=highest_let,
            booths=booths,
        )
    )
    raise Conflict(detail, code="rule/booths-let", booth=highest_let, booths=booths or 0)


def check_layout_keeps_booths(let_count: int, layout: str | None) -> None:
    """A reservation with let booths stays set out in booths: a new layout without booths is 422
    ``rule/no-booths`` while any booth is let (they are released first)."""
    if let_count and layout is not None and not sets_out_booths(layout):
        raise RuleViolation(
            _(
                "This hall booking has booths let to exhibitors ({count}): release them before setting the hall out "
                "as {layout}.",
                count=let_count,
                layout=label(LAYOUT, layout),
            ),
            code="rule/no-booths",
            let_count=let_count,
        )
