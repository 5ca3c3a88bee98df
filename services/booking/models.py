"""Booking's tables: its domain models, its directory of organisations, its messaging tables.

Times are stored in UTC (always bound as UTC: SQLite keeps no offset). A reservation *holds* its
space from ``hold_start`` (start minus the setup buffer) to ``hold_end`` (end plus cleanup) while
its status is one of :data:`HOLDING`; on PostgreSQL an exclusion constraint over
``tstzrange(hold_start, hold_end)`` makes two overlapping holds of one space impossible.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from services.booking.rules import HOLDING, MAX_HOLD, SpacePolicy, parse_opening_hours
from shared.audit import Chained, define_chain_heads
from shared.clock import as_utc
from shared.db import UtcDateTime, metadata
from shared.service import service_tables

NAME = "booking"

MONEY = Numeric(12, 2)


TS = UtcDateTime()


class Base(DeclarativeBase):
    metadata = metadata()


TABLES = service_tables(NAME, Base.metadata)
AUDIT_HEADS = define_chain_heads(Base.metadata)
messaging = TABLES.messaging
directory = TABLES.directory
database = TABLES.database


class Space(Base):
    """A bookable room, hall, square or court, with the rules its reservations follow."""

    __tablename__ = "spaces"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    building: Mapped[str] = mapped_column(String(100))
    floor: Mapped[str | None] = mapped_column(String(20))
    capacity: Mapped[int] = mapped_column(Integer)
    layouts: Mapped[dict[str, int]] = mapped_column(JSON)
    equipment: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text)
    description_zh: Mapped[str] = mapped_column(Text)
    opening_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    min_duration_minutes: Mapped[int] = mapped_column(Integer)
    max_duration_minutes: Mapped[int] = mapped_column(Integer)
    lead_time_minutes: Mapped[int] = mapped_column(Integer)
    horizon_days: Mapped[int] = mapped_column(Integer)
    setup_minutes: Mapped[int] = mapped_column(Integer)
    cleanup_minutes: Mapped[int] = mapped_column(Integer)
    approval_mode: Mapped[str] = mapped_column(String(20))
    approval_threshold: Mapped[int | None] = mapped_column(Integer)
    hourly_price: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    free_cancel_hours: Mapped[int] = mapped_column(Integer)
    late_cancel_fee_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    check_in_opens_minutes: Mapped[int] = mapped_column(Integer)
    check_in_grace_minutes: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    closes_on_public_holidays: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    """Closed on China's public holidays and open on the make-up working days (:class:`ParkDay`)."""
    booths: Mapped[int | None] = mapped_column(Integer)
    """Standard exhibition booths (numbered 1 to ``booths``) an organiser may let inside a booking
    of the whole space; ``None`` for a space without booths."""
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}

    def policy(self) -> SpacePolicy:
        """The pure rules of this space, as :mod:`services.booking.rules` reads them."""
        return SpacePolicy(
            capacity=self.capacity,
            layouts=dict(self.layouts or {}),
            opening_hours=parse_opening_hours(self.opening_hours),
            slot_minutes=self.slot_minutes,
            min_duration_minutes=self.min_duration_minutes,
            max_duration_minutes=self.max_duration_minutes,
            lead_time_minutes=self.lead_time_minutes,
            horizon_days=self.horizon_days,
            setup_minutes=self.setup_minutes,
            cleanup_minutes=self.cleanup_minutes,
            approval_mode=self.approval_mode,
            approval_threshold=self.approval_threshold,
            hourly_price=Decimal(self.hourly_price),
            free_cancel_hours=self.free_cancel_hours,
            late_cancel_fee_percent=Decimal(self.late_cancel_fee_percent),
            check_in_opens_minutes=self.check_in_opens_minutes,
            check_in_grace_minutes=self.check_in_grace_minutes,
        )


class Closure(Base):
    """A time a space cannot be booked: maintenance, a public holiday."""

    __tablename__ = "closures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(TS)
    ends_at: Mapped[datetime] = mapped_column(TS)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(TS)

    __table_args__ = (Index("ix_closures_space_id_starts_at", "space_id", "starts_at"),)


class ParkDay(Base):
    """A day off the usual week in the park's calendar: a public holiday (``holiday``) or a
    weekend day that is a working day (``workday``, a make-up day), as China's State Council
    schedules them. Loaded from :mod:`shared.holidays`; read for spaces that close on holidays."""

    __tablename__ = "park_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(TS)


class QuotaRule(Base):
    """Free hours per calendar month (park time) for one tenant (or ``*``: every tenant) and kind."""

    __tablename__ = "quota_rules"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    space_kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    free_hours_per_month: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}


class QuotaUsage(Base):
    """Minutes of free hours an organisation has spent on one kind of space in one park month
    (``YYYY-MM``): the sum of ``quota_minutes`` of its reservations that count
    (:data:`COUNTED_FOR_QUOTA`), kept up to date by every change in the change's own transaction,
    so checking the quota reads one row (locked on PostgreSQL) instead of summing the month."""

    __tablename__ = "quota_usage"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    space_kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer)


class Series(Base):
    """A recurring reservation: an RFC 5545 RRULE read in park time from the first occurrence."""

    __tablename__ = "series"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id"))
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    booked_by: Mapped[str] = mapped_column(String(120))
    rrule: Mapped[str] = mapped_column(Text)
    first_start: Mapped[datetime] = mapped_column(TS)
    first_end: Mapped[datetime] = mapped_column(TS)
    mode: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}


class Reservation(Base):
    """One booking of one space, with its price, its quota use, its visitors and its history."""

    __tablename__ = "reservations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id"))
    org_id: Mapped[str] = mapped_column(String(64))
    org_kind: Mapped[str] = mapped_column(String(40))
    booked_by: Mapped[str] = mapped_column(String(120), index=True)
    booked_by_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[int] = mapped_column(Integer)
    layout: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(TS)
    ends_at: Mapped[datetime] = mapped_column(TS)
    hold_start: Mapped[datetime] = mapped_column(TS)
    hold_end: Mapped[datetime] = mapped_column(TS)
    price: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    quota_minutes: Mapped[int] = mapped_column(Integer)
    billable_minutes: Mapped[int] = mapped_column(Integer)
    cancellation_fee: Mapped[Decimal | None] = mapped_column(MONEY)
    series_id: Mapped[str | None] = mapped_column(ForeignKey("series.id"), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
    requester: Mapped[str | None] = mapped_column(String(40))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    """The correlation id of the request that made the reservation; a room hold's events all carry it."""
    occurrence: Mapped[int | None] = mapped_column(Integer)
    """The index of this occurrence in its series (0 is the series' first start)."""
    reason: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(String(20))
    """What an event booking is for: ``roadshow`` (a financing roadshow, ``purpose_ref`` the
    financing round) or ``product_launch``; None for an ordinary booking."""
    purpose_ref: Mapped[str | None] = mapped_column(String(64))
    checked_in_at: Mapped[datetime | None] = mapped_column(TS)
    sequence: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)

    space: Mapped[Space] = relationship(lazy="joined", innerjoin=True)
    visitors: Mapped[list[Visitor]] = relationship(lazy="selectin", cascade="all, delete-orphan", order_by="Visitor.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Availability and the overlap check: one index range per space, bounded by MAX_HOLD.
        Index("ix_reservations_space_id_hold_start", "space_id", "hold_start"),
        Index("ix_reservations_org_id_starts_at", "org_id", "starts_at"),
        Index("ix_reservations_status_starts_at", "status", "starts_at"),
        # The judge of double booking on PostgreSQL (ignored on SQLite, where writes are serialised).
        ExcludeConstraint(
            ("space_id", "="),
            (func.tstzrange(text("hold_start"), text("hold_end"), text("'[)'")), "&&"),
            name="ex_reservations_no_overlap",
            using="gist",
            where=text("status IN ('pending_approval', 'confirmed', 'checked_in')"),
        ),
    )

    @property
    def holding(self) -> bool:
        return self.status in HOLDING

    @property
    def start_utc(self) -> datetime:
        return as_utc(self.starts_at)

    @property
    def end_utc(self) -> datetime:
        return as_utc(self.ends_at)


def holds_meeting(session: Session, lo: datetime, hi: datetime) -> list[ColumnElement[bool]]:
    """Conditions for holding reservations whose hold meets ``[lo, hi)``.

    Portable: one bounded range of ``ix_reservations_space_id_hold_start`` (a hold is never
    longer than MAX_HOLD). On PostgreSQL the range overlap is stated too, so the planner can
    answer it from the exclusion constraint's GiST index, which holds exactly the holding rows.
    """
    conditions: list[ColumnElement[bool]] = [
        Reservation.hold_start >= lo - MAX_HOLD,
        Reservation.hold_start < hi,
        Reservation.hold_end > lo,
        Reservation.status.in_(HOLDING),
    ]
    if session.get_bind().dialect.name == "postgresql":
        conditions.append(
            func.tstzrange(Reservation.hold_start, Reservation.hold_end, "[)").op("&&")(func.tstzrange(lo, hi, "[)"))
        )
    return conditions


class Visitor(Base):
    """An external visitor on a reservation, for visitor passes and visitor parking."""

    __tablename__ = "visitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reservation_id: Mapped[str] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200))
    car_plate: Mapped[str | None] = mapped_column(String(16))
    plate_kind: Mapped[str | None] = mapped_column(String(10))
    """``mainland`` (checked against the mainland format) or ``other`` (foreign, Hong Kong, Macao,
    military…: kept as given); ``None`` without a car."""


class BoothBooking(Base):
    """One standard booth inside a booking of a whole exhibition space, let by the organiser to an
    exhibitor. It has no state of its own: it stands while its reservation holds the space (so
    it waits for the hall's approval and falls with the hall's cancellation)."""

    __tablename__ = "booth_bookings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reservation_id: Mapped[str] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    booth: Mapped[int] = mapped_column(Integer)
    exhibitor: Mapped[str] = mapped_column(String(200))
    exhibitor_org_id: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("reservation_id", "booth"),)


class Transition(Chained, Base):
    """The append-only audit trail: who moved a reservation from what to what, when and why."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reservation_id: Mapped[str] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(TS)


class AdminChange(Chained, Base):
    """The append-only audit trail of park admin's changes to spaces, closures and quotas."""

    __tablename__ = "admin_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(TS)

    __table_args__ = (Index("ix_admin_changes_entity_entity_id", "entity", "entity_id"),)


class HoldRequest(Base):
    """A room-hold request another service sent, and how it was answered: a re-sent request
    (same requester and ``request_id``) is answered once, never evaluated again."""

    __tablename__ = "hold_requests"

    requester: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    reservation_id: Mapped[str | None] = mapped_column(String(36))
    rule: Mapped[str | None] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(TS)


class CalendarFeed(Base):
    """The secret of an iCalendar feed URL (per space, per organisation); rotating it revokes the old URL."""

    __tablename__ = "calendar_feeds"

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64), unique=True)
    rotated_at: Mapped[datetime] = mapped_column(TS)


class FinancingRound(Base):
    """A tenant's accepted venture-capital or guide-fund offer, as finance announced it
    (``finance.application.offer_accepted``): what entitles it to book a financing roadshow."""

    __tablename__ = "financing_rounds"

    application_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    product_kind: Mapped[str] = mapped_column(String(20))
    partner_org_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    accepted_at: Mapped[datetime] = mapped_column(TS)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TS)
    """Set when the application was withdrawn or closed unpaid: no roadshow any more."""
