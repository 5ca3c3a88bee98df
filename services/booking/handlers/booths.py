"""Letting and releasing the booths of a hall booking: the organiser (or a tenant admin of the
organisation, or staff) lets standard booths of the exhibition hall to exhibitors while the
hall's reservation holds the space. A booth has no state of its own: it waits for the hall's
approval with it and falls with its cancellation or rejection.

Each change appends a line to the hall reservation's audit trail (``booth_let``,
``booth_released``) and publishes ``booking.reservation.booths_changed``; it does not change the
reservation itself (its version, its calendar sequence): letting a booth never makes the desk's
``If-Match`` on the hall stale. Nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from services.booking.commands import LetBooth, ReleaseBooth
from services.booking.handlers.common import known_organisation, new_id, record, utc_text
from services.booking.models import BoothBooking, Reservation
from services.booking.queries.booths import booth_view, hall_reservation
from services.booking.rules.booths import (
    LET,
    RELEASED,
    booth_taken,
    check_booth_number,
    check_booths_open,
    check_hall_holds,
)
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.i18n import _


def let_booth(cmd: LetBooth, *, uow: UnitOfWork) -> dict[str, Any]:
    """Let booth ``cmd.booth`` of the hall booking to an exhibitor; returns the booth. A booth let
    already is a 409 ``rule/booth-taken``, also when two requests race for it (the unique
    constraint decides, on SQLite and PostgreSQL)."""
    reservation = hall_reservation(uow.session, cmd.actor, cmd.reservation_id, for_update=True)
    booths = check_booths_open(
        space_booths=reservation.space.booths,
        layout=reservation.layout,
        status=reservation.status,
        end=reservation.end_utc,
        now=utcnow(),
    )
    check_booth_number(cmd.booth, booths)
    if cmd.exhibitor_org_id is not None:
        known_organisation(uow, cmd.exhibitor_org_id)
    taken = select(BoothBooking.id).where(
        BoothBooking.reservation_id == reservation.id, BoothBooking.booth == cmd.booth
    )
    if uow.session.execute(taken).first() is not None:
        raise booth_taken(cmd.booth)
    row = BoothBooking(
        id=new_id(),
        reservation_id=reservation.id,
        booth=cmd.booth,
        exhibitor=cmd.exhibitor,
        exhibitor_org_id=cmd.exhibitor_org_id,
        contact=cmd.contact,
        note=cmd.note,
        created_by=cmd.actor.subject,
        created_at=utcnow(),
    )
    uow.session.add(row)
    try:
        uow.session.flush()
    except IntegrityError:
        # A concurrent request let the booth between our look and our insert: the unique
        # constraint (reservation_id, booth) refused the second row, on either database.
        raise booth_taken(cmd.booth) from None
    details = {"booth": row.booth, "exhibitor": row.exhibitor, "exhibitor_org_id": row.exhibitor_org_id}
    record(uow, reservation, action=LET, from_status=reservation.status, actor=cmd.actor, details=details)
    _publish(uow, reservation, "let", details)
    return booth_view(row, reservation)


def release_booth(cmd: ReleaseBooth, *, uow: UnitOfWork) -> None:
    """Release a let booth of the hall booking (it is free again); a booth not let is not found,
    also when another request released it a moment before."""
    reservation = hall_reservation(uow.session, cmd.actor, cmd.reservation_id, for_update=True)
    check_hall_holds(reservation.status, RELEASED, end=reservation.end_utc, now=utcnow())
    # One statement that deletes and answers what it deleted: a release racing another (or any
    # delete of the row) finds nothing to delete once that one commits, and says so, instead of
    # tripping over the version of a row that is gone.
    released = uow.session.execute(
        delete(BoothBooking)
        .where(BoothBooking.reservation_id == reservation.id, BoothBooking.booth == cmd.booth)
        .returning(BoothBooking.booth, BoothBooking.exhibitor, BoothBooking.exhibitor_org_id)
        .execution_options(synchronize_session=False)
    ).first()
    if released is None:
        raise NotFound(_("Booth {booth} of this reservation is not let.", booth=cmd.booth))
    details = released._asdict()
    record(uow, reservation, action=RELEASED, from_status=reservation.status, actor=cmd.actor, details=details)
    _publish(uow, reservation, "released", details)


def _publish(uow: UnitOfWork, reservation: Reservation, change: str, booth: dict[str, Any]) -> None:
    """``booking.reservation.booths_changed``: one booth let or released (``booth``: its
    ``booth``, ``exhibitor`` and ``exhibitor_org_id``), with the hall's state and how many booths
    are let now."""
    let_now = uow.session.execute(
        select(func.count()).select_from(BoothBooking).where(BoothBooking.reservation_id == reservation.id)
    ).scalar_one()
    uow.publish(
        "booking.reservation.booths_changed",
        {
            "reservation_id": reservation.id,
            "status": reservation.status,
            "space_id": reservation.space_id,
            "org_id": reservation.org_id,
            "starts_at": utc_text(reservation.starts_at),
            "ends_at": utc_text(reservation.ends_at),
            "change": change,
            "booth": booth["booth"],
            "exhibitor": booth["exhibitor"],
            "exhibitor_org_id": booth["exhibitor_org_id"],
            "booths": reservation.space.booths,
            "booths_let": let_now,
        },
        subject=f"reservations/{reservation.id}",
        orgid=reservation.org_id,
    )
