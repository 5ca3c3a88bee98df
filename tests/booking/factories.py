"""factory-boy factories of booking's domain, bound to a test's database session."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from services.booking.models import Closure, QuotaRule, Reservation, Space

_bound: dict[str, Session] = {}


def bind(session: Session | None) -> None:
    """Make the factories write through ``session`` (None: unbind)."""
    _bound.clear()
    if session is not None:
        _bound["session"] = session


def current_session() -> Session:
    assert "session" in _bound, "use the db fixture before the factories"
    return _bound["session"]


WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_DAY = {day: [["00:00", "24:00"]] for day in WEEK}
OFFICE = {day: [["08:00", "22:00"]] for day in WEEK}


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "commit"


class SpaceFactory(Base):
    class Meta:
        model = Space

    id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    code = factory.Sequence(lambda n: f"room-{n:04d}")
    kind = "conference_room"
    name = factory.Sequence(lambda n: f"Meeting Room {n}")
    name_zh = factory.Sequence(lambda n: f"会议室{n}")
    building = "Phase I · Building A1"
    floor = "3F"
    capacity = 20
    layouts = factory.LazyFunction(lambda: {"round_table": 20, "classroom": 12})
    equipment = factory.LazyFunction(lambda: ["projector", "whiteboard"])
    description = ""
    description_zh = ""
    opening_hours = factory.LazyFunction(lambda: dict(OFFICE))
    slot_minutes = 30
    min_duration_minutes = 30
    max_duration_minutes = 480
    lead_time_minutes = 60
    horizon_days = 90
    setup_minutes = 0
    cleanup_minutes = 0
    approval_mode = "never"
    approval_threshold = None
    hourly_price = Decimal("100.00")
    currency = "CNY"
    free_cancel_hours = 24
    late_cancel_fee_percent = Decimal("50.00")
    check_in_opens_minutes = 15
    check_in_grace_minutes = 15
    active = True
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))
    updated_at = factory.LazyFunction(lambda: datetime.now(UTC))


class ReservationFactory(Base):
    """A reservation written straight to the table (no rules): for states and times a request
    could not reach, such as one starting a minute ago."""

    class Meta:
        model = Reservation

    class Params:
        start = factory.LazyFunction(lambda: datetime.now(UTC).replace(microsecond=0) + timedelta(days=2))
        minutes = 60

    id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    space = factory.SubFactory(SpaceFactory)
    org_id = "00000000-0000-4000-8000-00000000000a"
    org_kind = "tenant"
    booked_by = "user:alice"
    booked_by_name = "Alice Wang"
    title = "Factory meeting"
    attendees = 4
    layout = None
    note = None
    status = "confirmed"
    starts_at = factory.LazyAttribute(lambda o: o.start)
    ends_at = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.minutes))
    hold_start = factory.LazyAttribute(lambda o: o.starts_at - timedelta(minutes=o.space.setup_minutes))
    hold_end = factory.LazyAttribute(lambda o: o.ends_at + timedelta(minutes=o.space.cleanup_minutes))
    price = Decimal("100.00")
    currency = "CNY"
    quota_minutes = 0
    billable_minutes = 60
    sequence = 0
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))
    updated_at = factory.LazyFunction(lambda: datetime.now(UTC))


class ClosureFactory(Base):
    class Meta:
        model = Closure

    id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    space_id = factory.LazyAttribute(lambda o: SpaceFactory().id)
    starts_at = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=4))
    reason = "Maintenance"
    created_by = "user:admin"
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))


class QuotaRuleFactory(Base):
    class Meta:
        model = QuotaRule

    org_id = "*"
    space_kind = "conference_room"
    free_hours_per_month = 2
    updated_at = factory.LazyFunction(lambda: datetime.now(UTC))


def space(**overrides: Any) -> Space:
    return SpaceFactory(**overrides)
