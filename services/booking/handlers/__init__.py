"""Booking's command handlers: ``handler(cmd, *, uow)``, one per command; none commits."""

from services.booking.handlers.booths import let_booth, release_booth
from services.booking.handlers.calendars import feed_secret, rotate_feed
from services.booking.handlers.holds import hold_room
from services.booking.handlers.jobs import complete_ended, expire_unapproved, release_no_shows
from services.booking.handlers.park_days import enter_year, load_official_year
from services.booking.handlers.reservations import (
    edit_reservation,
    replace_visitors,
    request_reservation,
    reschedule_reservation,
)
from services.booking.handlers.series import cancel_series, move_series, request_series
from services.booking.handlers.spaces import add_closure, remove_closure, save_space, set_quota
from services.booking.handlers.transitions import act_on_reservation

__all__ = [
    "act_on_reservation",
    "add_closure",
    "cancel_series",
    "complete_ended",
    "edit_reservation",
    "enter_year",
    "expire_unapproved",
    "feed_secret",
    "hold_room",
    "let_booth",
    "load_official_year",
    "move_series",
    "release_booth",
    "release_no_shows",
    "remove_closure",
    "replace_visitors",
    "request_reservation",
    "request_series",
    "reschedule_reservation",
    "rotate_feed",
    "save_space",
    "set_quota",
]
