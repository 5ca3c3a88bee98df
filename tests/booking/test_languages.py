"""Booking in the park's two languages, through real HTTP: problems (404, 403, 409, 422 and field
messages), labels beside codes, ``display_name``, the reasons booking gives and the organisation
feed follow ``Accept-Language``; English stays the default; what is stored and published stays
English; codes never change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from services.booking.handlers import expire_unapproved
from tests.booking.conftest import outbox
from tests.booking.factories import ReservationFactory, SpaceFactory

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
PROBLEM = "https://parkhub.tianfu-lifescience.cn/problems/"


def both(call):
    """The same request in Chinese and in English."""
    return call(ZH), call(EN)


def book(api, space_id, start, end, user="alice", headers=ZH, **fields):
    """``api.book`` in a language (its keyword arguments are body fields, not headers)."""
    body = {"space_id": space_id, "start": start.isoformat(), "end": end.isoformat(), "title": "Team meeting"}
    return api.post("/reservations", {**body, "attendees": 6, **fields}, user=user, **headers)


def act(api, reservation, action, user, headers=ZH, **body):
    """``api.act`` in a language."""
    path = f"/reservations/{reservation['id']}/{action}"
    return api.post(path, body or None, user=user, **{"If-Match": f'"{reservation["version"]}"', **headers})


def test_a_404_names_the_reservation_in_either_language(api, db):
    missing = str(uuid.uuid4())
    zh, en = both(lambda h: api.get(f"/reservations/{missing}", headers=h))
    assert (zh.status_code, en.status_code) == (404, 404)
    assert (zh.json["title"], zh.json["detail"]) == ("未找到", f"预订 {missing} 不存在。")
    assert (en.json["title"], en.json["detail"]) == ("Not found", f"There is no reservation {missing}.")
    assert zh.headers["Content-Language"] == "zh-CN"
    assert api.get(f"/reservations/{missing}").json["detail"] == f"There is no reservation {missing}."


def test_a_403_says_who_may(api, db):
    zh, en = both(lambda h: api.get("/reservations?scope=all", user="alice", headers=h))
    assert (zh.status_code, en.status_code) == (403, 403)
    assert zh.json["detail"] == "只有服务台工作人员或园区管理员可以查看所有机构的预订。"
    assert en.json["detail"] == "Only desk staff or park admin may list every organisation's reservations."
    assert zh.json["type"] == en.json["type"] == PROBLEM + "forbidden"


def test_a_broken_rule_carries_its_numbers_in_chinese(api, db, slot):
    space = SpaceFactory(layouts={"round_table": 8})
    start, end = slot(3, "10:00", "11:00")
    body = {"space_id": space.id, "start": start.isoformat(), "end": end.isoformat(), "title": "All hands"}
    zh, en = both(lambda h: api.post("/reservations", {**body, "attendees": 30, "layout": "round_table"}, **h))
    assert (zh.status_code, en.status_code) == (422, 422)
    assert zh.json["type"] == en.json["type"] == PROBLEM + "rule/capacity"
    assert zh.json["detail"] == "此场地在该布局下可容纳 8 人，容纳不下 30 位参会者。"
    assert en.json["detail"] == "This space seats 8 in that layout; 30 attendees do not fit."
    layout = api.post("/reservations", {**body, "attendees": 4, "layout": "banquet"}, **ZH)
    assert layout.json["detail"] == "此场地不提供宴会式布局；可选布局：圆桌式。"
    assert layout.json["layouts"] == ["round_table"]
    assert outbox(db) == []


def test_a_409_names_the_state_by_its_label(api, db, slot):
    space = SpaceFactory()
    start, end = slot(3, "10:00", "11:00")
    booked = api.book(space.id, start, end).json
    assert booked["status"] == "confirmed"
    approve = act(api, booked, "approve", user="desk")
    assert approve.status_code == 409
    assert approve.json["type"] == PROBLEM + "rule/state-transition"
    assert approve.json["detail"] == "只有待审批的预订才能审批通过；此预订的状态为“已确认”。"
    assert approve.json["reservation_status"] == "confirmed"  # codes never change
    taken = book(api, space.id, start, end, user="carol")
    assert (taken.status_code, taken.json["detail"]) == (409, "该场地在此时间段已被占用（含准备和清场时间）。")
    english = act(api, booked, "approve", user="desk", headers={})
    assert english.json["detail"] == "Only a reservation pending approval can be approved; this one is Confirmed."


def test_our_field_messages_speak_chinese(api, db, slot):
    month = api.get("/quotas/usage?month=2026-13", headers=ZH)
    assert month.status_code == 422
    assert month.json["errors"] == {"month": ["月份格式为 YYYY-MM。"]}
    assert api.get("/quotas/usage?month=2026-13").json["errors"] == {"month": ["A month as YYYY-MM."]}
    space = SpaceFactory()
    body = {
        "space_id": space.id,
        "start": "1999-12-01T10:00:00+08:00",
        "end": "1999-12-01T11:00:00+08:00",
        "title": "Old times",
        "attendees": 2,
    }
    zh, en = both(lambda h: api.post("/reservations", body, **h))
    assert zh.json["errors"]["start"] == ["须在 2000-01-01 至 2100-12-31 之间。"]
    assert en.json["errors"]["start"] == ["Must fall between 2000-01-01 and 2100-12-31."]
    whole = api.post("/reservations", {**body, "attendees": True}, **ZH)
    assert whole.json["errors"]["attendees"] == ["不是有效的整数。"]


def test_labels_and_display_names_follow_the_language_and_codes_stay(api, db, slot):
    space = SpaceFactory(name="Round-Table Room", name_zh="圆桌会议室")
    start, end = slot(3, "10:00", "11:00")
    created = book(api, space.id, start, end, layout="round_table").json
    assert (created["status"], created["status_label"]) == ("confirmed", "已确认")
    assert (created["layout"], created["layout_label"]) == ("round_table", "圆桌式")
    assert created["space"]["kind_label"] == "会议室"
    assert created["space"]["display_name"] == "圆桌会议室"
    assert (created["space"]["name"], created["space"]["name_zh"]) == ("Round-Table Room", "圆桌会议室")
    english = api.get(f"/reservations/{created['id']}", headers=EN).json
    assert (english["status_label"], english["layout_label"]) == ("Confirmed", "Round table")
    assert english["space"]["display_name"] == "Round-Table Room"

    shown = api.get(f"/spaces/{space.id}", headers=ZH).json
    assert shown["equipment_labels"] == {"projector": "投影仪", "whiteboard": "白板"}
    assert shown["layout_labels"] == {"round_table": "圆桌式", "classroom": "课桌式"}
    assert shown["weekday_labels"]["monday"] == "星期一"
    assert shown["approval"]["mode_label"] == "无需审批"

    history = api.get(f"/reservations/{created['id']}/history", headers=ZH).json["items"]
    assert [(h["action"], h["action_label"], h["to_status_label"]) for h in history] == [
        ("request", "已提交预订", "已确认")
    ]


def test_a_space_without_a_chinese_name_shows_its_english_one(api, db):
    space = SpaceFactory(name="Pop-up Lab", name_zh="")
    assert api.get(f"/spaces/{space.id}", headers=ZH).json["display_name"] == "Pop-up Lab"


def test_a_refused_series_lists_each_problem_in_the_readers_language(api, db, slot):
    space = SpaceFactory()
    start, end = slot(3, "10:00", "11:00")
    api.book(space.id, start + timedelta(days=7), end + timedelta(days=7), user="carol")
    body = {
        "space_id": space.id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "title": "Weekly",
        "attendees": 4,
        "rrule": "FREQ=WEEKLY;COUNT=3",
    }
    refused = api.post("/series", body, **ZH)
    assert refused.status_code == 409
    assert refused.json["detail"] == "3 个场次中有 1 个无法预订；未做任何更改。"
    [clash] = [o for o in refused.json["occurrences"] if o["problem"]]
    assert clash["problem"]["detail"] == "该场地在此时间段已被占用（含准备和清场时间）。"
    kept = api.post("/series", {**body, "mode": "skip_conflicts"}, **ZH).json
    outcomes = {o["outcome"]: o for o in kept["occurrences"]}
    assert outcomes["conflict"]["outcome_label"] == "冲突"
    assert outcomes["conflict"]["problem"]["detail"] == "该场地在此时间段已被占用（含准备和清场时间）。"
    assert (outcomes["booked"]["outcome_label"], outcomes["booked"]["status_label"]) == ("已预订", "已确认")
    series = api.get(f"/series/{kept['series_id']}", headers=ZH).json
    assert (series["mode_label"], series["status_label"]) == ("跳过冲突场次", "进行中")


def test_booking_own_reasons_are_shown_in_chinese_and_stored_in_english(api, db):
    waiting = ReservationFactory(start=datetime.now(UTC) - timedelta(minutes=1), status="pending_approval")
    with db.unit_of_work() as uow:
        assert expire_unapproved(uow=uow) == 1
        uow.commit()
    zh = api.get(f"/reservations/{waiting.id}", headers=ZH).json
    assert (zh["status_label"], zh["reason"]) == ("已驳回", "开始前未获审批。")
    assert api.get(f"/reservations/{waiting.id}").json["reason"] == "It was not approved before its start."
    assert outbox(db)[-1]["data"]["reason"] == "It was not approved before its start."
    history = api.get(f"/reservations/{waiting.id}/history", headers=ZH).json["items"]
    assert (history[-1]["action_label"], history[-1]["reason"]) == ("未获审批已过期", "开始前未获审批。")


def test_a_persons_reason_is_shown_as_written(api, db, slot):
    space = SpaceFactory(approval_mode="always")
    start, end = slot(3, "10:00", "11:00")
    pending = api.book(space.id, start, end).json
    rejected = act(api, pending, "reject", user="desk", reason="Cancelled")  # a label's text, typed by a person
    assert api.get(f"/reservations/{rejected.json['id']}", headers=ZH).json["reason"] == "Cancelled"


def test_the_organisation_feed_speaks_the_callers_language(api, db, slot):
    space = SpaceFactory(name="Round-Table Room", name_zh="圆桌会议室")
    start, end = slot(3, "10:00", "11:00")
    api.book(space.id, start, end, title="Board", attendees=6)
    url = api.get("/calendars/organisations/mine/feed").json["url"]
    path = url[url.index("/api/") :]

    def event(headers):
        response = api.client.get(path, headers=headers)
        assert response.status_code == 200
        [found] = Calendar.from_ical(response.data).walk("VEVENT")
        return found

    zh, en = event(ZH), event({})
    assert str(zh["summary"]) == "Board · 圆桌会议室"
    assert str(zh["description"]).splitlines()[:2] == ["6 位参会者", "预订人：Alice Wang"]
    assert str(en["summary"]) == "Board · Round-Table Room"
    assert str(en["description"]).splitlines()[:2] == ["6 attendees", "Booked by Alice Wang"]


def test_a_malformed_rrule_names_its_part_in_either_language_never_the_parsers_words(api, db, slot):
    space = SpaceFactory()
    start, end = slot(2)
    body = {"space_id": space.id, "start": start.isoformat(), "end": end.isoformat(), "title": "Stand-up"}
    zh, en = both(lambda h: api.post("/series", {**body, "attendees": 4, "rrule": "FREQ=SOMETIMES;COUNT=3"}, **h))
    assert (zh.status_code, en.status_code) == (422, 422)
    assert zh.json["type"] == en.json["type"] == PROBLEM + "rule/rrule"
    assert zh.json["detail"] == "RRULE 的 FREQ 不能为“SOMETIMES”。"
    assert en.json["detail"] == "The RRULE's FREQ cannot be “SOMETIMES”."
    assert "invalid" not in zh.json["detail"]
