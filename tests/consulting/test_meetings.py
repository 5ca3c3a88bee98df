"""Meetings on a case over HTTP: asking (who may, on which cases, with which times), booking's
answers on the bus moving the meeting (never backwards), cancelling, the case's cancellation
releasing the rooms, the no-answer job and staff's retry. Every event of a meeting carries the
correlation id of the request that asked for it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.consulting.handlers.meetings import mark_unanswered
from services.consulting.worker import participant
from tests.booking.conftest import ORG_A
from tests.consulting.test_cases_support import case_in, done
from tests.consulting.test_meetings_support import (
    ROOM,
    act,
    answer,
    ask,
    asked,
    holds,
    meeting_in,
    read,
    soon,
)


@pytest.fixture
def case(api):
    return case_in(api, "assigned")


def count_meetings(api, case, user="desk"):
    return len(api.get(f"/cases/{case['id']}/meetings", user=user).json["items"])


# Asking ------------------------------------------------------------------------------------------


def test_asking_publishes_a_room_hold_under_the_request_s_correlation_id(api, db, case):
    body = meeting_in(attendees=8, layout="round_table", equipment=["projector"], note="Bring the annex.")
    response = api.post(f"/cases/{case['id']}/meetings", body, user="alice", **{"X-Request-ID": "saga-1"})
    assert response.status_code == 201, response.json
    meeting = response.json
    assert response.headers["Location"] == f"/api/v1/consulting/cases/{case['id']}/meetings/{meeting['id']}"
    assert response.headers["ETag"] == f'"{meeting["version"]}"'
    assert (meeting["status"], meeting["status_label"], meeting["alternatives"]) == (
        "requested",
        "Room requested",
        [],
    )
    assert (meeting["space_kind"], meeting["layout"], meeting["equipment"]) == (
        "conference_room",
        "round_table",
        ["projector"],
    )
    [hold] = holds(db)
    assert hold["correlationid"] == "saga-1"
    data = hold["data"]
    assert (data["requester"], data["org_id"], data["requested_by"], data["request_id"]) == (
        "consulting",
        ORG_A,
        "user:alice",
        meeting["request_id"],
    )
    assert (data["attendees"], data["layout"], data["equipment"], data["space_kind"]) == (
        8,
        "round_table",
        ["projector"],
        "conference_room",
    )
    assert data["starts_at"].endswith("Z")
    assert read(api, meeting, "lawyer")["id"] == meeting["id"]
    assert [m["id"] for m in api.get(f"/cases/{case['id']}/meetings", user="bob").json["items"]] == [meeting["id"]]


def test_an_idempotency_key_asks_once(api, db, case):
    body = meeting_in()
    first = api.post(f"/cases/{case['id']}/meetings", body, user="alice", **{"Idempotency-Key": "m-1"})
    again = api.post(f"/cases/{case['id']}/meetings", body, user="alice", **{"Idempotency-Key": "m-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    assert len(holds(db)) == 1


@pytest.mark.parametrize(("user", "status"), [("bob", 201), ("lawyer", 201), ("lawyer2", 201), ("alice", 201)])
def test_the_tenant_side_and_the_firm_assigned_may_ask(api, case, user, status):
    assert ask(api, case, user).status_code == status


@pytest.mark.parametrize(("user", "status"), [("desk", 403), ("admin", 403), ("carol", 404), ("lawyer3", 404)])
def test_others_may_not_ask_and_nothing_is_published(api, db, case, user, status):
    response = ask(api, case, user)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert holds(db) == [] and count_meetings(api, case) == 0


@pytest.mark.parametrize("status", ["submitted", "triaged", "solution_proposed", "closed", "cancelled"])
def test_a_case_without_a_firm_at_work_takes_no_meeting(api, db, status):
    case = case_in(api, status)
    response = ask(api, case, "bob")
    assert response.status_code == 409
    assert response.json["type"].endswith("/rule/state-transition")
    assert "assigned" in response.json["detail"].lower() or "firm" in response.json["detail"].lower()
    assert holds(db) == []


def test_the_state_refusal_is_in_the_reader_s_language(api):
    case = case_in(api, "submitted")
    response = ask(api, case, "bob", **{"Accept-Language": "zh"})
    assert response.status_code == 409
    assert response.headers["Content-Language"] == "zh-CN"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (meeting_in(start=soon(-2)), "rule/in-the-past"),
        (meeting_in(start=soon(), end=soon() - timedelta(hours=1)), "rule/end-after-start"),
        (meeting_in(start=soon(), end=soon(57)), "rule/meeting-too-long"),
        (meeting_in(attendees=0), "validation-failed"),
        (meeting_in(attendees=201), "validation-failed"),
        (meeting_in(attendees=2.5), "validation-failed"),
        (meeting_in(space_kind="swimming_pool"), "validation-failed"),
        (meeting_in(title=" "), "validation-failed"),
        ({**meeting_in(), "starts_at": "2030-01-01T10:00:00"}, "validation-failed"),
        ({**meeting_in(), "colour": "red"}, "validation-failed"),
    ],
)
def test_bad_input_is_a_422_and_changes_nothing(api, db, case, body, code):
    response = ask(api, case, "alice", body)
    assert response.status_code == 422, response.json
    assert response.json["type"].endswith(code)
    assert holds(db) == [] and count_meetings(api, case) == 0


# Booking's answers -------------------------------------------------------------------------------


def test_a_confirmation_shows_the_room_in_the_reader_s_language(api, settings, case):
    meeting = asked(api, case)
    assert answer(settings, meeting["request_id"], "confirmed", meeting=meeting, reservation_id=ROOM_RES) == "handled"
    shown = read(api, meeting)
    assert (shown["status"], shown["reservation_id"], shown["space_display_name"]) == (
        "confirmed",
        ROOM_RES,
        "Meeting Room 3A",
    )
    assert shown["answered_at"] is not None and shown["version"] > meeting["version"]
    zh = read(api, meeting, **{"Accept-Language": "zh"})
    assert zh["space_display_name"] == "3A会议室"


ROOM_RES = "00000000-0000-4000-8000-0000000005b1"


def test_answers_never_move_a_meeting_backwards(api, settings, case):
    meeting = asked(api, case)
    answer(settings, meeting["request_id"], "requested", meeting=meeting, reservation_id=ROOM_RES)
    assert read(api, meeting)["status"] == "pending_approval"
    answer(settings, meeting["request_id"], "confirmed", meeting=meeting, reservation_id=ROOM_RES)
    answer(settings, meeting["request_id"], "requested", meeting=meeting, reservation_id=ROOM_RES)  # late
    answer(settings, meeting["request_id"], "rejected", meeting=meeting, rule="rule/no-double-booking")  # stray
    assert read(api, meeting)["status"] == "confirmed"
    answer(settings, meeting["request_id"], "cancelled", meeting=meeting, reservation_id=ROOM_RES, reason="Flood.")
    answer(settings, meeting["request_id"], "confirmed", meeting=meeting, reservation_id=ROOM_RES)  # late
    shown = read(api, meeting)
    assert (shown["status"], shown["reason"]) == ("cancelled", "Flood.")


def test_a_reschedule_moves_the_meeting_s_times(api, settings, case):
    meeting = asked(api, case)
    answer(settings, meeting["request_id"], "confirmed", meeting=meeting, reservation_id=ROOM_RES)
    later = {**meeting, "starts_at": soon(72).isoformat(), "ends_at": soon(73).isoformat()}
    answer(settings, meeting["request_id"], "rescheduled", meeting=later, reservation_id=ROOM_RES)
    shown = read(api, meeting)
    assert shown["status"] == "confirmed"
    assert datetime.fromisoformat(shown["starts_at"]) == soon(72)
    assert datetime.fromisoformat(shown["ends_at"]) == soon(73)


def test_an_answer_to_no_meeting_of_ours_is_ignored(api, settings, case):
    meeting = asked(api, case)
    assert answer(settings, "somebody-else-s", "confirmed") == "handled"
    assert answer(settings, None, "confirmed") == "handled"  # a booking of a person, no request
    assert read(api, meeting)["status"] == "requested"


def test_a_refusal_shows_the_rule_and_the_alternatives_in_both_languages(api, settings, case):
    meeting = asked(api, case)
    start = soon(50)
    alternative = {
        "space_id": ROOM,
        "space_name": "Meeting Room 3B",
        "space_name_zh": "3B会议室",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
    }
    answer(
        settings,
        meeting["request_id"],
        "rejected",
        meeting=meeting,
        rule="rule/no-double-booking",
        reason="The slot is taken.",
        alternatives=[alternative],
    )
    shown = read(api, meeting)
    assert (shown["status"], shown["rule"], shown["reason"]) == (
        "rejected",
        "rule/no-double-booking",
        "The slot is taken.",
    )
    [offered] = shown["alternatives"]
    assert offered["space_display_name"] == "Meeting Room 3B"
    assert offered["starts_at"] == start.astimezone(offered_tz(shown)).isoformat()
    zh = read(api, meeting, **{"Accept-Language": "zh"})
    assert zh["alternatives"][0]["space_display_name"] == "3B会议室"


def offered_tz(shown):
    return datetime.fromisoformat(shown["starts_at"]).tzinfo


# Cancelling --------------------------------------------------------------------------------------


def test_cancelling_releases_the_room_in_the_meeting_s_saga(api, db, settings, case):
    meeting = asked(api, case, "lawyer", **{"X-Request-ID": "saga-2"})
    answer(settings, meeting["request_id"], "confirmed", meeting=meeting, reservation_id=ROOM_RES)
    meeting = read(api, meeting)
    assert act(api, meeting, "cancel", "bob").status_code == 403  # neither who asked nor an admin
    assert api.post(f"/cases/{case['id']}/meetings/{meeting['id']}/cancel", None, user="lawyer").status_code == 428
    assert act(api, {**meeting, "version": 99}, "cancel", "lawyer").status_code == 412
    assert holds(db, "released") == []
    response = act(api, meeting, "cancel", "lawyer", {"reason": "We met online."}, **{"X-Request-ID": "other"})
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["reason"]) == ("cancelled", "We met online.")
    [released] = holds(db, "released")
    assert released["correlationid"] == "saga-2"
    assert released["data"] == {
        "request_id": meeting["request_id"],
        "requester": "consulting",
        "reason": "We met online.",
    }
    again = act(api, response.json, "cancel", "lawyer")
    assert again.status_code == 409 and len(holds(db, "released")) == 1


@pytest.mark.parametrize(("user", "status"), [("alice", 200), ("desk", 200), ("lawyer2", 403), ("carol", 404)])
def test_who_may_cancel_a_meeting_someone_else_asked_for(api, case, user, status):
    meeting = asked(api, case, "lawyer")
    assert act(api, meeting, "cancel", user).status_code == status


def test_cancelling_the_case_releases_every_held_room(api, db, settings, case):
    confirmed = asked(api, case, **{"X-Request-ID": "saga-a"})
    waiting = asked(api, case, "lawyer", **{"X-Request-ID": "saga-b"})
    refused = asked(api, case, "bob")
    answer(settings, confirmed["request_id"], "confirmed", meeting=confirmed, reservation_id=ROOM_RES)
    answer(settings, refused["request_id"], "rejected", meeting=refused, rule="rule/no-space-fits")
    case = api.get(f"/cases/{case['id']}", user="alice").json
    done(api, case, "cancel", "alice", {"reason": "No longer needed."})
    released = holds(db, "released")
    assert sorted((e["data"]["request_id"], e["correlationid"]) for e in released) == sorted(
        [(confirmed["request_id"], "saga-a"), (waiting["request_id"], "saga-b")]
    )
    assert {e["data"]["reason"] for e in released} == {"The case was cancelled."}
    assert [read(api, m)["status"] for m in (confirmed, waiting, refused)] == ["cancelled", "cancelled", "rejected"]


# No answer, asking again -------------------------------------------------------------------------


def test_a_meeting_booking_leaves_unanswered_shows_no_answer_and_staff_ask_again(api, db, settings, case):
    meeting = asked(api, case, **{"X-Request-ID": "saga-3"})
    with db.unit_of_work() as uow:
        assert mark_unanswered(uow=uow) == 0  # not yet
        uow.commit()
    later = soon(0) + timedelta(hours=1, minutes=11)
    with db.unit_of_work() as uow:
        assert mark_unanswered(uow=uow, now=later) == 1
        uow.commit()
    meeting = read(api, meeting)
    assert meeting["status"] == "no_answer"
    assert act(api, meeting, "retry", "alice").status_code == 403
    assert act(api, meeting, "retry", "desk", {"starts_at": soon(72).isoformat()}).status_code == 422
    start = soon(72)
    body = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
    response = act(api, meeting, "retry", "desk", body)
    assert response.status_code == 200, response.json
    again = response.json
    assert again["status"] == "requested" and again["request_id"] != meeting["request_id"]
    first, second = holds(db)
    assert second["data"]["request_id"] == again["request_id"]
    assert second["correlationid"] == first["correlationid"] == "saga-3"
    assert second["data"]["ends_at"] != first["data"]["ends_at"]
    [released] = holds(db, "released")  # the unanswered request, should booking place it late
    assert released["data"]["request_id"] == meeting["request_id"]
    # The old request's late answer is not this meeting's any more.
    answer(settings, meeting["request_id"], "confirmed", meeting=meeting)
    assert read(api, again)["status"] == "requested"
    assert act(api, again, "retry", "desk").status_code == 409


def test_a_refused_meeting_is_asked_again_at_an_alternative(api, db, settings, case):
    meeting = asked(api, case)
    answer(settings, meeting["request_id"], "rejected", meeting=meeting, rule="rule/no-double-booking")
    meeting = read(api, meeting)
    response = act(api, meeting, "retry", "desk")
    assert response.status_code == 200
    assert (response.json["status"], response.json["rule"], response.json["alternatives"]) == ("requested", None, [])
    assert holds(db, "released") == []  # nothing was placed for a refusal
    assert len(holds(db)) == 2


def test_the_worker_runs_the_no_answer_job(settings, db):
    names = [job.name for job in participant(settings).jobs]
    assert "mark-unanswered-meetings" in names


def test_the_case_lists_its_meetings_in_brief(api, settings, case):
    first = asked(api, case)
    second = asked(api, case, "lawyer")
    answer(settings, first["request_id"], "confirmed", meeting=first, reservation_id=ROOM_RES)
    shown = api.get(f"/cases/{case['id']}", user="bob", headers={"Accept-Language": "zh"}).json
    briefs = {m["id"]: m for m in shown["meetings"]}
    assert set(briefs) == {first["id"], second["id"]}
    assert (briefs[first["id"]]["status"], briefs[first["id"]]["space_display_name"]) == ("confirmed", "3A会议室")
    assert briefs[second["id"]]["status"] == "requested"
    listed = api.get("/cases", user="bob").json["items"]
    assert [c.get("meetings") for c in listed if c["id"] == case["id"]] == [None]
    cancelled = done(api, api.get(f"/cases/{case['id']}", user="alice").json, "cancel", "alice")
    assert {m["status"] for m in cancelled["meetings"]} == {"cancelled"}
