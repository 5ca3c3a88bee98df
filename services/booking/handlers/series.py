"""Recurring reservations: book every occurrence of an RRULE, cancel or move the rest of a series.

The caller chooses ``all_or_nothing`` (one refused occurrence refuses the whole request, 409
with every occurrence's outcome) or ``skip_conflicts`` (the refused ones are left out and
listed). Each occurrence is tried in its own savepoint, so a refusal undoes only itself.

A refused request writes nothing, so its 409 never names a reservation it made: the occurrences
that passed are listed as what they *would* have become (``would_book``, ``would_move``), and
``blocked`` names the occurrences that stopped the request, with the rule and its text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.booking.commands import (
    CancelSeries,
    MoveSeries,
    OccurrenceOutcome,
    RequestSeries,
    SeriesOutcome,
)
from services.booking.handlers import quota
from services.booking.handlers.common import (
    booking_organisation,
    load_space,
    new_id,
)
from services.booking.handlers.reservations import move, place
from services.booking.handlers.transitions import transition
from services.booking.models import Reservation, Series, Space
from services.booking.permissions import RIGHTS, can_see
from services.booking.rules import Interval, occurrences
from services.booking.rules.names import RESERVATION_STATUS, SERIES_OUTCOME
from shared.clock import PARK_TZ, as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, DomainError, NotFound, RuleViolation, check_version
from shared.i18n import _, label
from shared.principal import Principal

MODES = ("all_or_nothing", "skip_conflicts")
WOULD = {"booked": "would_book", "moved": "would_move"}
"""What an occurrence that passed is called in a refused request: nothing was written."""


def outcome_json(outcome: OccurrenceOutcome) -> dict[str, Any]:
    """An outcome as JSON (times in park time, labels beside the codes), for the problem that
    refuses a series: the kernel renders a problem's values, not an answer schema."""
    return {
        **outcome_fields(outcome),
        "start": _park(outcome.start),
        "end": _park(outcome.end),
        "outcome_label": label(SERIES_OUTCOME, outcome.outcome),
        "status_label": label(RESERVATION_STATUS, outcome.status) if outcome.status else None,
    }


def _blocker(outcome: OccurrenceOutcome) -> dict[str, Any]:
    """One occurrence that stopped a refused request: where it is and the rule it broke."""
    problem = outcome.problem or {}
    return {
        "index": outcome.index,
        "start": _park(outcome.start),
        "end": _park(outcome.end),
        "code": problem.get("code"),
        "status": problem.get("status"),
        "detail": problem.get("detail"),
    }


def _unwritten(outcome: OccurrenceOutcome) -> OccurrenceOutcome:
    """``outcome`` as a refused request reports it: an occurrence that passed only *would* have
    been booked or moved. A booked one names no reservation (its row was rolled back); a moved
    one names its reservation, which exists and keeps its time and status."""
    if outcome.problem is not None:
        return outcome
    if outcome.outcome == "booked":
        return replace(outcome, outcome=WOULD["booked"], reservation_id=None, status=None)
    return replace(outcome, outcome=WOULD.get(outcome.outcome, outcome.outcome))


def _park(moment: datetime) -> str:
    return moment.astimezone(PARK_TZ).isoformat()


def outcome_fields(outcome: OccurrenceOutcome) -> dict[str, Any]:
    return {
        "index": outcome.index,
        "start": outcome.start,
        "end": outcome.end,
        "outcome": outcome.outcome,
        "reservation_id": outcome.reservation_id,
        "status": outcome.status,
        "problem": dict(outcome.problem) if outcome.problem else None,
    }


def _try(
    uow: UnitOfWork,
    index: int,
    usage: Interval,
    attempt: Callable[[], Reservation],
    *,
    done: str = "booked",
    existing: Reservation | None = None,
) -> OccurrenceOutcome:
    """Run ``attempt`` in a savepoint; a broken rule undoes only it and becomes its outcome.
    ``existing``: the reservation being moved, named in a failed outcome too (it is left as it was)."""
    known_id, known_status = (existing.id, existing.status) if existing is not None else (None, None)
    try:
        with uow.session.begin_nested():
            reservation = attempt()
    except DomainError as error:
        return OccurrenceOutcome(
            index,
            usage.start,
            usage.end,
            "conflict" if error.status == 409 else "refused",
            known_id,
            known_status,
            problem={"code": error.code, "status": error.status, "detail": error.detail},
        )
    return OccurrenceOutcome(index, usage.start, usage.end, done, reservation.id, reservation.status)


def _settle(mode: str, outcomes: Sequence[OccurrenceOutcome], what: str) -> None:
    """Refuse the whole request (``rule/series-conflict``, 409) when the mode says so, or when no
    occurrence could be ``what`` (booked or moved). The problem lists every occurrence as it
    would have gone (:func:`_unwritten`) and, in ``blocked``, those that stopped it."""
    failed = [o for o in outcomes if o.problem is not None]
    n, of = len(failed), len(outcomes)
    if failed and (mode == "all_or_nothing" or n == of):
        raise Conflict(
            (
                _("{failed} of {total} occurrences could not be booked; nothing was changed.", failed=n, total=of)
                if what == "booked"
                else _("{failed} of {total} occurrences could not be moved; nothing was changed.", failed=n, total=of)
            ),
            code="rule/series-conflict",
            occurrences=[outcome_json(_unwritten(o)) for o in outcomes],
            blocked=[_blocker(o) for o in failed],
        )


def _answer(uow: UnitOfWork, series: Series, outcomes: Sequence[OccurrenceOutcome]) -> SeriesOutcome:
    """The answer, built from what this transaction wrote: flushed first, so the version is the new one."""
    uow.session.flush()
    return SeriesOutcome(series.id, series.version, tuple(outcomes))


def request_series(cmd: RequestSeries, *, uow: UnitOfWork) -> SeriesOutcome:
    """Book each occurrence; returns the series (id, version) and every occurrence's outcome."""
    if cmd.mode not in MODES:
        raise RuleViolation(_("mode is one of {modes}.", modes=", ".join(MODES)), code="rule/series-mode")
    org_id, org_kind = booking_organisation(uow, cmd.actor, cmd.org_id)
    space = load_space(uow, cmd.space_id)
    now = utcnow()
    first = Interval(as_utc(cmd.start), as_utc(cmd.end))
    if first.end <= first.start:
        raise RuleViolation(_("The end must come after the start."), code="rule/end-after-start")
    planned = occurrences(cmd.rrule, first, horizon=now + timedelta(days=space.horizon_days))
    series = Series(
        id=new_id(),
        space_id=space.id,
        org_id=org_id,
        booked_by=cmd.actor.subject,
        rrule=cmd.rrule.strip().removeprefix("RRULE:"),
        first_start=first.start,
        first_end=first.end,
        mode=cmd.mode,
        title=cmd.title,
        status="active",
        created_at=now,
        updated_at=now,
    )
    uow.session.add(series)
    uow.session.flush()
    outcomes = [
        _try(
            uow,
            occurrence.index,
            occurrence.usage,
            lambda usage=occurrence.usage, index=occurrence.index: place(  # type: ignore[misc]
                uow,
                actor=cmd.actor,
                space=space,
                usage=usage,
                org_id=org_id,
                org_kind=org_kind,
                title=cmd.title,
                attendees=cmd.attendees,
                layout=cmd.layout,
                note=cmd.note,
                visitors=cmd.visitors,
                series_id=series.id,
                occurrence=index,
                now=now,
            ),
        )
        for occurrence in planned
    ]
    _settle(cmd.mode, outcomes, "booked")
    quota.settle(uow)
    return _answer(uow, series, outcomes)


def load_series(uow: UnitOfWork, actor: Principal, series_id: str) -> Series:
    series = uow.session.get(Series, series_id)
    if series is None or not can_see(actor, series):
        raise NotFound(_("There is no series {id}.", id=series_id))
    return series


def _rest(uow: UnitOfWork, series: Series, from_reservation_id: str | None) -> list[Reservation]:
    """The current occurrences from ``from_reservation_id`` on (or the upcoming ones)."""
    query = select(Reservation).where(
        Reservation.series_id == series.id,
        Reservation.status.in_(("pending_approval", "confirmed")),
        Reservation.ends_at > utcnow(),  # an occurrence that has ended is history, not "the rest"
    )
    if from_reservation_id is not None:
        anchor = uow.session.get(Reservation, from_reservation_id)
        if anchor is None or anchor.series_id != series.id:
            raise NotFound(_("Reservation {id} is not an occurrence of this series.", id=from_reservation_id))
        query = query.where(Reservation.starts_at >= anchor.start_utc)
    else:
        query = query.where(Reservation.starts_at > utcnow())
    return list(uow.session.execute(query.order_by(Reservation.starts_at)).scalars())


def _index(reservation: Reservation) -> int:
    """The occurrence's place in its series (0 is the series' first start)."""
    return reservation.occurrence if reservation.occurrence is not None else -1


def cancel_series(cmd: CancelSeries, *, uow: UnitOfWork) -> SeriesOutcome:
    """Cancel the rest of a series (each occurrence by the cancellation policy)."""
    series = load_series(uow, cmd.actor, cmd.series_id)
    check_version(series.version, cmd.expected_versions)
    targets = _rest(uow, series, cmd.from_reservation_id)
    outcomes: list[OccurrenceOutcome] = []
    for reservation in targets:
        RIGHTS.require(cmd.actor, "cancel_series", reservation)
        usage = Interval(reservation.start_utc, reservation.end_utc)
        transition(uow, reservation, "cancel", actor=cmd.actor, reason=cmd.reason)
        outcomes.append(
            OccurrenceOutcome(_index(reservation), usage.start, usage.end, "cancelled", reservation.id, "cancelled")
        )
    if cmd.from_reservation_id is None or not _rest(uow, series, None):
        series.status = "cancelled"
    series.updated_at = utcnow()
    quota.settle(uow)
    return _answer(uow, series, outcomes)


def move_series(cmd: MoveSeries, *, uow: UnitOfWork) -> SeriesOutcome:
    """Shift the rest of a series by ``shift_minutes`` and/or into another space."""
    if cmd.mode not in MODES:
        raise RuleViolation(_("mode is one of {modes}.", modes=", ".join(MODES)), code="rule/series-mode")
    if cmd.shift_minutes == 0 and cmd.space_id is None:
        raise RuleViolation(
            _("Say how far to move the series (shift_minutes), or to which space."), code="rule/series-move"
        )
    series = load_series(uow, cmd.actor, cmd.series_id)
    check_version(series.version, cmd.expected_versions)
    space = load_space(uow, cmd.space_id) if cmd.space_id else None
    shift = timedelta(minutes=cmd.shift_minutes)
    targets = _rest(uow, series, cmd.from_reservation_id)
    if not targets:
        raise RuleViolation(_("No current occurrence of this series is left to move."), code="rule/series-empty")
    # Moving later, the last goes first, so an occurrence never lands on its own successor.
    ordered = sorted(targets, key=lambda reservation: reservation.start_utc, reverse=shift > timedelta(0))
    outcomes: list[OccurrenceOutcome] = []
    for reservation in ordered:
        RIGHTS.require(cmd.actor, "move_series", reservation)
        usage = Interval(reservation.start_utc + shift, reservation.end_utc + shift)
        target_space = space or reservation.space

        def attempt(
            reservation: Reservation = reservation, usage: Interval = usage, target_space: Space = target_space
        ) -> Reservation:
            move(uow, reservation, actor=cmd.actor, usage=usage, space=target_space)
            return reservation

        outcomes.append(_try(uow, _index(reservation), usage, attempt, done="moved", existing=reservation))
    outcomes.sort(key=lambda o: o.index)
    _settle(cmd.mode, outcomes, "moved")
    if space is not None and cmd.from_reservation_id is None:
        series.space_id = space.id
    series.updated_at = utcnow()
    quota.settle(uow)
    return _answer(uow, series, outcomes)
