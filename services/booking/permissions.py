"""Who may do what in booking: one table (:data:`RIGHTS`), the check of the handlers, queries and
views, the refusal texts and the "Who may do what" section of docs/BOOKING.md all come from it.

Pure: no Flask, no session. ``python -m services.booking.permissions`` prints the table as the
docs show it (``--locale zh`` in Chinese).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from shared.i18n import _
from shared.principal import Principal
from shared.rights import (
    DESK_STAFF,
    MEMBER,
    PARK_ADMIN,
    SIGNED_IN,
    TENANT_ADMIN,
    TENANT_ADMIN_OF_ORGANISATION,
    TENANT_MEMBER,
    Right,
    Rights,
    Who,
    person,
)

if TYPE_CHECKING:
    from services.booking.models import Reservation

_STAFF = (DESK_STAFF, PARK_ADMIN)
_BOOKERS = (TENANT_MEMBER, TENANT_ADMIN, *_STAFF)

ORGANISER = person("organiser", _("the organiser"), "booked_by", roles=(r for w in _BOOKERS for r in w.roles))
"""Who booked the reservation (its ``booked_by``), while a member of its organisation and in a
role that books: a partner, who never books, is refused by a view's guard before anything is read."""

ANYONE_WITH_THE_LINK = Who("anyone_with_the_link", _("anyone with the link"))
"""Whoever holds a calendar feed's secret link, signed in or not: the link is the key (calendar
clients subscribe without a token). Nobody is refused by who they are, only by a wrong link."""

_SEERS = (MEMBER, *_STAFF)
_MANAGERS = (ORGANISER, TENANT_ADMIN_OF_ORGANISATION, *_STAFF)

RIGHTS = Rights(
    # Reservations. The subject of a relation is the reservation (its org_id and booked_by).
    Right("book", _("book a space"), _BOOKERS, note=_("partners do not book")),
    Right("book_for_another_organisation", _("book for another organisation"), _STAFF),
    Right("read", _("read a reservation, its history or its series"), _SEERS, hidden=True),
    Right(
        "list_own",
        _("list their own or their organisation's reservations"),
        (SIGNED_IN,),
        note=_("scope=mine (a tenant's default) or scope=organisation"),
    ),
    Right(
        "list_all",
        _("list every organisation's reservations"),
        _STAFF,
        note=_("scope=all, staff's default; filter organisation_id"),
    ),
    Right(
        "search",
        _("search reservations by organisation, title or booker"),
        (SIGNED_IN,),
        note=_("q= on the list, inside what the caller may list (list_own, list_all)"),
    ),
    Right("approve", _("approve a reservation"), _STAFF),
    Right("reject", _("reject a reservation"), _STAFF),
    Right("cancel", _("cancel a reservation"), _MANAGERS),
    Right("check_in", _("check in a reservation"), _SEERS, hidden=True),
    Right("complete", _("complete a reservation"), _SEERS, hidden=True),
    Right("reschedule", _("move a reservation"), _MANAGERS),
    Right("edit", _("edit a reservation's details"), _MANAGERS),
    Right("replace_visitors", _("change a reservation's visitors"), _MANAGERS),
    Right("booths", _("see and let the booths of a hall booking"), _MANAGERS),
    Right(
        "export_reservations",
        _("export reservations"),
        (TENANT_ADMIN_OF_ORGANISATION, *_STAFF),
        note=_("staff: every organisation's; a tenant admin: their organisation's"),
    ),
    # Series: the subject of cancel and move is each occurrence.
    Right("create_series", _("book a recurring series"), _BOOKERS),
    Right("cancel_series", _("cancel a recurring series"), _MANAGERS),
    Right("move_series", _("move a recurring series"), _MANAGERS),
    # Calendar feeds: the subject of an organisation's feed is the organisation's id.
    Right("read_space_feed", _("get a space's calendar feed"), (SIGNED_IN,), note=_("busy time only")),
    Right("rotate_space_feed", _("renew a space's calendar feed link"), (PARK_ADMIN,)),
    Right("read_organisation_feed", _("get an organisation's calendar feed"), _SEERS),
    Right(
        "rotate_organisation_feed",
        _("renew an organisation's calendar feed link"),
        (TENANT_ADMIN_OF_ORGANISATION, *_STAFF),
    ),
    Right(
        "read_feed_document",
        _("read a calendar feed at its secret link"),
        (ANYONE_WITH_THE_LINK,),
        note=_("no sign-in; a wrong or renewed link is told it does not exist (404)"),
    ),
    # Quotas: the subject of usage is the organisation's id.
    Right("read_quotas", _("read the quota rules and their history"), _STAFF),
    Right("set_quota", _("set a quota rule"), (PARK_ADMIN,)),
    Right("read_quota_usage", _("read an organisation's quota usage"), _SEERS),
    # Spaces and the desk.
    Right("read_spaces", _("list spaces, their timelines and closures"), (SIGNED_IN,)),
    Right(
        "search_availability",
        _("search the spaces that are free"),
        (SIGNED_IN,),
        note=_("needs_approval answers for the caller"),
    ),
    Right("read_inactive_spaces", _("see a space that is not open for booking"), _STAFF, hidden=True),
    Right("manage_spaces", _("create or change a space, add or lift a closure"), (PARK_ADMIN,)),
    Right("read_space_history", _("read a space's history"), _STAFF),
    Right("read_park_calendar", _("read the park's calendar of holidays and make-up days"), (SIGNED_IN,)),
    Right(
        "manage_park_calendar",
        _("load the park's calendar from the official source or enter a year by hand"),
        (PARK_ADMIN,),
    ),
    Right("read_park_calendar_history", _("read the park calendar's history"), _STAFF),
    Right("day_board", _("read the day board"), _STAFF),
    Right("gate_list", _("read the gate list"), _STAFF),
    Right("utilisation_report", _("read the utilisation report"), (PARK_ADMIN,)),
    # Event bookings: the financing rounds a roadshow presents (finance's accepted offers).
    Right(
        "read_financing_rounds",
        _("list the financing rounds a roadshow may present"),
        _BOOKERS,
        note=_("a tenant: their organisation's; staff: every organisation's"),
    ),
)
"""Every action of booking and who may do it (docs/BOOKING.md, "Who may do what", renders it)."""


def can_see(actor: Principal, reservation: object) -> bool:
    """The ``read`` right: a member of the reservation's (or series') organisation, or staff."""
    return RIGHTS.allows(actor, "read", reservation)


def can_manage(actor: Principal, reservation: Reservation) -> bool:
    """The ``reschedule`` right (cancel, edit and visitors name the same people): the organiser,
    a tenant admin of the organisation, or staff."""
    return RIGHTS.allows(actor, "reschedule", reservation)


# Rules that depend on who acts. They are not rights: they change what happens to a booking, not
# whether one may ask; the table cannot refuse anybody with them, so they are named here, once.


def confirmed_at_once(actor: Principal) -> bool:
    """Desk staff's and park admin's bookings, moves and edits need no approval: they are the
    approvers, so what they book is confirmed at once (and the availability search tells them so)."""
    return actor.is_staff


def desk_leeway(actor: Principal) -> bool:
    """The desk's leeway in the booking rules, for desk staff and park admin: walk-ins inside the
    lead time, moving or cancelling a reservation that has begun, and cancelling without a fee."""
    return actor.is_staff


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print booking's rights table as docs/BOOKING.md shows it.")
    parser.add_argument("--locale", default="en", choices=("en", "zh"))
    print(RIGHTS.markdown(parser.parse_args(argv).locale), end="")


if __name__ == "__main__":
    main()
