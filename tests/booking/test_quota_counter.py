"""The free-hour counter (``quota_usage``) always equals the minutes the organisation's counted
reservations took, whatever moves them: booking, rescheduling into another month, cancelling,
rejecting, a failed request; and migration 0004 fills it from the reservations already there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import create_engine, select, text

from migrations import upgrade
from services.booking.models import QuotaUsage, Reservation, Space
from services.booking.rules import COUNTED_FOR_QUOTA, quota_month
from tests.booking.conftest import ORG_A, at, park_day
from tests.booking.factories import QuotaRuleFactory, SpaceFactory


def counters(db) -> dict[tuple[str, str, str], int]:
    with db.reading() as session:
        rows = session.execute(select(QuotaUsage)).scalars()
        return {(r.org_id, r.space_kind, r.month): r.minutes for r in rows if r.minutes}


def spent(db) -> dict[tuple[str, str, str], int]:
    """What the reservations say: the truth the counter must equal."""
    found: dict[tuple[str, str, str], int] = {}
    with db.reading() as session:
        rows = session.execute(
            select(Reservation.org_id, Space.kind, Reservation.starts_at, Reservation.quota_minutes)
            .join(Space, Space.id == Reservation.space_id)
            .where(Reservation.status.in_(COUNTED_FOR_QUOTA), Reservation.quota_minutes > 0)
        )
        for org_id, kind, starts_at, minutes in rows:
            key = (org_id, kind, quota_month(starts_at))
            found[key] = found.get(key, 0) + minutes
    return found


def test_the_counter_follows_every_change(api, db):
    QuotaRuleFactory(org_id="*", space_kind="conference_room", free_hours_per_month=3)
    room = SpaceFactory(hourly_price=Decimal("200.00"), horizon_days=90)
    hall = SpaceFactory(kind="science_hall", code="HALL", capacity=500, approval_mode="always", horizon_days=90)
    QuotaRuleFactory(org_id="*", space_kind="science_hall", free_hours_per_month=5)
    day = park_day(3)
    later = (day.replace(day=1) + timedelta(days=40)).replace(day=10)  # next month
    first = api.book(room.id, at(day, "09:00"), at(day, "11:00")).json
    second = api.book(room.id, at(day, "13:00"), at(day, "15:00"), user="bob").json
    assert (first["quota_minutes"], second["quota_minutes"]) == (120, 60)
    assert counters(db) == spent(db) == {(ORG_A, "conference_room", quota_month(at(day, "09:00"))): 180}

    # Moving the first into next month gives this month's minutes back and spends next month's.
    moved = api.post(
        f"/reservations/{first['id']}/reschedule",
        {"start": at(later, "09:00").isoformat(), "end": at(later, "10:00").isoformat()},
        **{"If-Match": f'"{first["version"]}"'},
    )
    assert moved.status_code == 200, moved.json
    assert counters(db) == spent(db)
    assert counters(db)[(ORG_A, "conference_room", quota_month(at(later, "09:00")))] == 60

    # A cancelled reservation frees its minutes; a third booking gets them.
    assert api.act(second, "cancel").status_code == 200
    assert counters(db) == spent(db)
    third = api.book(room.id, at(day, "16:00"), at(day, "19:00")).json
    assert third["quota_minutes"] == 180
    assert counters(db) == spent(db)

    # A pending hall reservation counts until the desk rejects it.
    pending = api.book(hall.id, at(day, "10:00"), at(day, "12:00"), attendees=100).json
    assert pending["status"] == "pending_approval"
    assert counters(db) == spent(db)
    assert api.act(pending, "reject", user="desk", reason="Closed for works").status_code == 200
    assert counters(db) == spent(db)
    assert (ORG_A, "science_hall", quota_month(at(day, "10:00"))) not in counters(db)


def test_a_refused_booking_moves_no_counter(api, db):
    QuotaRuleFactory(org_id="*", space_kind="conference_room", free_hours_per_month=3)
    room = SpaceFactory()
    day = park_day(3)
    assert api.book(room.id, at(day, "09:00"), at(day, "10:00")).status_code == 201
    taken = api.book(room.id, at(day, "09:30"), at(day, "10:30"), user="carol")
    assert taken.status_code == 409
    assert counters(db) == spent(db)


def test_migration_0004_fills_the_counter_from_existing_reservations(tmp_path):
    url = f"sqlite:///{tmp_path}/booking.db"
    upgrade("booking", url, "0003")
    engine = create_engine(url)
    start = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # 1 November, 01:00 in the park
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO spaces (id, code, kind, name, name_zh, building, capacity, layouts, equipment, "
                    "description, description_zh, opening_hours, slot_minutes, min_duration_minutes, "
                    "max_duration_minutes, lead_time_minutes, horizon_days, setup_minutes, cleanup_minutes, "
                    "approval_mode, hourly_price, currency, free_cancel_hours, late_cancel_fee_percent, "
                    "check_in_opens_minutes, check_in_grace_minutes, active, version, created_at, updated_at) "
                    "VALUES ('s1', 'R1', 'conference_room', 'R1', 'R1', 'A', 10, '{}', '[]', '', '', '{}', 30, 30, "
                    "240, 0, 90, 0, 0, 'never', 100, 'CNY', 24, 50, 15, 15, 1, 1, :t, :t)"
                ),
                {"t": start},
            )
            for n, (status, minutes, moment) in enumerate(
                [
                    ("confirmed", 60, start),
                    ("completed", 30, start),
                    ("cancelled", 90, start),  # no longer counts
                    ("confirmed", 45, start - timedelta(hours=2)),  # 31 October in the park
                ]
            ):
                connection.execute(
                    text(
                        "INSERT INTO reservations (id, space_id, org_id, org_kind, booked_by, title, attendees, "
                        "status, starts_at, ends_at, hold_start, hold_end, price, currency, quota_minutes, "
                        "billable_minutes, sequence, version, created_at, updated_at) VALUES (:id, 's1', 'org-a', "
                        "'tenant', 'user:a', 't', 2, :status, :s, :e, :s, :e, 0, 'CNY', :m, 0, 0, 1, :s, :s)"
                    ),
                    {"id": f"r{n}", "status": status, "s": moment, "e": moment + timedelta(hours=1), "m": minutes},
                )
        upgrade("booking", url)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT org_id, space_kind, month, minutes FROM quota_usage")).all()
    finally:
        engine.dispose()
    assert sorted(tuple(r) for r in rows) == [
        ("org-a", "conference_room", "2026-10", 45),
        ("org-a", "conference_room", "2026-11", 90),
    ]
