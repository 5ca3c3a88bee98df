"""Commands on single reservations: request, reschedule, replace visitors (the state
transitions are in :mod:`services.booking.handlers.transitions`). Each runs inside the
caller's unit of work and does not commit; each returns the reservation as its caller sees it
(:func:`services.booking.handlers.common.shown`), built from what it wrote.

Every change appends to the audit trail, moves the quota counter when the minutes change, and
publishes ``booking.reservation.<verb>``. Who may book at all is the view's guard (the ``book``
row of :data:`services.booking.permissions.RIGHTS`); the handlers check the rows that depend on
the reservation (``RIGHTS.require``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from services.booking.commands import (
    EditReservation,
    ReplaceVisitors,
    RequestReservation,
    RescheduleReservation,
    VisitorDetails,
)
from services.booking.handlers import quota
from services.booking.handlers.common import (
    booking_organisation,
    check_free,
    closures_meeting,
    flush,
    load_reservation,
    load_space,
    new_id,
    policy_for,
    pricing,
    publish,
    record,
    shown,
)
from services.booking.handlers.rounds import round_stands
from services.booking.handlers.transitions import confirmed_seating_of
from services.booking.models import Reservation, Space, Visitor
from services.booking.permissions import RIGHTS, confirmed_at_once, desk_leeway
from services.booking.queries.booths import booths_let, lock_hall
from services.booking.rules import (
    Interval,
    SpacePolicy,
    check_request,
    needs_approval,
    next_status,
)
from services.booking.rules.booths import check_booths_fit, check_layout_keeps_booths, sets_out_booths
from services.booking.rules.names import STATUS_NAMES
from services.booking.rules.plates import unchecked_plate
from services.booking.rules.policy import Seating, check_seating, seating_needs_approval
from services.booking.rules.purposes import check_purpose, check_round, event_needs_approval
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, RuleViolation, check_version
from shared.i18n import _
from shared.principal import Principal


def visitor_rows(details: Iterable[VisitorDetails]) -> list[Visitor]:
    """The visitors to store. A plate the API checked is kept as it spelled it, with its kind; a
    plate that came unchecked (a room hold over the bus) is stored in its mainland spelling when
    it is one, else as given with kind ``other``."""
    rows: list[Visitor] = []
    for visitor in details:
        plate, kind = visitor.car_plate or None, visitor.plate_kind
        if plate is not None and kind is None:
            checked = unchecked_plate(plate)
            plate, kind = checked.text, checked.kind
        rows.append(
            Visitor(name=visitor.name, company=visitor.company, car_plate=plate, plate_kind=kind if plate else None)
        )
    return rows


def place(
    uow: UnitOfWork,
    *,
    actor: Principal,
    space: Space,
    usage: Interval,
    org_id: str,
    org_kind: str,
    title: str,
    attendees: int,
    layout: str | None = None,
    note: str | None = None,
    visitors: Sequence[VisitorDetails] = (),
    series_id: str | None = None,
    occurrence: int | None = None,
    request_id: str | None = None,
    requester: str | None = None,
    purpose: str | None = None,
    purpose_ref: str | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Check every rule, take the slot, price it and publish ``requested`` (when it waits for
    approval) or ``confirmed``. Raises the broken rule; ``rule/no-double-booking`` is a 409.
    An event booking (``purpose``, checked by the caller: :func:`check_event_booking`) always
    waits for the desk unless staff book it."""
    now = now or utcnow()
    policy = policy_for(uow, space, usage)
    hold = policy.hold_of(usage)
    check_request(
        policy,
        usage,
        attendees=attendees,
        layout=layout,
        now=now,
        closures=closures_meeting(uow, space.id, hold),
        staff=desk_leeway(actor),
    )
    check_free(uow, space.id, hold)
    price = pricing(uow, space, org_id, org_kind, usage)
    waits = (needs_approval(policy, attendees) or event_needs_approval(purpose)) and not confirmed_at_once(actor)
    reservation = Reservation(
        id=new_id(),
        space=space,
        org_id=org_id,
        org_kind=org_kind,
        booked_by=actor.subject,
        booked_by_name=actor.name or None,
        title=title,
        attendees=attendees,
        layout=layout,
        note=note,
        status="pending_approval" if waits else "confirmed",
        starts_at=usage.start,
        ends_at=usage.end,
        hold_start=hold.start,
        hold_end=hold.end,
        price=price.price,
        currency="CNY",
        quota_minutes=price.quota_minutes,
        billable_minutes=price.billable_minutes,
        series_id=series_id,
        occurrence=occurrence,
        request_id=request_id,
        requester=requester,
        purpose=purpose,
        purpose_ref=purpose_ref,
        correlation_id=uow.context.get("correlationid"),
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    reservation.visitors = visitor_rows(visitors)
    uow.session.add(reservation)
    flush(uow)  # a lost race is a 409 here, before any counter is touched

    def announce() -> None:  # once quota.settle made the price final
        publish(uow, reservation, "requested" if waits else "confirmed")
        record(
            uow,
            reservation,
            action="request",
            from_status=None,
            actor=actor,
            details={"start": usage.start.isoformat(), "end": usage.end.isoformat(), "price": str(reservation.price)},
        )

    quota.take(uow, reservation, announce)
    return reservation


def check_event_booking(
    uow: UnitOfWork, org_id: str, space: Space, purpose: str | None, purpose_ref: str | None
) -> None:
    """A roadshow or product launch only in an event space; a roadshow presents a financing round
    of the booking organisation that still stands (``rule/roadshow-without-round``, 422)."""
    check_purpose(purpose, purpose_ref, space.kind)
    if purpose == "roadshow" and purpose_ref:
        check_round(purpose_ref, round_stands(uow, org_id, purpose_ref))


def request_reservation(cmd: RequestReservation, *, uow: UnitOfWork) -> dict[str, Any]:
    """Book a space; returns the new reservation as the caller sees it. Publishes ``requested``
    or ``confirmed``."""
    org_id, org_kind = booking_organisation(uow, cmd.actor, cmd.org_id)
    space = load_space(uow, cmd.space_id)
    check_event_booking(uow, org_id, space, cmd.purpose, cmd.purpose_ref)
    reservation = place(
        uow,
        actor=cmd.actor,
        space=space,
        usage=Interval(as_utc(cmd.start), as_utc(cmd.end)),
        org_id=org_id,
        org_kind=org_kind,
        title=cmd.title,
        attendees=cmd.attendees,
        layout=cmd.layout,
        note=cmd.note,
        visitors=cmd.visitors,
        request_id=cmd.request_id,
        requester=cmd.requester,
        purpose=cmd.purpose,
        purpose_ref=cmd.purpose_ref,
    )
    quota.settle(uow)
    return shown(uow, cmd.actor, reservation)


def move(
    uow: UnitOfWork,
    reservation: Reservation,
    *,
    actor: Principal,
    usage: Interval,
    space: Space,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Move ``reservation`` to ``usage`` in ``space``: every rule again, price and quota again.
    The state stays what it was (a pending reservation still waits for desk approval). A tenant
    cannot move a confirmed reservation to a place that needs approval
    (``rule/reschedule-needs-approval``): they book that place, and cancel this one once it is
    approved. A hall booking with let booths moves to another space only if that space has every
    let booth (``rule/booths-let``, 409: release them first). Publishes ``rescheduled``."""
    now = now or utcnow()
    target = next_status(reservation.status, "reschedule")
    if reservation.start_utc <= now and not desk_leeway(actor):
        raise RuleViolation(_("A reservation that has started cannot be moved."), code="rule/reschedule-after-start")
    policy = policy_for(uow, space, usage)
    hold = policy.hold_of(usage)
    check_request(
        policy,
        usage,
        attendees=reservation.attendees,
        layout=reservation.layout,
        now=now,
        closures=closures_meeting(uow, space.id, hold),
        staff=desk_leeway(actor),
    )
    check_purpose(reservation.purpose, reservation.purpose_ref, space.kind)  # an event stays in an event space
    if (
        reservation.status == "confirmed"
        and (needs_approval(policy, reservation.attendees) or event_needs_approval(reservation.purpose))
        and not confirmed_at_once(actor)
    ):
        raise RuleViolation(
            _(
                "The new time or space needs desk approval: book it as a new reservation, and cancel this one "
                "once that is approved."
            ),
            code="rule/reschedule-needs-approval",
        )
    if space.id != reservation.space_id:
        # The let booths go where the hall booking goes: only to a space that has them all.
        lock_hall(uow.session, reservation.id)  # a booth being let is committed before we count
        check_booths_fit(booths_let(uow.session, reservation.id)[1], space.booths)
    check_free(uow, space.id, hold, exclude=[reservation.id])
    spent = quota.spending(reservation)  # given back below, and priced again, maybe in another month or kind
    price = pricing(uow, space, reservation.org_id, reservation.org_kind, usage, returning=spent)
    previous: dict[str, Any] = {
        "previous_starts_at": reservation.start_utc,
        "previous_ends_at": reservation.end_utc,
        "previous_space_id": reservation.space_id,
    }
    from_status = reservation.status
    reservation.space = space
    reservation.starts_at, reservation.ends_at = usage.start, usage.end
    reservation.hold_start, reservation.hold_end = hold.start, hold.end
    reservation.price = price.price
    reservation.quota_minutes, reservation.billable_minutes = price.quota_minutes, price.billable_minutes
    reservation.status = target
    reservation.sequence += 1
    reservation.updated_at = now
    flush(uow)  # a lost race is a 409 here, before any counter is touched

    def announce() -> None:  # once quota.settle made the price final
        publish(uow, reservation, "rescheduled", **previous)
        record(
            uow,
            reservation,
            action="reschedule",
            from_status=from_status,
            actor=actor,
            reason=reason,
            details={
                "from": {
                    "start": previous["previous_starts_at"].isoformat(),
                    "end": previous["previous_ends_at"].isoformat(),
                    "space_id": previous["previous_space_id"],
                },
                "to": {"start": usage.start.isoformat(), "end": usage.end.isoformat(), "space_id": space.id},
            },
        )

    quota.give_back(uow, spent)
    quota.take(uow, reservation, announce)


def reschedule_reservation(cmd: RescheduleReservation, *, uow: UnitOfWork) -> dict[str, Any]:
    reservation = load_reservation(uow, cmd.actor, cmd.reservation_id)
    RIGHTS.require(cmd.actor, "reschedule", reservation)
    check_version(reservation.version, cmd.expected_versions)
    space = load_space(uow, cmd.space_id) if cmd.space_id else reservation.space
    move(
        uow,
        reservation,
        actor=cmd.actor,
        usage=Interval(as_utc(cmd.start), as_utc(cmd.end)),
        space=space,
        reason=cmd.reason,
    )
    quota.settle(uow)
    return shown(uow, cmd.actor, reservation)


def replace_visitors(cmd: ReplaceVisitors, *, uow: UnitOfWork) -> dict[str, Any]:
    """Replace the visitor list of a reservation that has not ended. Publishes
    ``booking.reservation.visitors_changed``; the calendar SEQUENCE moves on."""
    reservation = load_reservation(uow, cmd.actor, cmd.reservation_id)
    RIGHTS.require(cmd.actor, "replace_visitors", reservation)
    check_version(reservation.version, cmd.expected_versions)
    if reservation.status not in ("pending_approval", "confirmed", "checked_in"):
        raise RuleViolation(_("Visitors can only be changed on a current reservation."), code="rule/visitors-closed")
    before = len(reservation.visitors)
    reservation.visitors = visitor_rows(cmd.visitors)
    reservation.sequence += 1  # subscribed calendars show the new visitor list
    reservation.updated_at = utcnow()
    publish(uow, reservation, "visitors_changed")
    record(
        uow,
        reservation,
        action="visitors",
        from_status=reservation.status,
        actor=cmd.actor,
        details={"from": before, "to": len(cmd.visitors)},
    )
    return shown(uow, cmd.actor, reservation)


EDITABLE = ("pending_approval", "confirmed", "checked_in")
"""The states whose details may be edited: the current reservations (those that hold the space)."""


def _visitor_fields(visitors: Iterable[Visitor]) -> list[dict[str, Any]]:
    return [
        {"name": v.name, "company": v.company, "car_plate": v.car_plate, "plate_kind": v.plate_kind} for v in visitors
    ]


def _status_for_seating(
    uow: UnitOfWork, reservation: Reservation, policy: SpacePolicy, seating: Seating, *, actor: Principal, now: datetime
) -> str:
    """The state ``reservation`` is in once seated as ``seating``.

    A tenant's change from the seating the desk confirmed that needs the desk again
    (:func:`services.booking.rules.policy.seating_needs_approval`) sends a confirmed reservation
    back to ``pending_approval``, keeping its slot, only while cancelling it would still be free,
    so the desk has time to decide; past that, or once it has begun, the desk makes the change
    (``rule/edit-needs-approval``). Withdrawn or expired meanwhile, it is charged as the confirmed
    booking it was (:func:`services.booking.handlers.transitions.transition`). A reservation
    waiting for approval of such a change is confirmed again when the change is undone, by
    anyone, before the desk acts; a request never approved stays pending whatever is edited (only
    an approval approves). Staff are the approvers: their changes never need approval."""
    status = reservation.status
    if status == "pending_approval":
        confirmed = confirmed_seating_of(uow, reservation)
        undone = confirmed is not None and not seating_needs_approval(policy, confirmed, seating)
        return "confirmed" if undone else status
    current = Seating(reservation.attendees, reservation.layout)
    if confirmed_at_once(actor) or not seating_needs_approval(policy, current, seating):
        return status
    free_until = reservation.start_utc - timedelta(hours=policy.free_cancel_hours)
    if status != "confirmed" or now > free_until:
        raise RuleViolation(
            _(
                "This change of seating needs desk approval, and this reservation is too close to its start to "
                "wait for one (it is past its free cancellation time, or has begun): ask the desk to make the change."
            ),
            code="rule/edit-needs-approval",
        )
    return "pending_approval"


def edit_reservation(cmd: EditReservation, *, uow: UnitOfWork) -> dict[str, Any]:
    """Change the title, attendees, layout, note or visitors of a current reservation (the
    organiser, a tenant admin of the organisation, staff; ``If-Match``).

    Only what differs is changed; a patch that changes nothing writes nothing. New seating
    (attendees, layout) is judged as a booking is (``rule/capacity``, ``rule/layout``); a layout
    without booths while booths are let is ``rule/no-booths``. How the state follows the new
    seating (back to approval, confirmed again): :func:`_status_for_seating`. Time, space and
    price stay. The audit trail records each change from/to, the calendar ``SEQUENCE`` moves on,
    and ``booking.reservation.changed`` is published (and ``visitors_changed`` when the visitors
    changed)."""
    now = utcnow()
    reservation = load_reservation(uow, cmd.actor, cmd.reservation_id)
    RIGHTS.require(cmd.actor, "edit", reservation)
    check_version(reservation.version, cmd.expected_versions)
    if reservation.status not in EDITABLE:
        raise Conflict(
            _(
                "Only a current reservation (pending approval, confirmed or checked in) can be edited; "
                "this one is {status}.",
                status=STATUS_NAMES.get(reservation.status, reservation.status),
            ),
            code="rule/state-transition",
            reservation_status=reservation.status,
            action="edit",
        )
    if reservation.end_utc <= now:
        raise RuleViolation(_("A reservation that has ended cannot be edited."), code="rule/edit-after-end")

    changes: dict[str, dict[str, Any]] = {}
    for name in ("title", "attendees", "layout", "note"):
        if name in cmd.changes and cmd.changes[name] != getattr(reservation, name):
            changes[name] = {"from": getattr(reservation, name), "to": cmd.changes[name]}
    visitors = visitor_rows(cmd.changes.get("visitors") or ()) if "visitors" in cmd.changes else None
    if visitors is not None and _visitor_fields(visitors) != _visitor_fields(reservation.visitors):
        changes["visitors"] = {"from": _visitor_fields(reservation.visitors), "to": _visitor_fields(visitors)}
    if not changes:
        return shown(uow, cmd.actor, reservation)

    seating = Seating(
        cmd.changes.get("attendees", reservation.attendees), cmd.changes.get("layout", reservation.layout)
    )
    from_status = reservation.status
    if "attendees" in changes or "layout" in changes:
        policy = reservation.space.policy()
        check_seating(policy, attendees=seating.attendees, layout=seating.layout)
        if "layout" in changes and not sets_out_booths(seating.layout):
            lock_hall(uow.session, reservation.id)  # a booth being let is committed before we count
            check_layout_keeps_booths(booths_let(uow.session, reservation.id)[0], seating.layout)
        reservation.status = _status_for_seating(uow, reservation, policy, seating, actor=cmd.actor, now=now)

    for name in ("title", "attendees", "layout", "note"):
        if name in changes:
            setattr(reservation, name, changes[name]["to"])
    if visitors is not None and "visitors" in changes:
        reservation.visitors = visitors
    reservation.sequence += 1  # subscribed calendars show the new details
    reservation.updated_at = now
    moved = reservation.status != from_status
    publish(uow, reservation, "changed", changes=list(changes), previous_status=from_status if moved else None)
    if "visitors" in changes:
        publish(uow, reservation, "visitors_changed")
    record(uow, reservation, action="edit", from_status=from_status, actor=cmd.actor, details=changes)
    return shown(uow, cmd.actor, reservation)
