"""The rules of a space: what a reservation may be, what it costs, when it can be cancelled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.booking.rules.intervals import (
    DAY_MINUTES,
    NO_PARK_DAYS,
    Interval,
    OpeningHours,
    ParkCalendar,
    holidays_meeting,
    local_midnight,
    opening_intervals,
    subtract,
)
from services.booking.rules.names import LAYOUT, listing
from shared.clock import PARK_TZ
from shared.errors import Conflict, RuleViolation
from shared.holidays import PUBLIC_HOLIDAY
from shared.i18n import Message, _, label

MAX_HOLD = timedelta(days=15)
"""The longest a reservation may hold a space, buffers included. Overlap lookups scan
``hold_start`` from ``start - MAX_HOLD`` only, which keeps them one bounded index range."""

CENT = Decimal("0.01")
APPROVAL_MODES = ("never", "always", "attendees_above")


@dataclass(frozen=True)
class SpacePolicy:
    capacity: int
    layouts: Mapping[str, int]
    opening_hours: OpeningHours
    slot_minutes: int = 30
    min_duration_minutes: int = 30
    max_duration_minutes: int = 480
    lead_time_minutes: int = 60
    horizon_days: int = 90
    setup_minutes: int = 0
    cleanup_minutes: int = 0
    approval_mode: str = "never"
    approval_threshold: int | None = None
    hourly_price: Decimal = Decimal("0")
    free_cancel_hours: int = 24
    late_cancel_fee_percent: Decimal = Decimal("50")
    check_in_opens_minutes: int = 15
    check_in_grace_minutes: int = 15
    park_days: ParkCalendar = field(default_factory=lambda: NO_PARK_DAYS)
    """The park's holidays and make-up working days around the time being judged, for a space
    that closes on public holidays (empty otherwise, so such a space follows its week alone)."""

    @property
    def setup(self) -> timedelta:
        return timedelta(minutes=self.setup_minutes)

    @property
    def cleanup(self) -> timedelta:
        return timedelta(minutes=self.cleanup_minutes)

    def hold_of(self, usage: Interval) -> Interval:
        """The time ``usage`` keeps the space from others: setup before, cleanup after."""
        return usage.widened(self.setup, self.cleanup)

    def validate(self) -> None:
        """Refuse a space configuration that cannot work (``rule/space-config``)."""

        def refuse(detail: Message) -> None:
            raise RuleViolation(detail, code="rule/space-config")

        if self.slot_minutes <= 0 or DAY_MINUTES % self.slot_minutes:
            refuse(_("slot_minutes must divide a day (5, 10, 15, 30, 60, … minutes)."))
        if not 0 < self.min_duration_minutes <= self.max_duration_minutes:
            refuse(_("min_duration_minutes must be positive and at most max_duration_minutes."))
        if self.min_duration_minutes % self.slot_minutes or self.max_duration_minutes % self.slot_minutes:
            refuse(_("min_duration_minutes and max_duration_minutes must be whole slots."))
        hold = timedelta(minutes=self.max_duration_minutes) + self.setup + self.cleanup
        if hold > MAX_HOLD:
            refuse(_("The maximum duration plus buffers may not exceed {days} days.", days=MAX_HOLD.days))
        if self.approval_mode not in APPROVAL_MODES:
            refuse(_("The approval mode is one of {modes}.", modes=", ".join(APPROVAL_MODES)))
        if self.approval_mode == "attendees_above" and self.approval_threshold is None:
            refuse(_("The approval mode attendees_above needs a threshold."))
        if any(capacity > self.capacity for capacity in self.layouts.values()):
            refuse(_("A layout cannot seat more than the space's capacity."))
        if self.hourly_price < 0 or not 0 <= self.late_cancel_fee_percent <= 100:
            refuse(_("Prices are never negative and the late fee is a percentage (0–100)."))


def _on_grid(moment: datetime, slot_minutes: int) -> bool:
    offset = moment - local_midnight(moment)
    return offset.total_seconds() % (slot_minutes * 60) == 0


def check_request(
    policy: SpacePolicy,
    usage: Interval,
    *,
    attendees: int,
    layout: str | None,
    now: datetime,
    closures: Iterable[Interval] = (),
    staff: bool = False,
) -> None:
    """Every rule a new or moved reservation of ``usage`` must pass; raises the first broken one.

    Desk staff and park admin may book inside the lead time (a walk-in at the desk) but every
    other rule holds for them too.
    """
    if usage.end <= usage.start:
        raise RuleViolation(_("The end must come after the start."), code="rule/end-after-start")
    if not (_on_grid(usage.start, policy.slot_minutes) and _on_grid(usage.end, policy.slot_minutes)):
        raise RuleViolation(
            _(
                "Start and end must fall on the {minutes}-minute grid of this space (park time).",
                minutes=policy.slot_minutes,
            ),
            code="rule/slot-granularity",
            slot_minutes=policy.slot_minutes,
        )
    if usage.minutes < policy.min_duration_minutes:
        raise RuleViolation(
            _("This space is booked for at least {minutes} minutes.", minutes=policy.min_duration_minutes),
            code="rule/min-duration",
            min_duration_minutes=policy.min_duration_minutes,
        )
    if usage.minutes > policy.max_duration_minutes:
        raise RuleViolation(
            _("This space is booked for at most {minutes} minutes.", minutes=policy.max_duration_minutes),
            code="rule/max-duration",
            max_duration_minutes=policy.max_duration_minutes,
        )
    if usage.start < now:
        raise RuleViolation(_("A reservation cannot start in the past."), code="rule/in-the-past")
    if not staff and usage.start < now + timedelta(minutes=policy.lead_time_minutes):
        raise RuleViolation(
            _("This space must be booked at least {minutes} minutes ahead.", minutes=policy.lead_time_minutes),
            code="rule/lead-time",
            lead_time_minutes=policy.lead_time_minutes,
        )
    if usage.start > now + timedelta(days=policy.horizon_days):
        raise RuleViolation(
            _("This space can be booked at most {days} days ahead.", days=policy.horizon_days),
            code="rule/horizon",
            horizon_days=policy.horizon_days,
        )
    check_seating(policy, attendees=attendees, layout=layout)
    check_public_holidays(policy, usage)
    if not any(period.contains(usage) for period in opening_intervals(policy.opening_hours, usage, policy.park_days)):
        raise RuleViolation(
            _("The space is not open for the whole of this time (opening hours are in park time, Asia/Shanghai)."),
            code="rule/opening-hours",
        )
    hold = policy.hold_of(usage)
    if any(closure.overlaps(hold) for closure in closures):
        raise RuleViolation(_("The space is closed during this time (buffers included)."), code="rule/space-closed")


def check_public_holidays(policy: SpacePolicy, usage: Interval) -> None:
    """A space that closes on public holidays is closed the whole of each holiday (park time),
    setup and cleanup included, as for a closure: ``rule/space-closed`` naming the holiday."""
    for day, holiday, _whole_day in holidays_meeting(policy.park_days, policy.hold_of(usage)):
        named = {"date": day.isoformat(), "name": holiday.name}
        if holiday.name:
            detail = _(
                "The space is closed on {date}, a public holiday ({holiday}), setup and cleanup included.",
                date=day.isoformat(),
                holiday=label(PUBLIC_HOLIDAY, holiday.name),
            )
        else:
            detail = _(
                "The space is closed on {date}, a public holiday, setup and cleanup included.", date=day.isoformat()
            )
        raise RuleViolation(detail, code="rule/space-closed", public_holiday=named)


def check_seating(policy: SpacePolicy, *, attendees: int, layout: str | None) -> None:
    if layout is not None and layout not in policy.layouts:
        if not policy.layouts:
            raise RuleViolation(_("This space offers no layouts to choose from."), code="rule/layout")
        raise RuleViolation(
            _(
                "This space does not offer the {layout} layout; it offers: {layouts}.",
                layout=label(LAYOUT, layout),
                layouts=listing(LAYOUT, sorted(policy.layouts)),
            ),
            code="rule/layout",
            layouts=sorted(policy.layouts),
        )
    seats = policy.layouts[layout] if layout is not None else policy.capacity
    if attendees > seats:
        raise RuleViolation(
            _(
                "This space seats {seats} in that layout; {attendees} attendees do not fit.",
                seats=seats,
                attendees=attendees,
            ),
            code="rule/capacity",
            capacity=seats,
        )


def needs_approval(policy: SpacePolicy, attendees: int) -> bool:
    if policy.approval_mode == "always":
        return True
    if policy.approval_mode == "attendees_above":
        return attendees > (policy.approval_threshold or 0)
    return False


@dataclass(frozen=True)
class Seating:
    """How a reservation is seated: how many attendees, in which layout (``None``: none chosen)."""

    attendees: int
    layout: str | None


def seating_needs_approval(policy: SpacePolicy, confirmed: Seating, seating: Seating) -> bool:
    """Whether changing a reservation from the seating the desk ``confirmed`` to ``seating``
    needs the desk again: in a space where a booking of that size needs approval, more attendees
    than were confirmed or another layout (the desk approved a size and a set-up, not the hall).
    Fewer attendees in the same layout never do, nor any seating a new booking would get without
    approval."""
    if not needs_approval(policy, seating.attendees):
        return False
    return seating.attendees > confirmed.attendees or seating.layout != confirmed.layout


@dataclass(frozen=True)
class Pricing:
    price: Decimal
    quota_minutes: int
    billable_minutes: int


def price_of(policy: SpacePolicy, minutes: int, *, free_minutes_left: int, free_of_charge: bool = False) -> Pricing:
    """Quota first, then the hourly price for what is left; rounded to the fen (half up)."""
    if free_of_charge:
        return Pricing(Decimal("0.00"), 0, 0)
    quota = max(0, min(minutes, free_minutes_left))
    billable = minutes - quota
    price = (policy.hourly_price * billable / 60).quantize(CENT, rounding=ROUND_HALF_UP)
    return Pricing(price, quota, billable)


def cancellation_fee(policy: SpacePolicy, price: Decimal, start: datetime, now: datetime) -> Decimal:
    """Free until ``free_cancel_hours`` before the start; after that the late fee share of the price."""
    if now <= start - timedelta(hours=policy.free_cancel_hours):
        return Decimal("0.00")
    return (price * policy.late_cancel_fee_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def check_in_window(policy: SpacePolicy, usage: Interval) -> Interval:
    """When check-in is open: from ``check_in_opens_minutes`` before the start until the grace
    period after it (:func:`no_show_after`), both ends included."""
    return Interval(usage.start - timedelta(minutes=policy.check_in_opens_minutes), no_show_after(policy, usage))


def check_check_in_window(policy: SpacePolicy, usage: Interval, now: datetime) -> None:
    window = check_in_window(policy, usage)
    opens, closes = window.start, window.end
    if not opens <= now <= closes:
        raise RuleViolation(
            _(
                "Check-in is open from {before} minutes before the start until {after} minutes after it.",
                before=policy.check_in_opens_minutes,
                after=policy.check_in_grace_minutes,
            ),
            code="rule/check-in-window",
            opens_at=opens.isoformat(),
            closes_at=closes.isoformat(),
        )


def no_show_after(policy: SpacePolicy, usage: Interval) -> datetime:
    """When a reservation nobody checked in for is released."""
    return min(usage.start + timedelta(minutes=policy.check_in_grace_minutes), usage.end)


CHECK_IN_STATES = ("upcoming", "due", "overdue", "checked_in", "missed")
"""How check-in stands, as the desk reads it (their names: ``rules/names.py``, ``check-in-state``)."""


@dataclass(frozen=True)
class CheckIn:
    """When check-in opens and closes, when it happened, and ``state`` (one of
    :data:`CHECK_IN_STATES`; ``None`` while check-in does not apply: a request waiting for
    approval, a reservation cancelled or rejected)."""

    state: str | None
    opens_at: datetime
    closes_at: datetime
    checked_in_at: datetime | None


def check_in_state(
    policy: SpacePolicy, usage: Interval, *, status: str, checked_in_at: datetime | None, now: datetime
) -> CheckIn:
    """How check-in stands at ``now`` for a reservation in ``status``: ``upcoming`` (the window is
    not open yet), ``due`` (open), ``overdue`` (closed and nobody checked in: the no-show job will
    release it), ``checked_in``, ``missed`` (released as a no-show)."""
    window = check_in_window(policy, usage)
    opens, closes = window.start, window.end
    state: str | None = None
    if checked_in_at is not None:
        state = "checked_in"
    elif status == "no_show":
        state = "missed"
    elif status == "confirmed":
        state = "upcoming" if now < opens else "due" if now <= closes else "overdue"
    return CheckIn(state, opens, closes, checked_in_at)


def free_intervals(
    policy: SpacePolicy,
    window: Interval,
    *,
    holds: Iterable[Interval],
    closures: Iterable[Interval],
    now: datetime,
    staff: bool = False,
) -> list[Interval]:
    """The times in ``window`` a new reservation could use: open, not closed, not held by another
    reservation once this one's buffers are added, inside lead time and horizon, on the slot grid,
    and at least the minimum duration long."""
    earliest = now if staff else now + timedelta(minutes=policy.lead_time_minutes)
    latest = now + timedelta(days=policy.horizon_days) + timedelta(minutes=policy.max_duration_minutes)
    if earliest >= latest:
        return []
    bounded = Interval(max(window.start, earliest), min(window.end, latest))
    if bounded.end <= bounded.start:
        return []
    # A new usage u conflicts with a blocker b when hold(u) meets b, i.e. when u meets b widened by
    # the cleanup before it and the setup after it.
    # A holiday blocks like a closure of the whole day; one just outside the window still blocks
    # the buffers of a usage inside it.
    near = bounded.widened(policy.setup, policy.cleanup)
    holidays = [whole for _day, _holiday, whole in holidays_meeting(policy.park_days, near)]
    blockers = [b.widened(policy.cleanup, policy.setup) for b in (*holds, *closures, *holidays)]
    free = subtract(opening_intervals(policy.opening_hours, bounded, policy.park_days), blockers)
    slot = timedelta(minutes=policy.slot_minutes)
    answer: list[Interval] = []
    for interval in free:
        start = _ceil(interval.start, slot)
        end = _floor(interval.end, slot)
        if (end - start) >= timedelta(minutes=policy.min_duration_minutes):
            answer.append(Interval(start, end))
    return answer


def _ceil(moment: datetime, slot: timedelta) -> datetime:
    midnight = local_midnight(moment)
    steps = -(-(moment - midnight) // slot)
    return (midnight + steps * slot).astimezone(moment.tzinfo)


def _floor(moment: datetime, slot: timedelta) -> datetime:
    midnight = local_midnight(moment)
    steps = (moment - midnight) // slot
    return (midnight + steps * slot).astimezone(moment.tzinfo)


def double_booking(busy: Interval | None = None) -> Conflict:
    """The answer to a hold that meets another (``rule/no-double-booking``, 409), naming the
    busy interval in park time when it is known."""
    extra: dict[str, Any] = {}
    if busy is not None:
        extra["busy"] = {
            "start": busy.start.astimezone(PARK_TZ).isoformat(),
            "end": busy.end.astimezone(PARK_TZ).isoformat(),
        }
    return Conflict(
        _("The space is already held at this time (setup and cleanup buffers included)."),
        code="rule/no-double-booking",
        **extra,
    )
