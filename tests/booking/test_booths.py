"""Exhibition booths: the organiser of a booking of the whole exhibition hall lets its standard
booths to exhibitors (``/reservations/{id}/booths``). A booth stands with the hall's reservation:
pending while the hall waits for approval, confirmed with it, gone with its cancellation or
rejection. Every role, bad input, the audit trail, the event, and the race for one booth."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from services.booking.models import BoothBooking, Space
from services.booking.seed import seed
from shared.db import Database
from shared.events import validate as validate_event
from tests.booking import factories
from tests.booking.conftest import BANK, ORG_B, USERS, at, booking_on_postgres, mint, outbox, park_day
from tests.servers import PostgresDatabases

ZH = {"Accept-Language": "zh-CN"}
ALL_DAY = {d: [["00:00", "24:00"]] for d in factories.WEEK}


def exhibition_hall(**overrides: Any) -> Space:
    values: dict[str, Any] = {
        "kind": "exhibition_hall",
        "capacity": 500,
        "layouts": {"booths": 40, "cocktail": 500},
        "booths": 40,
        "opening_hours": ALL_DAY,
        "slot_minutes": 60,
        "min_duration_minutes": 240,
        "max_duration_minutes": 3 * 24 * 60,
        "approval_mode": "always",
        **overrides,
    }
    return factories.SpaceFactory(**values)


def book_hall(api: Any, space: Space, user: str = "bob", days_ahead: int = 10, **fields: Any) -> dict[str, Any]:
    start = at(park_day(days_ahead), "00:00")
    fields.setdefault("layout", "booths")
    response = api.book(space.id, start, start + timedelta(days=2), user=user, title="Cell therapy expo", **fields)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def let(api: Any, reservation: dict[str, Any], booth: int, user: str = "bob", **fields: Any) -> Any:
    headers = fields.pop("headers", {})
    body = {"booth": booth, "exhibitor": fields.pop("exhibitor", f"Exhibitor {booth}"), **fields}
    return api.post(f"/reservations/{reservation['id']}/booths", body, user=user, **headers)


def booths_in(db: Database) -> int:
    with db.reading() as session:
        return session.execute(select(func.count()).select_from(BoothBooking)).scalar_one()


@pytest.fixture
def hall(db: Database) -> Space:
    return exhibition_hall()


@pytest.fixture
def expo(api: Any, hall: Space) -> dict[str, Any]:
    """Bob's (a tenant member's) pending booking of the whole hall."""
    return book_hall(api, hall)


# Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["bob", "alice", "desk", "admin"])
def test_the_organiser_a_tenant_admin_of_the_organisation_and_staff_let_see_and_release(api, expo, user):
    booth = {"bob": 1, "alice": 2, "desk": 3, "admin": 4}[user]
    created = let(api, expo, booth, user=user, contact="+86 28 8888 0000", note="corner, needs power")
    assert created.status_code == 201, created.json
    assert created.headers["Location"] == f"/api/v1/booking/reservations/{expo['id']}/booths/{booth}"
    assert created.json | {"id": None, "created_at": None} == {
        "id": None,
        "reservation_id": expo["id"],
        "booth": booth,
        "let": True,
        "exhibitor": f"Exhibitor {booth}",
        "exhibitor_org_id": None,
        "contact": "+86 28 8888 0000",
        "note": "corner, needs power",
        "status": "pending_approval",
        "status_label": "Pending approval",
        "created_by": USERS[user].sub,
        "created_at": None,
    }
    assert api.get(f"/reservations/{expo['id']}/booths", user=user).status_code == 200
    assert api.get(f"/reservations/{expo['id']}/booths/{booth}", user=user).json["exhibitor"] == f"Exhibitor {booth}"
    assert api.delete(f"/reservations/{expo['id']}/booths/{booth}", user=user).status_code == 204
    assert api.get(f"/reservations/{expo['id']}/booths/{booth}", user=user).status_code == 404


@pytest.mark.parametrize("user", ["carol", "dave"])
def test_another_tenant_finds_no_such_reservation(api, db, expo, user):
    let(api, expo, 1)
    for response in (
        api.get(f"/reservations/{expo['id']}/booths", user=user),
        api.get(f"/reservations/{expo['id']}/booths/1", user=user),
        let(api, expo, 2, user=user),
        api.delete(f"/reservations/{expo['id']}/booths/1", user=user),
    ):
        assert response.status_code == 404, response.json
    assert booths_in(db) == 1


def test_a_member_who_is_not_the_organiser_is_refused_naming_who_may(api, db, hall):
    expo = book_hall(api, hall, user="alice")  # the tenant admin organises; bob is a member
    let(api, expo, 1, user="alice")
    for response in (
        api.get(f"/reservations/{expo['id']}/booths", user="bob"),
        let(api, expo, 2, user="bob"),
        api.delete(f"/reservations/{expo['id']}/booths/1", user="bob"),
    ):
        assert response.status_code == 403, response.json
        assert "organiser" in response.json["detail"]
    assert booths_in(db) == 1
    assert api.get(f"/reservations/{expo['id']}", user="bob").status_code == 200  # the reservation itself he sees


def test_a_partner_is_refused_before_the_body_is_read_and_nobody_is_anonymous(api, db, expo):
    for response in (
        api.get(f"/reservations/{expo['id']}/booths", user="bank"),
        api.post(f"/reservations/{expo['id']}/booths", {"nonsense": True}, user="bank"),
        api.delete(f"/reservations/{expo['id']}/booths/1", user="bank"),
    ):
        assert response.status_code == 403, response.json
    for response in (
        api.get(f"/reservations/{expo['id']}/booths", user=None),
        api.post(f"/reservations/{expo['id']}/booths", {"booth": 1, "exhibitor": "X"}, user=None),
        api.delete(f"/reservations/{expo['id']}/booths/1", user=None),
    ):
        assert response.status_code == 401
    assert booths_in(db) == 0


# The booth map and the hall's state ------------------------------------------------------------


def test_the_booth_map_lists_every_booth_free_or_let(api, expo):
    for booth in (3, 17, 40):
        assert let(api, expo, booth).status_code == 201
    booth_map = api.get(f"/reservations/{expo['id']}/booths").json
    assert (booth_map["booths"], booth_map["let_count"], booth_map["free_count"]) == (40, 3, 37)
    assert booth_map["status"] == "pending_approval" and booth_map["can_let"] is True
    assert [b["booth"] for b in booth_map["items"]] == list(range(1, 41))
    assert [b["booth"] for b in booth_map["items"] if b["let"]] == [3, 17, 40]
    assert booth_map["items"][0] == {"booth": 1, "let": False, "status": None, "status_label": None}
    assert booth_map["space"]["kind"] == "exhibition_hall"


def test_booths_wait_for_the_halls_approval_and_fall_with_its_cancellation(api, db, expo):
    let(api, expo, 1)
    approved = api.act(expo, "approve", user="desk")
    assert approved.status_code == 200, approved.json
    booth = api.get(f"/reservations/{expo['id']}/booths/1", headers=ZH).json
    assert (booth["status"], booth["status_label"]) == ("confirmed", "已确认")
    assert let(api, expo, 2).json["status"] == "confirmed"
    cancelled = api.act(approved.json, "cancel", user="bob")
    assert cancelled.status_code == 200, cancelled.json
    booth_map = api.get(f"/reservations/{expo['id']}/booths").json
    assert booth_map["can_let"] is False
    assert {b["status"] for b in booth_map["items"] if b["let"]} == {"cancelled"}
    late = let(api, expo, 3)
    assert late.status_code == 409
    assert late.json["type"].endswith("/rule/state-transition")
    assert api.delete(f"/reservations/{expo['id']}/booths/1").status_code == 409
    assert booths_in(db) == 2


def test_a_rejected_hall_takes_its_booths_with_it(api, expo):
    let(api, expo, 5)
    rejected = api.act(expo, "reject", user="desk", reason="Fire inspection that week")
    assert rejected.status_code == 200
    assert api.get(f"/reservations/{expo['id']}/booths/5").json["status"] == "rejected"
    assert let(api, expo, 6).status_code == 409


def test_letting_a_booth_does_not_touch_the_halls_version(api, expo):
    let(api, expo, 1)
    again = api.get(f"/reservations/{expo['id']}").json
    assert again["version"] == expo["version"]
    assert api.act(expo, "approve", user="desk").status_code == 200  # the desk's If-Match is not stale


# Refusals -------------------------------------------------------------------------------------


def test_a_booth_let_twice_is_a_409(api, db, expo):
    assert let(api, expo, 7).status_code == 201
    twice = let(api, expo, 7, user="alice", exhibitor="Someone else")
    assert twice.status_code == 409
    assert twice.json["type"].endswith("/rule/booth-taken")
    assert twice.json["booth"] == 7
    chinese = let(api, expo, 7, headers=ZH)
    assert chinese.json["detail"] == "7 号展位已出租；请先释放。"
    assert booths_in(db) == 1


@pytest.mark.parametrize("booth", [41, 500])
def test_a_booth_number_outside_the_hall_is_a_422(api, db, expo, booth):
    response = let(api, expo, booth)
    assert response.status_code == 422
    assert response.json["type"].endswith("/rule/booth-number")
    assert response.json["booths"] == 40
    assert booths_in(db) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"booth": 0, "exhibitor": "X"},
        {"booth": 501, "exhibitor": "X"},
        {"booth": 1.5, "exhibitor": "X"},
        {"booth": "1", "exhibitor": "X"},
        {"booth": 1},
        {"booth": 1, "exhibitor": "   "},
        {"booth": 1, "exhibitor": "x" * 201},
        {"booth": 1, "exhibitor": "X", "exhibitor_org_id": ""},
        {"booth": 1, "exhibitor": "X", "contact": "x" * 201},
        {"booth": 1, "exhibitor": "X", "stand": "A1"},
        [],
    ],
)
def test_bad_bodies_are_a_422_and_write_nothing(api, db, expo, body):
    response = api.post(f"/reservations/{expo['id']}/booths", body, user="bob")
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert booths_in(db) == 0


def test_an_exhibitor_organisation_must_be_known_to_booking(api, db, expo):
    known = let(api, expo, 1, exhibitor="Tianfu Genomics", exhibitor_org_id=ORG_B)
    assert known.status_code == 201 and known.json["exhibitor_org_id"] == ORG_B
    unknown = let(api, expo, 2, exhibitor_org_id="no-such-organisation")
    assert unknown.status_code == 422
    assert unknown.json["type"].endswith("/rule/unknown-organisation")
    assert let(api, expo, 3, exhibitor="Bank of Chengdu", exhibitor_org_id=BANK).status_code == 201
    assert booths_in(db) == 2


def test_a_space_without_booths_or_a_hall_set_out_otherwise_has_none_to_let(api, db, hall):
    room = factories.SpaceFactory()
    start = at(park_day(5), "10:00")
    meeting = api.book(room.id, start, start + timedelta(hours=1), user="bob").json
    response = let(api, meeting, 1)
    assert response.status_code == 422
    assert response.json["type"].endswith("/rule/no-booths")
    assert api.get(f"/reservations/{meeting['id']}/booths").json | {"space": None, "items": None} == {
        "reservation_id": meeting["id"],
        "space": None,
        "status": "confirmed",
        "status_label": "Confirmed",
        "booths": 0,
        "let_count": 0,
        "free_count": 0,
        "can_let": False,
        "items": None,
    }
    reception = book_hall(api, hall, days_ahead=20, layout="cocktail", attendees=300)
    cocktail = let(api, reception, 1, headers=ZH)
    assert cocktail.status_code == 422
    assert cocktail.json["type"].endswith("/rule/no-booths")
    assert cocktail.json["detail"] == "此预订的场地布局为酒会式，而非展位式。"
    assert booths_in(db) == 0


def test_releasing_a_free_booth_is_a_404_and_a_reservation_that_does_not_exist_too(api, expo):
    assert api.delete(f"/reservations/{expo['id']}/booths/9").status_code == 404
    missing = "00000000-0000-4000-8000-000000000999"
    assert api.get(f"/reservations/{missing}/booths").status_code == 404
    assert let(api, {"id": missing}, 1).status_code == 404


# Idempotency, audit trail, event ----------------------------------------------------------------


def test_an_idempotency_key_replays_the_first_answer(api, db, expo):
    body = {"booth": 12, "exhibitor": "Chengdu Cell Therapeutics"}
    path = f"/reservations/{expo['id']}/booths"
    first = api.post(path, body, user="bob", **{"Idempotency-Key": "booth-12"})
    again = api.post(path, body, user="bob", **{"Idempotency-Key": "booth-12"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    other = api.post(path, {**body, "exhibitor": "Other"}, user="bob", **{"Idempotency-Key": "booth-12"})
    assert other.status_code == 422
    assert booths_in(db) == 1


def test_letting_and_releasing_are_on_the_halls_audit_trail_and_published(api, db, expo):
    let(api, expo, 8, exhibitor="Tianfu Genomics", exhibitor_org_id=ORG_B)
    api.delete(f"/reservations/{expo['id']}/booths/8", user="alice")
    history = api.get(f"/reservations/{expo['id']}/history", headers=ZH).json["items"]
    lines = [(h["action"], h["action_label"], h["from_status"], h["to_status"], h["actor"]) for h in history]
    assert lines[-2:] == [
        ("booth_let", "展位已出租", "pending_approval", "pending_approval", "user:bob"),
        ("booth_released", "展位已释放", "pending_approval", "pending_approval", "user:alice"),
    ]
    assert history[-1]["details"] == {"booth": 8, "exhibitor": "Tianfu Genomics", "exhibitor_org_id": ORG_B}
    events = [e for e in outbox(db) if e["type"] == "booking.reservation.booths_changed"]
    assert [(e["data"]["change"], e["data"]["booth"], e["data"]["booths_let"]) for e in events] == [
        ("let", 8, 1),
        ("released", 8, 0),
    ]
    for event in events:
        validate_event(event["type"], 1, event["data"])
        assert event["data"]["status"] == "pending_approval"
        assert event["data"]["booths"] == 40
        assert event["data"]["reservation_id"] == expo["id"]
        assert event["subject"] == f"reservations/{expo['id']}"


def test_the_seeded_exhibition_hall_has_40_booths(settings, api):
    seed(settings)
    spaces = api.get("/spaces?kind=exhibition_hall", user="bob").json["items"]
    assert [(s["code"], s["booths"]) for s in spaces] == [("exhibition-hall", 40)]
    others = api.get("/spaces?kind=conference_room&page_size=100", user="bob").json["items"]
    assert {s["booths"] for s in others} == {None}


# Racing for one booth, on PostgreSQL -------------------------------------------------------------


@pytest.fixture
def pg(tmp_path, postgres_databases: PostgresDatabases, signing_key) -> Iterator[tuple[Flask, Database, Any]]:
    yield from booking_on_postgres(tmp_path, postgres_databases, signing_key)


@pytest.mark.postgres
def test_sixteen_requests_for_one_booth_let_it_once(pg, signing_key):
    app, database, settings = pg
    space = exhibition_hall()
    start = at(park_day(10), "00:00")

    def call(method: str, path: str, body: Any = None, user: str = "bob") -> Any:
        token = mint(settings, signing_key, USERS[user])
        client = app.test_client()
        return client.open(
            f"/api/v1/booking{path}", method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        )

    booked = call(
        "POST",
        "/reservations",
        {
            "space_id": space.id,
            "start": start.isoformat(),
            "end": (start + timedelta(days=2)).isoformat(),
            "title": "Expo",
            "attendees": 40,
            "layout": "booths",
        },
    )
    assert booked.status_code == 201, booked.json
    path = f"/reservations/{booked.json['id']}/booths"

    def race(n: int) -> int:
        user = ("bob", "alice", "desk", "admin")[n % 4]
        return call("POST", path, {"booth": 21, "exhibitor": f"Exhibitor {n}"}, user=user).status_code  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(pool.map(race, range(16)))
    assert codes == [201] + [409] * 15
    booth_map = call("GET", path).json
    assert booth_map["let_count"] == 1
    taken = call("POST", path, {"booth": 21, "exhibitor": "Late"})
    assert taken.json["type"].endswith("/rule/booth-taken")


@pytest.mark.postgres
def test_a_booth_let_by_a_transaction_not_yet_committed_is_a_409_once_it_commits(pg, signing_key):
    """The check before the insert cannot see another transaction's booth: the unique constraint
    decides, and its violation is the same 409 (not a 500)."""
    app, database, settings = pg
    space = exhibition_hall()
    expo = factories.ReservationFactory(space=space, layout="booths", booked_by="user:bob", minutes=24 * 60)
    token = mint(settings, signing_key, USERS["bob"])
    engine = create_engine(database.url)
    try:
        with engine.connect() as other:
            other.execute(
                text(
                    "INSERT INTO booth_bookings (id, reservation_id, booth, exhibitor, created_by, created_at, version)"
                    " VALUES (:id, :reservation, 5, 'First', 'user:alice', now(), 1)"
                ),
                {"id": str(uuid.uuid4()), "reservation": expo.id},
            )
            # The insert below waits on this transaction's index entry; commit it a moment later.
            timer = threading.Timer(0.5, other.commit)
            timer.start()
            response = app.test_client().post(
                f"/api/v1/booking/reservations/{expo.id}/booths",
                json={"booth": 5, "exhibitor": "Second"},
                headers={"Authorization": f"Bearer {token}"},
            )
            timer.join()
    finally:
        engine.dispose()
    assert response.status_code == 409, response.json
    assert response.json["type"].endswith("/rule/booth-taken")


def test_the_booth_route_takes_the_numbers_a_space_may_have(app) -> None:
    """The route's converter spells out MAX_BOOTHS (so grep finds the path); they must agree."""
    from services.booking.api.schemas.booths import MAX_BOOTHS

    rule = next(r for r in app.url_map.iter_rules() if r.rule.endswith(":booth>"))
    converter = rule._converters["booth"]
    assert (converter.min, converter.max) == (1, MAX_BOOTHS)
