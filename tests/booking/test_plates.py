"""Visitors' car plates: mainland plates checked and spelled one way, other plates only as an
explicit kind; the pure rule (with generated plates) and the API (create, PUT visitors, series)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.booking.rules.plates import (
    LETTERS,
    MAINLAND,
    NEW_ENERGY_LARGE,
    NEW_ENERGY_SMALL,
    OTHER,
    PROVINCES,
    SUFFIXES,
    car_plate,
    normalised,
    unchecked_plate,
)
from shared.errors import RuleViolation
from tests.booking.conftest import outbox
from tests.booking.factories import SpaceFactory

PROBLEM = "https://parkhub.tianfu-lifescience.cn/problems/"
ZH = {"Accept-Language": "zh-CN"}

# The rule --------------------------------------------------------------------------------------

provinces = st.sampled_from(PROVINCES)
letters = st.sampled_from(LETTERS)
digits = st.sampled_from("0123456789")
serial = st.sampled_from(LETTERS + "0123456789")


def joined(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


ordinary = joined(provinces, letters, *[serial] * 5)
with_suffix = joined(provinces, letters, *[serial] * 4, st.sampled_from(SUFFIXES))
small_new_energy = joined(provinces, letters, st.sampled_from(NEW_ENERGY_SMALL), serial, *[digits] * 4)
large_new_energy = joined(provinces, letters, *[digits] * 5, st.sampled_from(NEW_ENERGY_LARGE))
cross_border = joined(st.just("粤Z"), *[serial] * 4, st.sampled_from("港澳"))
mainland_plates = st.one_of(ordinary, with_suffix, small_new_energy, large_new_energy, cross_border)


@given(mainland_plates)
def test_every_mainland_plate_is_accepted_as_spelled(plate):
    checked = car_plate(plate)
    assert (checked.text, checked.kind) == (plate, MAINLAND)
    assert car_plate(plate, MAINLAND) == checked


@given(mainland_plates, st.data())
def test_spaces_dots_and_case_do_not_matter(plate, data):
    separators = st.sampled_from([" ", "·", "  ", "-", "\u3000", "•"])
    written = "".join(
        (c.lower() if data.draw(st.booleans()) else c) + (data.draw(separators) if data.draw(st.booleans()) else "")
        for c in plate
    )
    assert car_plate(written).text == plate
    assert normalised(normalised(written)) == normalised(written)


@given(mainland_plates)
def test_full_width_letters_and_digits_are_made_half_width(plate):
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isascii() else c for c in plate)
    assert car_plate(wide).text == plate


@given(mainland_plates, st.sampled_from("IO"), st.data())
def test_i_and_o_are_never_on_a_mainland_plate(plate, letter, data):
    position = data.draw(st.integers(min_value=1, max_value=len(plate) - 1))
    spoiled = plate[:position] + letter + plate[position + 1 :]
    with pytest.raises(RuleViolation) as refused:
        car_plate(spoiled)
    assert refused.value.code == "rule/car-plate"


@given(st.text(min_size=1, max_size=20))
def test_any_text_is_a_plate_or_a_car_plate_problem(text):
    try:
        checked = car_plate(text)
    except RuleViolation as refused:
        assert refused.code == "rule/car-plate"
    else:
        assert checked.kind == MAINLAND and 7 <= len(checked.text) <= 8


@pytest.mark.parametrize(
    "plate",
    [
        "not a plate !!!",
        "川",
        "川A1234",  # one short
        "川A123456",  # six digits is neither ordinary nor new-energy
        "川AX12345",  # X is no new-energy letter
        "川A1234Z5",
        "川A12345X",  # a large new-energy plate ends in D or F
        "川A1234港",  # cross-border plates are Guangdong's
        "粤A1234港",
        "AB1234",
        "VA·12345",  # military: kind other
        "使014578",  # embassy: kind other
        "川A1234应急",  # emergency: kind other
    ],
)
def test_what_is_not_a_mainland_plate(plate):
    with pytest.raises(RuleViolation) as refused:
        car_plate(plate)
    assert refused.value.code == "rule/car-plate"
    assert "plate_kind" in str(refused.value.detail)


@pytest.mark.parametrize(
    ("given_plate", "kept"),
    [
        ("AB 1234", "AB 1234"),  # Hong Kong
        ("ma-12-34", "MA-12-34"),  # Macao
        ("VA·12345", "VA·12345"),  # military
        ("使014578", "使014578"),
        ("  W  123  ", "W 123"),
        ("ＧＢ ５", "GB 5"),
    ],
)
def test_other_plates_are_kept_as_given(given_plate, kept):
    assert car_plate(given_plate, OTHER).text == kept
    assert car_plate(given_plate, OTHER).kind == OTHER


@pytest.mark.parametrize("plate", ["A", "-", "not a plate !!!", "X" * 17, "AB_12", "AB/12", "🚗🚗"])
def test_other_plates_are_still_plausible_text(plate):
    with pytest.raises(RuleViolation) as refused:
        car_plate(plate, OTHER)
    assert refused.value.code == "rule/car-plate"


def test_a_plate_that_came_unchecked_is_mainland_when_it_is_one():
    assert unchecked_plate(" 川a 12345 ") == car_plate("川A12345")
    assert (unchecked_plate(" AB 1234 ").text, unchecked_plate("AB 1234").kind) == ("AB 1234", OTHER)


# Over HTTP -------------------------------------------------------------------------------------


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return str(response.json["type"]).removeprefix(PROBLEM)


@pytest.mark.parametrize("user", ["alice", "bob", "desk", "admin"])
def test_a_booking_spells_the_plate_and_answers_its_kind(api, db, slot, user):
    space = SpaceFactory()
    start, end = slot(3)
    visitors = [
        {"name": "Dr. Müller", "company": "Roche", "car_plate": "川a·123 45"},
        {"name": "Ms. Chan", "car_plate": "ab 1234", "plate_kind": "other"},
        {"name": "Walker"},
    ]
    extra = {"organisation_id": "00000000-0000-4000-8000-00000000000a"} if user in ("desk", "admin") else {}
    response = api.book(space.id, start, end, user=user, visitors=visitors, **extra)
    assert response.status_code == 201, response.json
    assert response.json["visitors"] == [
        {
            "name": "Dr. Müller",
            "company": "Roche",
            "car_plate": "川A12345",
            "plate_kind": "mainland",
            "plate_kind_label": "Mainland China plate",
        },
        {
            "name": "Ms. Chan",
            "company": None,
            "car_plate": "AB 1234",
            "plate_kind": "other",
            "plate_kind_label": "Other plate (foreign, Hong Kong, Macao, …)",
        },
        {"name": "Walker", "company": None, "car_plate": None, "plate_kind": None, "plate_kind_label": None},
    ]
    [event] = outbox(db)
    assert [v["car_plate"] for v in event["data"]["visitors"]] == ["川A12345", "AB 1234", None]


def test_a_plate_that_is_not_a_mainland_plate_is_a_problem_naming_the_field(api, db, slot):
    space = SpaceFactory()
    start, end = slot(3)
    visitors = [{"name": "Fake", "car_plate": "not a plate !!!"}]
    en = api.book(space.id, start, end, visitors=visitors)
    zh = api.client.post(
        "/api/v1/booking/reservations",
        json={
            "space_id": space.id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "title": "Team meeting",
            "attendees": 6,
            "visitors": visitors,
        },
        headers=api.headers("alice", **ZH),
    )
    assert (en.status_code, zh.status_code) == (422, 422)
    assert problem_type(en) == problem_type(zh)
    [en_text] = en.json["errors"]["visitors"]["0"]["car_plate"]
    [zh_text] = zh.json["errors"]["visitors"]["0"]["car_plate"]
    assert en_text.startswith("“not a plate !!!” is not a mainland China plate")
    assert "plate_kind" in en_text and "other" in en_text
    assert zh_text.startswith("“not a plate !!!”不是中国大陆号牌")
    assert outbox(db) == []
    assert api.get("/reservations").json["total"] == 0


def test_the_other_kind_still_refuses_what_is_no_plate(api, db, slot):
    space = SpaceFactory()
    start, end = slot(3)
    refused = api.book(
        space.id, start, end, visitors=[{"name": "X", "car_plate": "not a plate !!!", "plate_kind": "other"}]
    )
    assert refused.status_code == 422
    assert "car_plate" in refused.json["errors"]["visitors"]["0"]
    unknown = api.book(space.id, start, end, visitors=[{"name": "X", "car_plate": "川A12345", "plate_kind": "alien"}])
    assert unknown.status_code == 422
    assert "plate_kind" in unknown.json["errors"]["visitors"]["0"]


def test_put_visitors_checks_and_spells_plates(api, db, slot):
    space = SpaceFactory()
    start, end = slot(3)
    booked = api.book(space.id, start, end, user="bob").json
    etag = {"If-Match": f'"{booked["version"]}"'}
    bad = api.put(
        f"/reservations/{booked['id']}/visitors", {"visitors": [{"name": "A", "car_plate": "川I12345"}]}, **etag
    )
    assert bad.status_code == 422
    assert "car_plate" in bad.json["errors"]["visitors"]["0"]
    good = api.put(
        f"/reservations/{booked['id']}/visitors",
        {
            "visitors": [
                {"name": "A", "car_plate": "京 N8P3Q2"},
                {"name": "B", "car_plate": "WJ·12345", "plate_kind": "other"},
            ]
        },
        user="bob",
        **etag,
    )
    assert good.status_code == 200, good.json
    assert [(v["car_plate"], v["plate_kind"]) for v in good.json["visitors"]] == [
        ("京N8P3Q2", "mainland"),
        ("WJ·12345", "other"),
    ]
    again = api.get(f"/reservations/{booked['id']}", headers=ZH).json
    assert [v["plate_kind_label"] for v in again["visitors"]] == ["中国大陆号牌", "其他号牌（外国、港澳等）"]


def test_events_say_the_kind_of_each_plate(api, db, slot):
    """A consumer (visitor parking, the gate) reads the plate's kind beside it, as the API shows
    it: booking, replacing the visitors and editing them all publish it."""
    start, end = slot(3)
    visitors = [
        {"name": "A", "car_plate": "川a·123 45"},
        {"name": "B", "car_plate": "WJ·12345", "plate_kind": "other"},
        {"name": "C"},
    ]
    booked = api.book(SpaceFactory().id, start, end, visitors=visitors).json
    kinds = [("川A12345", "mainland"), ("WJ·12345", "other"), (None, None)]
    [confirmed] = outbox(db)
    assert [(v["car_plate"], v["plate_kind"]) for v in confirmed["data"]["visitors"]] == kinds
    etag = {"If-Match": f'"{booked["version"]}"'}
    replaced = api.put(f"/reservations/{booked['id']}/visitors", {"visitors": visitors[1:]}, **etag)
    assert replaced.status_code == 200, replaced.json
    assert [(v["car_plate"], v["plate_kind"]) for v in outbox(db)[-1]["data"]["visitors"]] == kinds[1:]
    etag = {"If-Match": f'"{replaced.json["version"]}"'}
    edited = api.patch(f"/reservations/{booked['id']}", {"visitors": visitors[:1]}, user="alice", **etag)
    assert edited.status_code == 200, edited.json
    assert {e["type"] for e in outbox(db)[-2:]} == {
        "booking.reservation.changed",
        "booking.reservation.visitors_changed",
    }
    for event in outbox(db)[-2:]:
        assert [(v["car_plate"], v["plate_kind"]) for v in event["data"]["visitors"]] == kinds[:1]


def test_the_contract_refuses_a_kind_of_plate_it_does_not_know(db):
    from shared.events import ContractViolation

    visitor = {"name": "A", "car_plate": "川A12345", "plate_kind": "mainland"}
    with db.unit_of_work() as uow:
        uow.publish("booking.room_hold.requested", _hold_request(visitors=[visitor]), subject="x", orgid="o")
        with pytest.raises(ContractViolation):
            martian = {**visitor, "plate_kind": "martian"}
            uow.publish("booking.room_hold.requested", _hold_request(visitors=[martian]), subject="x", orgid="o")


def _hold_request(**fields):
    return {
        "request_id": "r-1",
        "requester": "consulting",
        "org_id": "o",
        "requested_by": "user:alice",
        "title": "Meeting",
        "starts_at": "2026-12-01T02:00:00Z",
        "ends_at": "2026-12-01T03:00:00Z",
        "attendees": 2,
        **fields,
    }


@pytest.mark.parametrize(("user", "status"), [("carol", 404), ("dave", 404), ("bank", 403)])
def test_others_cannot_put_visitors(api, db, slot, user, status):
    space = SpaceFactory()
    start, end = slot(3)
    booked = api.book(space.id, start, end).json
    body = {"visitors": [{"name": "A", "car_plate": "川A12345"}]}
    response = api.put(f"/reservations/{booked['id']}/visitors", body, user=user, **{"If-Match": '"1"'})
    assert response.status_code == status


def test_a_partner_cannot_book_visitors_in(api, db, slot):
    space = SpaceFactory()
    start, end = slot(3)
    assert (
        api.book(space.id, start, end, user="bank", visitors=[{"name": "A", "car_plate": "川A12345"}]).status_code
        == 403
    )


def test_a_series_checks_plates_too(api, db, slot):
    space = SpaceFactory()
    start, end = slot(3)
    body = {
        "space_id": space.id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "title": "Weekly",
        "attendees": 4,
        "rrule": "FREQ=WEEKLY;COUNT=2",
        "visitors": [{"name": "A", "car_plate": "nope"}],
    }
    assert api.post("/series", body).status_code == 422
    body["visitors"] = [{"name": "A", "car_plate": "川a 12345"}]
    created = api.post("/series", body)
    assert created.status_code == 201, created.json
    first = api.get(f"/reservations/{created.json['occurrences'][0]['reservation_id']}").json
    assert first["visitors"][0]["car_plate"] == "川A12345"


def test_plates_of_a_room_hold_are_spelled_and_given_a_kind(settings, db, api):
    from tests.booking.test_events_and_jobs import deliver, hold_request

    SpaceFactory(capacity=10)
    visitors = [
        {"name": "Attorney Liu", "company": "Sichuan IP Law Firm", "car_plate": "川a 66666"},
        {"name": "Mr. Wong", "company": None, "car_plate": "HK 1234"},
    ]
    assert deliver(settings, hold_request(visitors=visitors)).value == "handled"
    [answer] = outbox(db)
    reservation = api.get(f"/reservations/{answer['data']['reservation_id']}").json
    assert [(v["car_plate"], v["plate_kind"]) for v in reservation["visitors"]] == [
        ("川A66666", "mainland"),
        ("HK 1234", "other"),
    ]
