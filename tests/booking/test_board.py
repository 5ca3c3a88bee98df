"""The desk's day board and the gate list over real HTTP: every space of a day or a week with what
is booked on it (organisation in the reader's language, state with its label, buffers, check-in,
booths let), as JSON, CSV (read back with ``csv``) and a printable page; for desk staff and park
admin only; bad input is a 4xx problem. The gateway's edge passes CSV and HTML through."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.booking.models import BoothBooking, Visitor, directory
from shared.clock import PARK_TZ
from tests.booking.conftest import ORG_A, ORG_B, at, park_day
from tests.booking.factories import ALL_DAY, ClosureFactory, ReservationFactory, SpaceFactory, current_session

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
PROBLEM = "https://parkhub.tianfu-lifescience.cn/problems/"
EVERYONE_ELSE = ("alice", "bob", "carol", "dave", "bank")


def name_organisations_in_chinese(db) -> None:
    with db.unit_of_work() as uow:
        for org_id, name_zh in ((ORG_A, "成都细胞治疗"), (ORG_B, "天府基因")):
            uow.session.execute(update(directory).where(directory.c.id == org_id).values(name_zh=name_zh))
        uow.commit()


def let_booths(reservation, count: int) -> None:
    session = current_session()
    for booth in range(1, count + 1):
        session.add(
            BoothBooking(
                id=str(uuid.uuid4()),
                reservation_id=reservation.id,
                booth=booth,
                exhibitor=f"Exhibitor {booth}",
                created_by="user:alice",
                created_at=datetime.now(UTC),
                version=1,
            )
        )
    session.commit()


def visit(reservation, name: str, company: str | None = None, plate: str | None = None, kind: str | None = None):
    session = current_session()
    session.add(Visitor(reservation_id=reservation.id, name=name, company=company, car_plate=plate, plate_kind=kind))
    session.commit()


@pytest.fixture
def day():
    return park_day(3)


@pytest.fixture
def building(db, day):
    """Two buildings: a room and a hall in A1 (the hall with booths and buffers), a court in B2;
    bookings on ``day`` of both tenants, one cancelled, one rejected, one the day after."""
    name_organisations_in_chinese(db)
    room = SpaceFactory(code="a1-room", name="Round-Table Room", name_zh="圆桌会议室", floor="3F")
    hall = SpaceFactory(
        code="a1-hall",
        kind="exhibition_hall",
        name="Exhibition Hall",
        name_zh="展览馆",
        floor="1F",
        capacity=2000,
        layouts={"booths": 2000, "cocktail": 1500},
        setup_minutes=120,
        cleanup_minutes=60,
        booths=40,
    )
    court = SpaceFactory(
        code="b2-court", kind="basketball_court", name="Basketball Court", name_zh="篮球场", building="Phase II · B2"
    )
    empty = SpaceFactory(code="a1-empty", name="Quiet Room", name_zh="静室", floor="2F")
    meeting = ReservationFactory(
        space=room,
        start=at(day, "10:00"),
        minutes=90,
        title="Quarterly review",
        attendees=12,
        layout="round_table",
        note="Tea for twelve",
    )
    fair = ReservationFactory(
        space=hall,
        org_id=ORG_B,
        booked_by="user:carol",
        booked_by_name="Carol Zhang",
        start=at(day, "09:00"),
        minutes=8 * 60,
        title="Biotech fair",
        attendees=800,
        layout="booths",
        status="pending_approval",
    )
    let_booths(fair, 3)
    ReservationFactory(space=room, start=at(day, "14:00"), title="Dropped meeting", status="cancelled")
    ReservationFactory(space=room, start=at(day, "16:00"), title="Refused meeting", status="rejected")
    tomorrow = ReservationFactory(space=court, start=at(day + timedelta(days=1), "18:00"), title="Friday game")
    ClosureFactory(space_id=empty.id, starts_at=at(day, "08:00"), ends_at=at(day, "12:00"), reason="Painting")
    return {
        "room": room,
        "hall": hall,
        "court": court,
        "empty": empty,
        "meeting": meeting,
        "fair": fair,
        "next": tomorrow,
    }


def board(api, day, user="desk", headers=EN, **params):
    query = "&".join(f"{k}={v}" for k, v in {"date": day.isoformat(), **params}.items())
    return api.get(f"/board?{query}", user=user, headers=headers)


def by_code(answer):
    return {space["code"]: space for space in answer["spaces"]}


def test_the_board_lists_every_space_with_its_bookings_of_the_day(api, building, day):
    response = board(api, day)
    assert response.status_code == 200, response.json
    answer = response.json
    assert (answer["from"], answer["to"], answer["days"]) == (day.isoformat(), day.isoformat(), 1)
    spaces = by_code(answer)
    assert list(spaces) == ["a1-hall", "a1-empty", "a1-room", "b2-court"]  # building, floor, code
    assert spaces["a1-empty"]["reservations"] == [] and spaces["b2-court"]["reservations"] == []
    assert spaces["a1-empty"]["closures"][0]["reason"] == "Painting"
    [meeting] = spaces["a1-room"]["reservations"]  # cancelled and rejected ones left the room free
    assert meeting["title"] == "Quarterly review"
    assert meeting["organisation"] == {
        "id": ORG_A,
        "name": "Chengdu Cell Therapeutics",
        "name_zh": "成都细胞治疗",
        "display_name": "Chengdu Cell Therapeutics",
    }
    assert (meeting["status"], meeting["status_label"]) == ("confirmed", "Confirmed")
    assert (meeting["attendees"], meeting["layout"], meeting["layout_label"]) == (12, "round_table", "Round table")
    assert meeting["start"] == at(day, "10:00").isoformat() and meeting["end"] == at(day, "11:30").isoformat()
    assert meeting["note"] == "Tea for twelve"
    assert (meeting["check_in"]["state"], meeting["check_in"]["state_label"]) == ("upcoming", "Check-in not open yet")
    assert meeting["check_in"]["opens_at"] == at(day, "09:45").isoformat()
    [fair] = spaces["a1-hall"]["reservations"]
    assert (fair["status"], fair["check_in"]["state"]) == ("pending_approval", None)
    assert fair["hold"] == {"start": at(day, "07:00").isoformat(), "end": at(day, "18:00").isoformat()}
    assert (fair["setup_minutes"], fair["cleanup_minutes"]) == (120, 60)
    assert (fair["booths_let"], spaces["a1-hall"]["booths"]) == (3, 40)
    assert fair["organisation"]["display_name"] == "Tianfu Genomics"


def test_the_board_answers_in_chinese(api, building, day):
    answer = board(api, day, headers=ZH).json
    spaces = by_code(answer)
    meeting = spaces["a1-room"]["reservations"][0]
    assert meeting["organisation"]["display_name"] == "成都细胞治疗"
    assert meeting["status_label"] == "已确认"
    assert meeting["layout_label"] == "圆桌式"
    assert meeting["check_in"]["state_label"] == "未到签到时间"
    assert spaces["a1-room"]["display_name"] == "圆桌会议室"
    assert spaces["a1-hall"]["reservations"][0]["status_label"] == "待审批"


def test_a_week_a_building_and_a_kind(api, building, day):
    week = by_code(board(api, day, days=7).json)
    assert [r["title"] for r in week["b2-court"]["reservations"]] == ["Friday game"]
    one_building = board(api, day, building="Phase II · B2").json
    assert [s["code"] for s in one_building["spaces"]] == ["b2-court"]
    assert one_building["building"] == "Phase II · B2"
    halls = board(api, day, kind="exhibition_hall").json
    assert [s["code"] for s in halls["spaces"]] == ["a1-hall"]
    assert board(api, day, kind="exhibition_hall", building="Phase II · B2").json["spaces"] == []


def test_a_setup_that_starts_the_evening_before_is_on_that_evenings_board(api, db, day):
    hall = SpaceFactory(opening_hours=ALL_DAY, setup_minutes=12 * 60, cleanup_minutes=0)
    ReservationFactory(space=hall, start=at(day + timedelta(days=1), "08:00"), title="Morning expo")
    [expo] = by_code(board(api, day).json)[hall.code]["reservations"]
    assert expo["hold"]["start"] == at(day, "20:00").isoformat()
    assert expo["start"] == at(day + timedelta(days=1), "08:00").isoformat()


def test_the_check_in_state_is_what_the_desk_needs_now(api, db):
    now = datetime.now(UTC).replace(microsecond=0)

    def booked(title, starts_ago, **fields):
        space = SpaceFactory(code=f"now-{title.lower()}", opening_hours=ALL_DAY)
        return ReservationFactory(space=space, start=now - starts_ago, title=title, minutes=180, **fields)

    booked("Due", timedelta(minutes=5))
    booked("Overdue", timedelta(minutes=40))  # window closed, the no-show job not yet run
    here = booked("Here", timedelta(hours=1), status="checked_in", checked_in_at=now - timedelta(hours=1))
    booked("Gone", timedelta(hours=2), status="no_show")
    booked("Asked", timedelta(minutes=5), status="pending_approval")
    first = (now - timedelta(hours=2)).astimezone(PARK_TZ).date()  # near midnight: two days
    answer = api.get(f"/board?date={first}&days=2", user="admin").json
    states = {r["title"]: r["check_in"] for s in answer["spaces"] for r in s["reservations"]}
    assert states["Due"]["state"] == "due"
    assert states["Overdue"]["state"] == "overdue"
    assert states["Here"]["state"] == "checked_in"
    assert states["Here"]["checked_in_at"] == here.checked_in_at.astimezone(PARK_TZ).isoformat()
    assert states["Gone"]["state"] == "missed"
    assert states["Asked"]["state"] is None and states["Asked"]["state_label"] is None


def test_the_board_defaults_to_today_in_park_time(api, db):
    answer = api.get("/board", user="desk").json
    assert answer["from"] == datetime.now(PARK_TZ).date().isoformat()
    assert answer["timezone"] == "Asia/Shanghai"


@pytest.mark.parametrize("path", ["/board", "/gate"])
def test_only_desk_staff_and_park_admin_read_the_board_and_the_gate_list(api, db, path):
    for user in EVERYONE_ELSE:
        for accept in ("application/json", "text/csv", "text/html"):
            response = api.get(path, user=user, headers={"Accept": accept})
            assert response.status_code == 403, (user, accept)
            assert response.mimetype == "application/problem+json"
    assert api.get(path, user=None).status_code == 401
    assert api.get(f"{path}?format=csv", user="bank").status_code == 403
    for user in ("desk", "admin"):
        assert api.get(path, user=user).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "date=tomorrow",
        "date=2026-02-30",
        "date=1999-12-31",
        "days=0",
        "days=8",
        "days=two",
        "kind=ballroom",
        "format=xml",
        "header=none",
        "building=",
    ],
)
def test_bad_board_queries_are_problems(api, db, query):
    response = api.get(f"/board?{query}", user="desk")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_an_unknown_parameter_is_refused(api, db):
    assert api.get("/board?space=1", user="desk").status_code == 400
    assert api.get("/gate?days=2", user="desk").status_code == 400


def read_csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # Excel opens Chinese right
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_board_as_csv_in_both_languages(api, building, day):
    by_format = board(api, day, format="csv")
    by_accept = board(api, day, headers={"Accept": "text/csv", **EN})
    assert read_csv(by_format) == read_csv(by_accept)
    for response in (by_format, by_accept, board(api, day), board(api, day, format="html")):
        assert {"Accept", "Accept-Language"} <= set(response.vary), response.vary  # caches key on both
    assert f'filename="board-{day}.csv"' in by_format.headers["Content-Disposition"]
    head, *rows = read_csv(by_format)
    assert head[:6] == ["Building", "Floor", "Space code", "Space", "Kind", "Reservation"]
    table = [dict(zip(head, row, strict=True)) for row in rows]
    assert [r["Space code"] for r in table] == ["a1-hall", "a1-empty", "a1-room", "b2-court"]  # empty spaces too
    hall, empty, room, _court = table
    assert empty["Reservation"] == "" and empty["Space"] == "Quiet Room"
    assert (room["Title"], room["Organisation"], room["Status"], room["Status code"]) == (
        "Quarterly review",
        "Chengdu Cell Therapeutics",
        "Confirmed",
        "confirmed",
    )
    assert (room["Start"], room["End"]) == (f"{day} 10:00", f"{day} 11:30")
    assert (hall["Setup from"], hall["Cleanup until"], hall["Booths let"]) == (f"{day} 07:00", f"{day} 18:00", "3")

    head_zh, *rows_zh = read_csv(board(api, day, format="csv", headers=ZH))
    assert head_zh[:5] == ["楼宇", "楼层", "场地编号", "场地", "类型"]
    room_zh = dict(zip(head_zh, rows_zh[2], strict=True))
    assert (room_zh["机构"], room_zh["场地"], room_zh["状态"]) == ("成都细胞治疗", "圆桌会议室", "已确认")

    keys, *_rows = read_csv(board(api, day, format="csv", header="keys", headers=ZH))
    assert keys[:6] == ["building", "floor", "space_code", "space", "kind", "reservation_id"]
    assert "booths_let" in keys and "status_label" in keys


def without_time_of_printing(page: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "", page)


def test_the_board_as_a_printable_page(api, building, day):
    by_format = board(api, day, format="html")
    by_accept = board(api, day, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", **EN})
    assert by_format.status_code == by_accept.status_code == 200
    assert by_format.mimetype == by_accept.mimetype == "text/html"
    page = by_format.get_data(as_text=True)
    assert without_time_of_printing(page) == without_time_of_printing(by_accept.get_data(as_text=True))
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "@page { size: A4;" in page
    assert "<script" not in page and "src=" not in page and "<link" not in page  # self-contained
    assert f"Day board of {day}" in page
    assert page.index("Phase I · Building A1") < page.index("Phase II · B2")  # grouped by building
    assert page.index("Exhibition Hall") < page.index("Quiet Room") < page.index("Round-Table Room")
    assert "Quarterly review" in page and "Chengdu Cell Therapeutics" in page and "Biotech fair" in page
    assert "10:00–11:30" in page and "Booths let: 3 of 40" in page and "Closed 08:00–12:00: Painting" in page
    assert "Nothing booked." in page
    assert "Dropped meeting" not in page

    zh = board(api, day, format="html", headers=ZH).get_data(as_text=True)
    assert '<html lang="zh-CN">' in zh
    assert f"{day} 日程看板" in zh
    assert "成都细胞治疗" in zh and "圆桌会议室" in zh and "已确认" in zh and "暂无预订。" in zh


def test_the_page_escapes_what_people_typed(api, db, day):
    room = SpaceFactory()
    ReservationFactory(space=room, start=at(day, "10:00"), title="<script>alert(1)</script> & co")
    page = board(api, day, format="html").get_data(as_text=True)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


@pytest.fixture
def visitors(db, building, day):
    visit(building["meeting"], "Dr. Müller", "Roche", "川A12345", "mainland")
    visit(building["meeting"], "Anna Lee", None)
    visit(building["fair"], "Wong Ka-ho", "HK Biotech", "AB 1234", "other")
    later = ReservationFactory(space=building["room"], start=at(day, "15:00"), title="Partner visit")
    visit(later, "Zhou Min", "Sichuan Pharma", "川AD12345", "mainland")
    dropped = ReservationFactory(space=building["room"], start=at(day, "17:00"), status="cancelled", title="Off")
    visit(dropped, "Nobody Comes", None, "川A99999", "mainland")
    done = ReservationFactory(space=building["court"], start=at(day, "08:00"), status="completed", title="Early game")
    visit(done, "Already Gone", None, "川A88888", "mainland")
    visit(building["next"], "Tomorrow Person", None, "川A77777", "mainland")
    return later


def test_the_gate_list_names_visitors_and_plates_of_the_day(api, visitors, day):
    response = api.get(f"/gate?date={day}", user="desk", headers=EN)
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["date"] == day.isoformat()
    names = [v["name"] for v in answer["visitors"]]
    assert names == ["Wong Ka-ho", "Anna Lee", "Dr. Müller", "Zhou Min"]  # by arrival, then name
    assert answer["cars"] == 3
    wong, anna, muller, _zhou = answer["visitors"]
    assert (muller["car_plate"], muller["plate_kind"], muller["plate_kind_label"]) == (
        "川A12345",
        "mainland",
        "Mainland China plate",
    )
    assert (anna["car_plate"], anna["plate_kind"], anna["plate_kind_label"]) == (None, None, None)
    assert wong["plate_kind"] == "other"
    assert muller["reservation"]["title"] == "Quarterly review"
    assert muller["reservation"]["start"] == at(day, "10:00").isoformat()
    assert muller["space"]["code"] == "a1-room"
    assert muller["organisation"]["display_name"] == "Chengdu Cell Therapeutics"
    assert wong["reservation"]["status"] == "pending_approval"  # a request holds the hall too

    zh = api.get(f"/gate?date={day}", user="admin", headers=ZH).json
    assert zh["visitors"][2]["plate_kind_label"] == "中国大陆号牌"
    assert zh["visitors"][2]["organisation"]["display_name"] == "成都细胞治疗"


def test_the_gate_list_as_csv_and_as_a_page(api, visitors, day):
    head, *rows = read_csv(api.get(f"/gate?date={day}&format=csv", user="desk", headers=EN))
    table = [dict(zip(head, row, strict=True)) for row in rows]
    assert [(r["Visitor"], r["Car plate"]) for r in table] == [
        ("Wong Ka-ho", "AB 1234"),
        ("Anna Lee", ""),
        ("Dr. Müller", "川A12345"),
        ("Zhou Min", "川AD12345"),
    ]
    assert table[2]["Start"] == f"{day} 10:00" and table[2]["Space"] == "Round-Table Room"
    head_zh, *_ = read_csv(api.get(f"/gate?date={day}", user="desk", headers={"Accept": "text/csv", **ZH}))
    assert head_zh[:5] == ["开始", "结束", "访客", "单位", "车牌"]

    page = api.get(f"/gate?date={day}", user="desk", headers={"Accept": "text/html", **ZH}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "@page { size: A4;" in page
    assert f"{day} 门岗访客名单" in page
    assert "川A12345" in page and "Dr. Müller" in page and "成都细胞治疗" in page
    assert "Nobody Comes" not in page and "Tomorrow Person" not in page
    empty = api.get(f"/gate?date={day + timedelta(days=30)}&format=html", user="desk", headers=EN)
    assert "No visitors expected." in empty.get_data(as_text=True)


def test_the_edge_passes_csv_and_html_through(park):
    """Through the gateway's embedded edge, as the desk's browser or Excel reaches it."""
    csv_answer = park.as_user("desk", "GET", "/api/v1/booking/board", headers={"Accept": "text/csv"})
    assert csv_answer.status_code == 200, csv_answer.get_data(as_text=True)
    assert csv_answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_answer.get_data().startswith("\ufeff".encode())
    page = park.as_user("desk", "GET", "/api/v1/booking/gate", headers={"Accept": "text/html", "Accept-Language": "zh"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="zh-CN">' in page.get_data(as_text=True)
    assert park.as_user("desk", "GET", "/api/v1/booking/board").json["timezone"] == "Asia/Shanghai"
    refused = park.as_user("alice", "GET", "/api/v1/booking/board", headers={"Accept": "text/csv"})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
