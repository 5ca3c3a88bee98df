"""The write paths a review of issue 7 found wanting, each over HTTP against the migrated schema:

- a hall booking with let booths moved to a space with fewer booths or none (409 ``rule/booths-let``);
- its layout edited away from booths while booths are let (422 ``rule/no-booths``);
- a tenant changing the seating of a booking in a space that needs approval (back to approval);
- a booking pushed back to approval by an edit: charged as a confirmed one when withdrawn or when
  it expires, confirmed again when the edit is undone before the desk acts;
- a booth number too large for the database in the path (404, and the kernel's 422 for an
  ``OverflowError``);
- booths let or released after the hall's end while it is still checked in
  (422 ``rule/booths-after-end``);
- on PostgreSQL: a booth let while the hall is being cancelled, two releases of one booth, and a
  layout edit while a booth is being let.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from services.booking.handlers import expire_unapproved, transitions
from services.booking.models import BoothBooking, Reservation, Space
from services.booking.rules import SpacePolicy
from services.booking.rules.lifecycle import TrailLine, confirmed_seating
from services.booking.rules.policy import Seating, seating_needs_approval
from shared.db import Database
from shared.http.problems import register_problem_handlers
from tests.booking import factories
from tests.booking.conftest import USERS, at, booking_on_postgres, mint, outbox, park_day
from tests.booking.test_booths import book_hall, exhibition_hall, let
from tests.servers import PostgresDatabases

PROBLEM = "https://parkhub.tianfu-lifescience.cn/problems/"
ZH = {"Accept-Language": "zh-CN"}
ORGANISER_SIDE = ["bob", "alice"]
STAFF = ["desk", "admin"]
WHO_MAY = ORGANISER_SIDE + STAFF


def code(response: Any) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return str(response.json["type"]).removeprefix(PROBLEM)


def edit(api: Any, reservation: dict[str, Any], body: dict[str, Any], user: str = "bob", **headers: str) -> Any:
    headers.setdefault("If-Match", f'"{reservation["version"]}"')
    return api.patch(f"/reservations/{reservation['id']}", body, user=user, **headers)


def reschedule(api: Any, reservation: dict[str, Any], space: Space, user: str, **headers: str) -> Any:
    headers.setdefault("If-Match", f'"{reservation["version"]}"')
    body = {"start": reservation["start"], "end": reservation["end"], "space_id": space.id}
    return api.post(f"/reservations/{reservation['id']}/reschedule", body, user=user, **headers)


def booth_numbers(db: Database, reservation_id: str) -> list[int]:
    with db.reading() as session:
        query = select(BoothBooking.booth).where(BoothBooking.reservation_id == reservation_id)
        return sorted(session.execute(query).scalars())


def stored(db: Database, reservation_id: str) -> Reservation:
    with db.reading() as session:
        reservation = session.get(Reservation, reservation_id)
        assert reservation is not None
        session.expunge(reservation)
        return reservation


def hall_for_everyone(**overrides: Any) -> Space:
    """An exhibition hall whose bookings need no approval, so a tenant's booking is confirmed and a
    tenant may move it."""
    return exhibition_hall(approval_mode="never", **overrides)


# 1. Moving a hall booking whose booths are let -----------------------------------------------------


@pytest.mark.parametrize("user", WHO_MAY)
def test_a_hall_booking_with_let_booths_cannot_move_to_a_space_without_booths(api, db, user):
    expo = book_hall(api, hall_for_everyone(), user="bob", attendees=40)
    assert let(api, expo, 5, user="bob").status_code == 201
    room = factories.SpaceFactory(
        kind="science_hall",
        capacity=500,
        layouts={"booths": 40},
        opening_hours=factories.ALL_DAY,
        slot_minutes=60,
        max_duration_minutes=3 * 24 * 60,
    )
    moved = reschedule(api, expo, room, user)
    assert moved.status_code == 409, moved.json
    assert code(moved) == "rule/booths-let"
    assert "release the booths first" in moved.json["detail"]
    assert moved.json["booths"] == 0 and moved.json["booth"] == 5
    assert "先释放展位" in reschedule(api, expo, room, user, **ZH).json["detail"]
    kept = stored(db, expo["id"])
    assert (kept.space_id, kept.version) == (expo["space"]["id"], expo["version"])
    assert booth_numbers(db, expo["id"]) == [5]

    assert api.delete(f"/reservations/{expo['id']}/booths/5", user=user).status_code == 204
    assert reschedule(api, expo, room, user).status_code == 200  # released: it may move


@pytest.mark.parametrize("user", WHO_MAY)
def test_a_hall_booking_moves_to_a_hall_with_fewer_booths_only_when_its_let_booths_are_there(api, db, user):
    expo = book_hall(api, hall_for_everyone(), user="bob", attendees=40)
    for booth in (3, 12):
        assert let(api, expo, booth, user="bob").status_code == 201
    smaller = hall_for_everyone(booths=10, layouts={"booths": 40, "cocktail": 500})
    refused = reschedule(api, expo, smaller, user)
    assert refused.status_code == 409, refused.json
    assert code(refused) == "rule/booths-let"
    assert (refused.json["booth"], refused.json["booths"]) == (12, 10)
    assert "12" in refused.json["detail"] and "10" in refused.json["detail"]
    assert booth_numbers(db, expo["id"]) == [3, 12]

    assert api.delete(f"/reservations/{expo['id']}/booths/12", user=user).status_code == 204
    moved = reschedule(api, expo, smaller, user)
    assert moved.status_code == 200, moved.json
    booth_map = api.get(f"/reservations/{expo['id']}/booths", user=user).json
    assert (booth_map["space"]["id"], booth_map["booths"], booth_map["let_count"]) == (smaller.id, 10, 1)


def test_a_move_in_time_within_the_hall_keeps_its_booths(api, db):
    expo = book_hall(api, hall_for_everyone(), user="bob", attendees=40)
    assert let(api, expo, 40).status_code == 201
    start = at(park_day(20), "00:00")
    body = {"start": start.isoformat(), "end": (start + timedelta(days=2)).isoformat()}
    moved = api.post(f"/reservations/{expo['id']}/reschedule", body, user="bob", **{"If-Match": f'"{expo["version"]}"'})
    assert moved.status_code == 200, moved.json
    assert booth_numbers(db, expo["id"]) == [40]


# 2. Editing the layout away from booths while booths are let ---------------------------------------


@pytest.mark.parametrize("user", WHO_MAY)
def test_the_layout_cannot_leave_booths_while_booths_are_let(api, db, user):
    expo = book_hall(api, exhibition_hall(), user="bob", attendees=40)
    approved = api.act(expo, "approve", user="desk").json
    assert let(api, expo, 1).status_code == 201
    refused = edit(api, approved, {"layout": "cocktail", "attendees": 300}, user=user)
    assert refused.status_code == 422, refused.json
    assert code(refused) == "rule/no-booths"
    assert refused.json["let_count"] == 1
    assert "Cocktail" in refused.json["detail"]
    zh = edit(api, approved, {"layout": "cocktail"}, user=user, **ZH)
    assert "释放" in zh.json["detail"] and "酒会" in zh.json["detail"]
    kept = stored(db, expo["id"])
    assert (kept.layout, kept.attendees, kept.version, kept.status) == ("booths", 40, approved["version"], "confirmed")

    assert api.delete(f"/reservations/{expo['id']}/booths/1", user=user).status_code == 204
    edited = edit(api, approved, {"layout": "cocktail", "attendees": 300}, user=user)
    assert edited.status_code == 200, edited.json
    assert api.get(f"/reservations/{expo['id']}/booths", user=user).json["can_let"] is False


def test_other_edits_of_a_hall_with_let_booths_go_through(api, db):
    expo = book_hall(api, exhibition_hall(), user="bob")
    approved = api.act(expo, "approve", user="desk").json
    assert let(api, expo, 1).status_code == 201
    edited = edit(api, approved, {"title": "Cell therapy expo 2026", "layout": "booths"}, user="desk")
    assert edited.status_code == 200, edited.json
    assert booth_numbers(db, expo["id"]) == [1]


# 3. A tenant changing seating where bookings need approval -----------------------------------------


@pytest.mark.parametrize("user", ORGANISER_SIDE)
@pytest.mark.parametrize(
    "body", [{"attendees": 500, "layout": "cocktail"}, {"attendees": 60}, {"layout": "cocktail", "attendees": 40}]
)
def test_a_tenant_changing_seating_in_an_always_approved_hall_asks_the_desk_again(api, db, user, body):
    hall = exhibition_hall(layouts={"booths": 500, "cocktail": 500})
    expo = book_hall(api, hall, user="bob", days_ahead=20, attendees=40)
    approved = api.act(expo, "approve", user="desk").json
    events = len(outbox(db))
    edited = edit(api, approved, body, user=user)
    assert edited.status_code == 200, edited.json
    assert edited.json["status"] == "pending_approval"
    changed = outbox(db)[events]
    assert (changed["type"], changed["data"]["previous_status"]) == ("booking.reservation.changed", "confirmed")
    history = api.get(f"/reservations/{expo['id']}/history").json["items"]
    assert (history[-1]["action"], history[-1]["from_status"], history[-1]["to_status"]) == (
        "edit",
        "confirmed",
        "pending_approval",
    )


@pytest.mark.parametrize("user", ORGANISER_SIDE)
@pytest.mark.parametrize(
    "body",
    [
        {"title": "Small expo"},
        {"note": "Loading dock at 6:00"},
        {"visitors": [{"name": "Dr. Müller", "company": "Roche", "car_plate": "川A12345"}]},
        {"attendees": 30},
    ],
)
def test_details_and_fewer_attendees_do_not_need_the_desk(api, user, body):
    expo = book_hall(api, exhibition_hall(), user="bob", days_ahead=20, attendees=40)
    approved = api.act(expo, "approve", user="desk").json
    edited = edit(api, approved, body, user=user)
    assert edited.status_code == 200, edited.json
    assert edited.json["status"] == "confirmed"


@pytest.mark.parametrize("user", STAFF)
def test_staff_change_seating_without_approval(api, user):
    expo = book_hall(api, exhibition_hall(), user="bob", days_ahead=20)
    approved = api.act(expo, "approve", user="desk").json
    edited = edit(api, approved, {"attendees": 500, "layout": "cocktail"}, user=user)
    assert edited.status_code == 200, edited.json
    assert edited.json["status"] == "confirmed"


def test_inside_the_late_fee_period_the_tenant_asks_the_desk_to_change_seating(api, db):
    hall = exhibition_hall(layouts={"booths": 500}, free_cancel_hours=14 * 24)
    expo = book_hall(api, hall, user="bob", days_ahead=10, attendees=40)
    approved = api.act(expo, "approve", user="desk").json
    refused = edit(api, approved, {"attendees": 60})
    assert refused.status_code == 422, refused.json
    assert code(refused) == "rule/edit-needs-approval"
    assert stored(db, expo["id"]).attendees == 40
    assert edit(api, approved, {"attendees": 60}, user="desk").json["status"] == "confirmed"


def test_more_attendees_than_the_desk_approved_above_the_threshold_asks_again(api):
    room = factories.SpaceFactory(capacity=50, layouts={}, approval_mode="attendees_above", approval_threshold=20)
    start = at(park_day(5), "10:00")
    booked = api.book(room.id, start, start + timedelta(hours=1), user="bob", attendees=30).json
    approved = api.act(booked, "approve", user="desk").json
    assert edit(api, approved, {"attendees": 25}).json["status"] == "confirmed"  # fewer
    again = api.get(f"/reservations/{booked['id']}", user="bob").json
    assert edit(api, again, {"attendees": 45}).json["status"] == "pending_approval"


# 4. A booking sent back to approval by an edit -----------------------------------------------------


@pytest.fixture
def threshold_room() -> Space:
    """A room that needs approval above 20 attendees: free to cancel until 24 h before, 50 % after."""
    return factories.SpaceFactory(
        capacity=50,
        layouts={},
        approval_mode="attendees_above",
        approval_threshold=20,
        hourly_price=Decimal("200.00"),
    )


def pushed_back(api: Any, room: Space, user: str = "bob") -> dict[str, Any]:
    """A confirmed two-hour booking three days ahead (400.00 CNY), sent back to approval by an edit."""
    start = at(park_day(3), "10:00")
    booked = api.book(room.id, start, start + timedelta(hours=2), user=user, attendees=10).json
    assert booked["status"] == "confirmed", booked
    assert booked["price"]["amount"] == "400.00"
    pending = edit(api, booked, {"attendees": 30}, user=user).json
    assert pending["status"] == "pending_approval", pending
    return pending  # type: ignore[no-any-return]


@pytest.mark.parametrize("user", ORGANISER_SIDE)
def test_withdrawing_a_booking_an_edit_sent_back_to_approval_costs_the_late_fee(
    api, db, threshold_room, user, monkeypatch
):
    pending = pushed_back(api, threshold_room, user=user)
    later = datetime.fromisoformat(pending["start"]).astimezone(UTC) - timedelta(hours=2)  # inside the 24 h
    monkeypatch.setattr(transitions, "utcnow", lambda: later)
    withdrawn = api.act(pending, "cancel", user=user)
    assert withdrawn.status_code == 200, withdrawn.json
    assert withdrawn.json["cancellation_fee"] == {"amount": "200.00", "currency": "CNY"}  # 50 % of 400.00
    assert outbox(db)[-1]["data"]["cancellation_fee"] == "200.00"


def test_withdrawn_while_still_free_it_costs_nothing(api, threshold_room):
    pending = pushed_back(api, threshold_room)
    assert api.act(pending, "cancel", user="bob").json["cancellation_fee"]["amount"] == "0.00"


@pytest.mark.parametrize("user", STAFF)
def test_staff_cancelling_it_waive_the_fee_as_always(api, threshold_room, user, monkeypatch):
    pending = pushed_back(api, threshold_room)
    later = datetime.fromisoformat(pending["start"]).astimezone(UTC) - timedelta(hours=2)
    monkeypatch.setattr(transitions, "utcnow", lambda: later)
    assert api.act(pending, "cancel", user=user).json["cancellation_fee"]["amount"] == "0.00"


def test_a_request_never_approved_is_still_withdrawn_for_nothing(api, threshold_room, monkeypatch):
    start = at(park_day(3), "10:00")
    request = api.book(threshold_room.id, start, start + timedelta(hours=2), user="bob", attendees=30).json
    assert request["status"] == "pending_approval"
    edited = edit(api, request, {"attendees": 10}).json
    assert edited["status"] == "pending_approval"  # only an approval approves a request
    monkeypatch.setattr(transitions, "utcnow", lambda: start.astimezone(UTC) - timedelta(hours=2))
    assert api.act(edited, "cancel", user="bob").json["cancellation_fee"]["amount"] == "0.00"


def test_left_waiting_until_its_start_it_expires_with_the_late_fee(api, db, threshold_room):
    pending = pushed_back(api, threshold_room)
    start = datetime.fromisoformat(pending["start"]).astimezone(UTC)
    with db.unit_of_work() as uow:
        assert expire_unapproved(uow=uow, now=start) == 1
        uow.commit()
    expired = api.get(f"/reservations/{pending['id']}", user="bob").json
    assert expired["status"] == "rejected"
    assert expired["cancellation_fee"] == {"amount": "200.00", "currency": "CNY"}
    assert outbox(db)[-1]["data"]["cancellation_fee"] == "200.00"


@pytest.mark.parametrize("user", WHO_MAY)
def test_undoing_the_edit_before_the_desk_acts_confirms_it_again(api, db, threshold_room, user):
    pending = pushed_back(api, threshold_room)
    events = len(outbox(db))
    undone = edit(api, pending, {"attendees": 20}, user=user)
    assert undone.status_code == 200, undone.json
    assert undone.json["status"] == "confirmed"
    changed = outbox(db)[events]
    assert changed["data"]["previous_status"] == "pending_approval"
    history = api.get(f"/reservations/{pending['id']}/history").json["items"]
    assert (history[-1]["from_status"], history[-1]["to_status"]) == ("pending_approval", "confirmed")


def test_an_edit_that_leaves_the_change_in_place_keeps_it_waiting(api, threshold_room):
    pending = pushed_back(api, threshold_room)
    titled = edit(api, pending, {"title": "Board meeting"}).json
    assert titled["status"] == "pending_approval"
    assert edit(api, titled, {"attendees": 25}).json["status"] == "pending_approval"


def test_in_an_always_approved_hall_the_layout_back_confirms_it_again(api):
    hall = exhibition_hall(layouts={"booths": 500, "cocktail": 500})
    expo = book_hall(api, hall, user="bob", days_ahead=20, attendees=40)
    approved = api.act(expo, "approve", user="desk").json
    pending = edit(api, approved, {"layout": "cocktail"}).json
    assert pending["status"] == "pending_approval"
    assert edit(api, pending, {"layout": "booths"}).json["status"] == "confirmed"


def test_once_confirmed_again_its_next_change_is_judged_from_there(api, threshold_room):
    pending = pushed_back(api, threshold_room)
    approved = api.act(pending, "approve", user="desk").json  # the desk approves 30
    assert approved["status"] == "confirmed"
    assert edit(api, approved, {"attendees": 25}).json["status"] == "confirmed"


def test_the_seating_last_confirmed_is_read_back_from_the_trail():
    """Pure: the edits after the last line that left it confirmed are undone, newest first."""
    now = Seating(45, "cocktail")
    trail = [
        TrailLine("request", "pending_approval", {}),
        TrailLine("approve", "confirmed", {}),
        TrailLine("edit", "confirmed", {"attendees": {"from": 20, "to": 30}}),
        TrailLine("edit", "pending_approval", {"attendees": {"from": 30, "to": 40}}),
        TrailLine("booth_let", "pending_approval", {"booth": 3}),
        TrailLine(
            "edit",
            "pending_approval",
            {"attendees": {"from": 40, "to": 45}, "layout": {"from": None, "to": "cocktail"}},
        ),
    ]
    assert confirmed_seating(trail, now) == Seating(30, None)
    assert confirmed_seating(trail[:1], Seating(30, None)) is None  # never approved
    assert confirmed_seating([], Seating(30, None)) is None


@pytest.mark.parametrize(
    ("mode", "confirmed", "seating", "again"),
    [
        ("always", Seating(40, "booths"), Seating(60, "booths"), True),
        ("always", Seating(40, "booths"), Seating(40, "cocktail"), True),
        ("always", Seating(40, "booths"), Seating(30, "booths"), False),
        ("always", Seating(40, "booths"), Seating(40, "booths"), False),
        ("attendees_above", Seating(10, None), Seating(30, None), True),
        ("attendees_above", Seating(10, None), Seating(20, None), False),
        ("attendees_above", Seating(30, None), Seating(45, None), True),
        ("attendees_above", Seating(30, None), Seating(25, None), False),
        ("attendees_above", Seating(10, None), Seating(10, "classroom"), False),
        ("never", Seating(10, None), Seating(300, "classroom"), False),
    ],
)
def test_which_changes_of_seating_need_the_desk_again(mode, confirmed, seating, again):
    policy = SpacePolicy(capacity=500, layouts={}, opening_hours={}, approval_mode=mode, approval_threshold=20)
    assert seating_needs_approval(policy, confirmed, seating) is again


# 5. A booth number the database cannot hold -------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "delete"])
@pytest.mark.parametrize("booth", ["99999999999999999999", "0", "501"])
def test_a_booth_number_outside_any_hall_in_the_path_is_not_found(api, db, method, booth):
    expo = book_hall(api, exhibition_hall(), user="bob")
    response = getattr(api, method)(f"/reservations/{expo['id']}/booths/{booth}", user="bob")
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_the_path_parameter_is_documented_with_its_range(api):
    document = api.get("/openapi.json", user=None).json
    operation = document["paths"]["/api/v1/booking/reservations/{reservation_id}/booths/{booth}"]
    parameters = operation.get("parameters") or operation["get"]["parameters"]
    booth = next(p for p in parameters if p["name"] == "booth")
    assert (booth["schema"]["minimum"], booth["schema"]["maximum"]) == (1, 500)


def test_a_number_the_database_cannot_store_is_a_422_not_a_500():
    app = Flask(__name__)
    register_problem_handlers(app)

    @app.get("/overflow")
    def overflow() -> str:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    response = app.test_client().get("/overflow", headers=ZH)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == PROBLEM + "value-not-storable"
    assert "数" in response.json["detail"]


# 7. After the hall's end --------------------------------------------------------------------------


@pytest.fixture
def ended_expo(db: Database) -> Reservation:
    """A hall booking that ended an hour ago and is still checked in (the job has not completed
    it yet), with booth 7 let."""
    ended = factories.ReservationFactory(
        space=exhibition_hall(),
        layout="booths",
        attendees=40,
        booked_by="user:bob",
        status="checked_in",
        start=datetime.now(UTC).replace(microsecond=0) - timedelta(days=1, hours=1),
        minutes=24 * 60,
    )
    with db.unit_of_work() as uow:
        uow.session.add(
            BoothBooking(
                id=str(uuid.uuid4()),
                reservation_id=ended.id,
                booth=7,
                exhibitor="Tianfu Genomics",
                created_by="user:bob",
                created_at=datetime.now(UTC),
            )
        )
        uow.commit()
    return ended


@pytest.mark.parametrize("user", WHO_MAY)
def test_booths_are_not_let_or_released_after_the_halls_end(api, db, ended_expo, user):
    path = f"/reservations/{ended_expo.id}/booths"
    for response, zh in (
        (let(api, {"id": ended_expo.id}, 8, user=user), let(api, {"id": ended_expo.id}, 8, user=user, headers=ZH)),
        (api.delete(f"{path}/7", user=user), api.delete(f"{path}/7", user=user, **ZH)),
    ):
        assert response.status_code == 422, response.json
        assert code(response) == "rule/booths-after-end"
        assert "ended" in response.json["detail"]
        assert "已结束" in zh.json["detail"]
    assert booth_numbers(db, ended_expo.id) == [7]
    assert api.get(path, user=user).json["can_let"] is False


# 6. Booth writes against the hall's changes, on PostgreSQL ----------------------------------------


@pytest.fixture
def pg(tmp_path, postgres_databases: PostgresDatabases, signing_key) -> Iterator[tuple[Flask, Database, Any]]:
    yield from booking_on_postgres(tmp_path, postgres_databases, signing_key)


def pg_expo(status: str = "confirmed") -> Reservation:
    return factories.ReservationFactory(  # type: ignore[no-any-return]
        space=exhibition_hall(),
        layout="booths",
        attendees=40,
        booked_by="user:bob",
        status=status,
        start=at(park_day(3), "00:00"),
        minutes=24 * 60,
    )


def while_another_transaction_holds(database: Database, statement: str, params: dict[str, Any], request: Any) -> Any:
    """Run ``statement`` in another transaction, send ``request`` while it is open, and commit it
    half a second later; the request's answer."""
    engine = create_engine(database.url)
    try:
        with engine.connect() as other:
            other.execute(text(statement), params)
            timer = threading.Timer(0.5, other.commit)
            timer.start()
            response = request()
            timer.join()
    finally:
        engine.dispose()
    return response


@pytest.mark.postgres
def test_a_booth_let_while_the_hall_is_being_cancelled_is_refused(pg, signing_key):
    app, database, settings = pg
    expo = pg_expo()
    headers = {"Authorization": f"Bearer {mint(settings, signing_key, USERS['bob'])}"}
    response = while_another_transaction_holds(
        database,
        "UPDATE reservations SET status = 'cancelled', version = version + 1 WHERE id = :id",
        {"id": expo.id},
        lambda: app.test_client().post(
            f"/api/v1/booking/reservations/{expo.id}/booths", json={"booth": 6, "exhibitor": "B"}, headers=headers
        ),
    )
    assert response.status_code == 409, response.json
    assert response.json["type"] == PROBLEM + "rule/state-transition"
    with database.reading() as session:
        assert session.execute(select(func.count()).select_from(BoothBooking)).scalar_one() == 0


@pytest.mark.postgres
def test_the_second_of_two_releases_of_one_booth_finds_it_free(pg, signing_key):
    app, database, settings = pg
    expo = pg_expo()
    headers = {"Authorization": f"Bearer {mint(settings, signing_key, USERS['bob'])}"}
    client = app.test_client()
    path = f"/api/v1/booking/reservations/{expo.id}/booths"
    assert client.post(path, json={"booth": 5, "exhibitor": "A"}, headers=headers).status_code == 201
    response = while_another_transaction_holds(
        database,
        "DELETE FROM booth_bookings WHERE reservation_id = :id AND booth = 5",
        {"id": expo.id},
        lambda: client.delete(f"{path}/5", headers=headers),
    )
    assert response.status_code == 404, response.json
    assert response.json["type"] == PROBLEM + "not-found"


@pytest.mark.postgres
def test_a_layout_edit_waits_for_a_booth_being_let_and_then_refuses(pg, signing_key):
    app, database, settings = pg
    expo = pg_expo()
    headers = {
        "Authorization": f"Bearer {mint(settings, signing_key, USERS['bob'])}",
        "If-Match": f'"{expo.version}"',
    }
    response = while_another_transaction_holds(
        database,
        "INSERT INTO booth_bookings (id, reservation_id, booth, exhibitor, created_by, created_at, version)"
        " VALUES (:booth_id, :id, 9, 'First', 'user:alice', now(), 1)",
        {"booth_id": str(uuid.uuid4()), "id": expo.id},
        lambda: app.test_client().patch(
            f"/api/v1/booking/reservations/{expo.id}", json={"layout": "cocktail"}, headers=headers
        ),
    )
    assert response.status_code == 422, response.json
    assert response.json["type"] == PROBLEM + "rule/no-booths"
    with database.reading() as session:
        assert session.get(Reservation, expo.id).layout == "booths"  # type: ignore[union-attr]


@pytest.mark.postgres
def test_a_move_waits_for_a_booth_being_let_and_then_refuses(pg, signing_key):
    app, database, settings = pg
    expo = pg_expo()
    room = factories.SpaceFactory(
        kind="science_hall",
        capacity=500,
        layouts={"booths": 40},
        opening_hours=factories.ALL_DAY,
        slot_minutes=60,
        max_duration_minutes=3 * 24 * 60,
        lead_time_minutes=0,
    )
    headers = {
        "Authorization": f"Bearer {mint(settings, signing_key, USERS['desk'])}",
        "If-Match": f'"{expo.version}"',
    }
    body = {"start": expo.starts_at.isoformat(), "end": expo.ends_at.isoformat(), "space_id": room.id}
    response = while_another_transaction_holds(
        database,
        "INSERT INTO booth_bookings (id, reservation_id, booth, exhibitor, created_by, created_at, version)"
        " VALUES (:booth_id, :id, 9, 'First', 'user:alice', now(), 1)",
        {"booth_id": str(uuid.uuid4()), "id": expo.id},
        lambda: app.test_client().post(
            f"/api/v1/booking/reservations/{expo.id}/reschedule", json=body, headers=headers
        ),
    )
    assert response.status_code == 409, response.json
    assert response.json["type"] == PROBLEM + "rule/booths-let"
    with database.reading() as session:
        assert session.get(Reservation, expo.id).space_id == expo.space_id  # type: ignore[union-attr]
