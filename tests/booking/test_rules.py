"""The pure rules, without a database: intervals, opening hours, each rule's refusal, price,
fees, the check-in window, free intervals and recurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.booking.rules import (
    Interval,
    SpacePolicy,
    cancellation_fee,
    check_check_in_window,
    check_request,
    free_intervals,
    needs_approval,
    next_status,
    occurrences,
    opening_intervals,
    parse_opening_hours,
    price_of,
    subtract,
)
from services.booking.rules.policy import check_in_state
from shared.clock import PARK_TZ
from shared.errors import Conflict, RuleViolation

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 on Tuesday 1 December in the park


def park(day: int, clock: str) -> datetime:
    hours, minutes = (int(x) for x in clock.split(":"))
    return datetime(2026, 12, day, hours, minutes, tzinfo=PARK_TZ)


def policy(**overrides: object) -> SpacePolicy:
    values: dict[str, object] = {
        "capacity": 20,
        "layouts": {"round_table": 12},
        "opening_hours": parse_opening_hours(
            {d: [["08:00", "22:00"]] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
        ),
        "slot_minutes": 30,
        "min_duration_minutes": 60,
        "max_duration_minutes": 240,
        "lead_time_minutes": 120,
        "horizon_days": 30,
        "hourly_price": Decimal("300.00"),
    }
    values.update(overrides)
    return SpacePolicy(**values)  # type: ignore[arg-type]


def refused(code: str, usage: Interval, **kwargs: object) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_request(kwargs.pop("policy", policy()), usage, now=NOW, **{"attendees": 5, "layout": None, **kwargs})
    assert caught.value.code == code


def test_a_valid_request_passes() -> None:
    check_request(policy(), Interval(park(2, "10:00"), park(2, "11:30")), attendees=5, layout=None, now=NOW)


@pytest.mark.parametrize(
    ("code", "start", "end", "extra"),
    [
        ("rule/end-after-start", (2, "11:00"), (2, "10:00"), {}),
        ("rule/slot-granularity", (2, "10:15"), (2, "11:15"), {}),
        ("rule/min-duration", (2, "10:00"), (2, "10:30"), {}),
        ("rule/max-duration", (2, "10:00"), (2, "14:30"), {}),
        ("rule/in-the-past", (1, "07:00"), (1, "08:00"), {}),
        ("rule/lead-time", (1, "09:00"), (1, "10:00"), {}),
        ("rule/horizon", (31, "10:00"), (31, "11:00"), {"policy": policy(horizon_days=20)}),
        ("rule/capacity", (2, "10:00"), (2, "11:00"), {"attendees": 21}),
        ("rule/capacity", (2, "10:00"), (2, "11:00"), {"attendees": 13, "layout": "round_table"}),
        ("rule/layout", (2, "10:00"), (2, "11:00"), {"layout": "banquet"}),
        ("rule/opening-hours", (2, "21:30"), (2, "22:30"), {}),
        ("rule/opening-hours", (5, "10:00"), (5, "11:00"), {}),  # Saturday: closed
        (
            "rule/space-closed",
            (2, "10:00"),
            (2, "11:00"),
            {"closures": [Interval(park(2, "11:00"), park(2, "12:00"))], "policy": policy(cleanup_minutes=15)},
        ),
    ],
)
def test_each_rule_is_named_when_broken(code: str, start: tuple, end: tuple, extra: dict) -> None:
    refused(code, Interval(park(*start), park(*end)), **extra)


def test_staff_may_book_inside_the_lead_time_but_not_in_the_past() -> None:
    check_request(policy(), Interval(park(1, "09:00"), park(1, "10:00")), attendees=5, layout=None, now=NOW, staff=True)
    with pytest.raises(RuleViolation):
        check_request(
            policy(), Interval(park(1, "07:00"), park(1, "08:00")), attendees=5, layout=None, now=NOW, staff=True
        )


def test_opening_hours_are_read_in_park_time_whatever_the_offset() -> None:
    hours = policy().opening_hours
    plus_two = timezone(timedelta(hours=2))
    # 04:00+02:00 is 10:00 in the park (open); 00:00+02:00 is 06:00 in the park (closed).
    ten = Interval(datetime(2026, 12, 2, 4, 0, tzinfo=plus_two), datetime(2026, 12, 2, 5, 0, tzinfo=plus_two))
    assert opening_intervals(hours, ten) == [ten]
    check_request(policy(), ten, attendees=5, layout=None, now=NOW)
    six = Interval(datetime(2026, 12, 2, 0, 0, tzinfo=plus_two), datetime(2026, 12, 2, 1, 0, tzinfo=plus_two))
    assert opening_intervals(hours, six) == []
    refused("rule/opening-hours", six)


def test_multi_day_bookings_need_contiguous_opening_hours() -> None:
    around_the_clock = parse_opening_hours({d: [["00:00", "24:00"]] for d in ("monday", "tuesday", "wednesday")})
    span = Interval(park(1, "00:00"), park(3, "00:00"))
    assert opening_intervals(around_the_clock, span) == [span]


def test_malformed_opening_hours_are_refused() -> None:
    overlapping = {"monday": [["08:00", "12:00"], ["11:00", "13:00"]]}
    for document in ({"monday": [["10:00", "09:00"]]}, {"funday": []}, overlapping):
        with pytest.raises(RuleViolation) as caught:
            parse_opening_hours(document)  # type: ignore[arg-type]
        assert caught.value.code == "rule/opening-hours"


def test_subtract_cuts_blockers_out() -> None:
    day = Interval(park(2, "08:00"), park(2, "22:00"))
    left = subtract([day], [Interval(park(2, "10:00"), park(2, "11:00")), Interval(park(2, "21:00"), park(2, "23:00"))])
    assert left == [
        Interval(park(2, "08:00"), park(2, "10:00")),
        Interval(park(2, "11:00"), park(2, "21:00")),
    ]


def test_free_intervals_apply_buffers_lead_time_and_slots() -> None:
    rules = policy(setup_minutes=30, cleanup_minutes=15)
    busy = [Interval(park(2, "12:00") - timedelta(minutes=30), park(2, "13:00") + timedelta(minutes=15))]
    free = free_intervals(rules, Interval(park(2, "00:00"), park(3, "00:00")), holds=busy, closures=[], now=NOW)
    # A new booking needs 15 min of cleanup before the other's setup, and 30 min of setup after
    # the other's cleanup; edges snap to the 30-minute grid.
    assert free == [
        Interval(park(2, "08:00"), park(2, "11:00")),
        Interval(park(2, "14:00"), park(2, "22:00")),
    ]
    # Lead time: on day 1 nothing before 10:00 (now 08:00 + 2 h).
    today = free_intervals(rules, Interval(park(1, "00:00"), park(2, "00:00")), holds=[], closures=[], now=NOW)
    assert today == [Interval(park(1, "10:00"), park(1, "22:00"))]


def test_price_uses_the_quota_first_then_the_hourly_price() -> None:
    rules = policy()
    assert price_of(rules, 90, free_minutes_left=0).price == Decimal("450.00")
    partly = price_of(rules, 90, free_minutes_left=60)
    assert (partly.price, partly.quota_minutes, partly.billable_minutes) == (Decimal("150.00"), 60, 30)
    assert price_of(rules, 90, free_minutes_left=600).price == Decimal("0.00")
    assert price_of(rules, 90, free_minutes_left=0, free_of_charge=True).price == Decimal("0.00")
    # Rounded half up to the fen.
    assert price_of(policy(hourly_price=Decimal("100.00")), 50, free_minutes_left=0).price == Decimal("83.33")


def test_cancellation_is_free_until_the_policy_says_then_costs_the_late_share() -> None:
    rules = policy(free_cancel_hours=24, late_cancel_fee_percent=Decimal("50"))
    start = NOW + timedelta(hours=48)
    assert cancellation_fee(rules, Decimal("300.00"), start, NOW) == Decimal("0.00")
    assert cancellation_fee(rules, Decimal("300.00"), start, start - timedelta(hours=23)) == Decimal("150.00")


def test_check_in_window() -> None:
    rules = policy(check_in_opens_minutes=15, check_in_grace_minutes=10)
    usage = Interval(NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    check_check_in_window(rules, usage, usage.start - timedelta(minutes=15))
    check_check_in_window(rules, usage, usage.start + timedelta(minutes=10))
    for moment in (usage.start - timedelta(minutes=16), usage.start + timedelta(minutes=11)):
        with pytest.raises(RuleViolation) as caught:
            check_check_in_window(rules, usage, moment)
        assert caught.value.code == "rule/check-in-window"


def test_the_check_in_state_the_desk_reads() -> None:
    """The same window decides the state as refuses a check-in outside it."""
    rules = policy(check_in_opens_minutes=15, check_in_grace_minutes=10)
    usage = Interval(NOW + timedelta(hours=1), NOW + timedelta(hours=2))

    def state(now: datetime, status: str = "confirmed", checked_in_at: datetime | None = None) -> str | None:
        return check_in_state(rules, usage, status=status, checked_in_at=checked_in_at, now=now).state

    assert state(usage.start - timedelta(minutes=16)) == "upcoming"
    assert state(usage.start - timedelta(minutes=15)) == "due"
    assert state(usage.start + timedelta(minutes=10)) == "due"
    assert state(usage.start + timedelta(minutes=11)) == "overdue"
    assert state(usage.start, "checked_in", usage.start) == "checked_in"
    assert state(usage.end, "completed", usage.start) == "checked_in"
    assert state(usage.end, "no_show") == "missed"
    assert state(usage.start, "pending_approval") is None
    assert state(usage.start, "cancelled") is None
    window = check_in_state(rules, usage, status="confirmed", checked_in_at=None, now=NOW)
    assert (window.opens_at, window.closes_at) == (
        usage.start - timedelta(minutes=15),
        usage.start + timedelta(minutes=10),
    )


def test_approval_rules() -> None:
    assert needs_approval(policy(approval_mode="always"), 1)
    assert not needs_approval(policy(approval_mode="never"), 1000)
    assert needs_approval(policy(approval_mode="attendees_above", approval_threshold=10), 11)
    assert not needs_approval(policy(approval_mode="attendees_above", approval_threshold=10), 10)


def test_space_configuration_that_cannot_work_is_refused() -> None:
    for broken in (
        policy(slot_minutes=7),
        policy(min_duration_minutes=300, max_duration_minutes=240),
        policy(max_duration_minutes=20 * 24 * 60),
        policy(approval_mode="attendees_above", approval_threshold=None),
        policy(layouts={"theatre": 500}),
    ):
        with pytest.raises(RuleViolation) as caught:
            broken.validate()
        assert caught.value.code == "rule/space-config"


def test_lifecycle() -> None:
    assert next_status("pending_approval", "approve") == "confirmed"
    assert next_status("confirmed", "check_in") == "checked_in"
    assert next_status("checked_in", "complete") == "completed"
    with pytest.raises(Conflict) as caught:
        next_status("cancelled", "approve")
    assert caught.value.code == "rule/state-transition"


def test_weekly_recurrence_keeps_the_park_wall_clock() -> None:
    first = Interval(park(1, "10:00"), park(1, "11:00"))
    found = occurrences("FREQ=WEEKLY;BYDAY=TU;COUNT=4", first, horizon=NOW + timedelta(days=90))
    assert [o.usage.start.astimezone(PARK_TZ).strftime("%m-%d %H:%M") for o in found] == [
        "12-01 10:00",
        "12-08 10:00",
        "12-15 10:00",
        "12-22 10:00",
    ]
    assert all(o.usage.minutes == 60 for o in found)
    # Without COUNT or UNTIL a series stops at the horizon.
    assert len(occurrences("FREQ=WEEKLY", first, horizon=NOW + timedelta(days=27))) == 4
    # With COUNT, it does not: the occurrences past the horizon are listed (and refused later).
    assert len(occurrences("FREQ=WEEKLY;COUNT=6", first, horizon=NOW + timedelta(days=27))) == 6


def test_the_given_start_is_the_first_occurrence_even_off_the_rule() -> None:
    first = Interval(park(1, "10:00"), park(1, "11:00"))  # a Tuesday
    found = occurrences("FREQ=WEEKLY;BYDAY=TH;COUNT=3", first, horizon=NOW + timedelta(days=90))
    assert [o.usage.start.astimezone(PARK_TZ).strftime("%a %m-%d") for o in found] == [
        "Tue 12-01",
        "Thu 12-03",
        "Thu 12-10",
    ]
    assert [o.index for o in found] == [0, 1, 2]


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("FREQ=SOMETIMES", "rule/rrule"),
        ("FREQ=HOURLY;COUNT=3", "rule/rrule"),
        ("FREQ=WEEKLY;UNTIL=20261231T000000", "rule/rrule"),
        ("FREQ=DAILY;COUNT=500", "rule/series-length"),
        ("DTSTART:20261201T000000Z\nRRULE:FREQ=DAILY", "rule/rrule"),
        ("FREQ=WEEKLY;INTERVAL=0;COUNT=3", "rule/rrule"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31", "rule/rrule"),
        ("FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31,-31", "rule/rrule"),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2", "rule/rrule"),
        ("FREQ=DAILY;BYHOUR=9,15", "rule/rrule"),
    ],
)
def test_bad_recurrence_rules_are_named(rule: str, code: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        occurrences(rule, Interval(park(1, "10:00"), park(1, "11:00")), horizon=NOW + timedelta(days=3650))
    assert caught.value.code == code
