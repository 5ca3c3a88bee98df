"""The booths of a hall booking: the booth map (every booth, free or let) and one let booth.

Who may see them is the ``booths`` right (the organiser, a tenant admin of the organisation,
staff); another organisation's reservation is not found. Every let booth shows the hall's
state: it has none of its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.booking.models import BoothBooking, Reservation
from services.booking.permissions import RIGHTS, can_see
from services.booking.queries.views import space_summary
from services.booking.rules.booths import sets_out_booths
from shared.clock import utcnow
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal


def booth_view(row: BoothBooking, reservation: Reservation) -> dict[str, Any]:
    """One let booth, in the hall's state (``status``: the hall reservation's)."""
    return {
        "id": row.id,
        "reservation_id": reservation.id,
        "booth": row.booth,
        "let": True,
        "exhibitor": row.exhibitor,
        "exhibitor_org_id": row.exhibitor_org_id,
        "contact": row.contact,
        "note": row.note,
        "status": reservation.status,
        "created_by": row.created_by,
        "created_at": row.created_at,
    }


def hall_reservation(
    session: Session, actor: Principal, reservation_id: str, *, for_update: bool = False
) -> Reservation:
    """The reservation whose booths ``actor`` asks about: not found for another organisation,
    refused (403, naming who may) for a member who is neither its organiser nor a tenant admin.

    ``for_update``: read it ``FOR UPDATE`` (PostgreSQL; SQLite serialises writers anyway), so that
    a booth let or released waits for a change of the hall being committed (a cancellation, a
    move, a new layout) and then judges the hall as it is, and two writes of one hall's booths
    take turns."""
    reservation = session.get(Reservation, reservation_id, with_for_update=for_update or None)
    if reservation is None or not can_see(actor, reservation):
        raise NotFound(_("There is no reservation {id}.", id=reservation_id))
    RIGHTS.require(actor, "booths", reservation)
    return reservation


def lock_hall(session: Session, reservation_id: str) -> None:
    """Lock the hall reservation's row until the transaction ends (PostgreSQL; a no-op on SQLite,
    where writers are serialised): a change of the hall that depends on its booths (a move, a
    new layout) reads them after any booth being let or released is committed, and a booth
    write waits for the change in turn (:func:`hall_reservation` ``for_update``)."""
    session.execute(select(Reservation.id).where(Reservation.id == reservation_id).with_for_update())


def booths_let(session: Session, reservation_id: str) -> tuple[int, int | None]:
    """How many booths of the reservation are let, and the highest let booth (``None``: none)."""
    query = select(func.count(), func.max(BoothBooking.booth)).where(BoothBooking.reservation_id == reservation_id)
    count, highest = session.execute(query).one()
    return int(count), highest


def let_booths(session: Session, reservation_id: str) -> list[BoothBooking]:
    query = select(BoothBooking).where(BoothBooking.reservation_id == reservation_id).order_by(BoothBooking.booth)
    return list(session.execute(query).scalars())


def booth_map(session: Session, actor: Principal, reservation_id: str) -> dict[str, Any]:
    """Every booth of the hall booking, 1 to the space's booths, free or let (a booth let before
    park admin lowered the count is listed too); free booths can be let while the hall's
    reservation holds the space, has not ended and is set out in booths."""
    reservation = hall_reservation(session, actor, reservation_id)
    space = reservation.space
    let = {row.booth: row for row in let_booths(session, reservation.id)}
    count = space.booths or 0
    numbers = sorted(set(range(1, count + 1)) | set(let))
    items = [
        booth_view(let[n], reservation) if n in let else {"booth": n, "let": False, "status": None} for n in numbers
    ]
    lettable = (
        bool(count) and reservation.holding and sets_out_booths(reservation.layout) and reservation.end_utc > utcnow()
    )
    return {
        "reservation_id": reservation.id,
        "space": space_summary(space),
        "status": reservation.status,
        "booths": count,
        "let_count": len(let),
        "free_count": count - len([n for n in let if n <= count]),
        "can_let": lettable,
        "items": items,
    }


def get_booth(session: Session, actor: Principal, reservation_id: str, booth: int) -> dict[str, Any]:
    """One let booth; a free one is not found."""
    reservation = hall_reservation(session, actor, reservation_id)
    row = session.execute(
        select(BoothBooking).where(BoothBooking.reservation_id == reservation.id, BoothBooking.booth == booth)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(_("Booth {booth} of this reservation is not let.", booth=booth))
    return booth_view(row, reservation)
