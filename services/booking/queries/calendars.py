"""iCalendar (RFC 5545) feeds at secret URLs: per space (busy time only) and per organisation.

Each reservation is one VEVENT whose UID never changes; SEQUENCE grows with every change, and a
cancelled, rejected or released reservation stays in the feed with ``STATUS:CANCELLED``, so a
subscribed calendar updates or removes it instead of keeping a stale copy.

A space's feed shows when the space is busy and nothing that leads back to a reservation: its
events carry no title, organisation, description or creation time, and their UIDs are an HMAC
of the reservation id keyed by the feed's secret (so the organisation feed's UID of the same
reservation is never among them, and nobody can compute one from a reservation id).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import CalendarFeed, Reservation, Space, directory
from services.booking.rules import reason_text
from shared.clock import PARK_TZ, as_utc, utcnow
from shared.errors import NotFound
from shared.i18n import DEFAULT_LOCALE, Text, _, render

UID_DOMAIN = "parkhub.tianfu-lifescience.cn"
PAST = timedelta(days=60)
AHEAD = timedelta(days=400)
MAX_EVENTS = 5000
_STATUS = {
    "pending_approval": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "checked_in": "CONFIRMED",
    "completed": "CONFIRMED",
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
    "no_show": "CANCELLED",
}


def check_secret(session: Session, scope: str, owner_id: str, secret: str) -> CalendarFeed:
    """The feed at this address; a wrong or rotated secret is answered like an unknown feed: 404."""
    feed = session.get(CalendarFeed, (scope, owner_id)) if len(owner_id) <= 64 else None
    if feed is None or not hmac.compare_digest(feed.secret.encode(), secret.encode()):
        raise NotFound(_("There is no calendar feed at this address (the link may have been renewed)."))
    return feed


def busy_uid(feed_secret: str, reservation_id: str) -> str:
    """The UID of a reservation's busy block in a space feed: stable while the feed's secret
    is, and not computable (nor reversible) without it."""
    digest = hmac.new(feed_secret.encode(), reservation_id.encode(), hashlib.sha256).hexdigest()
    return f"busy-{digest[:40]}@{UID_DOMAIN}"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//ParkHub//Tianfu Life Science Park booking//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", str(PARK_TZ))
    calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    return calendar


def _event(uid: str, reservation: Reservation, *, start: datetime, end: datetime, summary: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("sequence", reservation.sequence)
    event.add("dtstart", as_utc(start))
    event.add("dtend", as_utc(end))
    event.add("summary", summary)
    space = reservation.space
    event.add("location", f"{space.name} · {space.name_zh} ({space.building})")
    status = _STATUS[reservation.status]
    event.add("status", status)
    event.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    return event


def _reservations(session: Session, *conditions: object, now: datetime) -> list[Reservation]:
    query = (
        select(Reservation)
        .where(*conditions, Reservation.starts_at >= now - PAST, Reservation.starts_at < now + AHEAD)  # type: ignore[arg-type]
        .order_by(Reservation.starts_at)
        .limit(MAX_EVENTS)
    )
    return list(session.execute(query).scalars())


def space_feed(session: Session, space_id: str, secret: str, locale: str = DEFAULT_LOCALE) -> bytes:
    """When one space is busy (its reservations' holds, buffers included), as "Busy" in
    ``locale``: no titles, organisations, descriptions, creation or change times, and UIDs that
    do not lead back to a reservation (:func:`busy_uid`). DTSTAMP is the time of this answer."""
    feed = check_secret(session, "space", space_id, secret)
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(_("There is no space {id}.", id=space_id))
    calendar = _calendar(f"{space.name} · {space.name_zh}")
    now = utcnow()
    stamp = now.replace(microsecond=0)
    busy = render(_("Busy"), locale)
    for reservation in _reservations(session, Reservation.space_id == space_id, now=now):
        event = _event(
            busy_uid(feed.secret, reservation.id),
            reservation,
            start=reservation.hold_start,
            end=reservation.hold_end,
            summary=busy,
        )
        event.add("dtstamp", stamp)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def organisation_feed(session: Session, org_id: str, secret: str, locale: str = DEFAULT_LOCALE) -> bytes:
    """Every reservation of one organisation, with its details; the words around them in ``locale``
    (the language the calendar client asked for, English by default)."""
    check_secret(session, "organisation", org_id, secret)
    name = session.execute(select(directory.c.name).where(directory.c.id == org_id)).scalar()
    calendar = _calendar("ParkHub · " + (name or render(_("Reservations"), locale)))
    for reservation in _reservations(session, Reservation.org_id == org_id, now=utcnow()):
        organiser = reservation.booked_by_name or reservation.booked_by
        lines: list[Text] = [
            _("{count} attendees", count=reservation.attendees),
            _("Booked by {name}", name=organiser),
        ]
        if reservation.visitors:
            lines.append(_("Visitors: {names}", names=", ".join(v.name for v in reservation.visitors)))
        reason = reason_text(reservation.reason)
        if reason:
            lines.append(_("Note from the desk: {note}", note=reason))
        space = reservation.space.name_zh if locale == "zh" and reservation.space.name_zh else reservation.space.name
        event = _event(
            f"{reservation.id}@{UID_DOMAIN}",
            reservation,
            start=reservation.starts_at,
            end=reservation.ends_at,
            summary=f"{reservation.title} · {space}",
        )
        event.add("dtstamp", as_utc(reservation.updated_at))
        event.add("created", as_utc(reservation.created_at))
        event.add("last-modified", as_utc(reservation.updated_at))
        event.add("description", "\n".join(render(line, locale) for line in lines))
        calendar.add_component(event)
    return bytes(calendar.to_ical())
