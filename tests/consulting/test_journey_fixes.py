"""Journeys 1 and 2 (issue 10) after review: a cancel releases the case's meeting rooms whoever
cancels (the system too), a desk's reschedule of a pending room moves the meeting, and the
reasons consulting gives itself are stored as codes and read in the reader's language."""

from __future__ import annotations

from datetime import datetime

from services.consulting.models import Case, Meeting
from tests.consulting.test_cases_support import case_in
from tests.consulting.test_meetings_support import act, answer, asked, holds, meeting_in, read, soon
from tests.consulting.test_valuation_cases import act as act_on_case
from tests.consulting.test_valuation_cases import add_valuation_item, case_of, outbox, requested

PENDING_RES = "00000000-0000-4000-8000-0000000000aa"


def test_the_system_s_cancel_of_a_valuation_case_releases_its_meetings(api, db):
    add_valuation_item(db)
    case = case_of(db, requested(db))
    assert case.status == "assigned"
    made = api.post(f"/cases/{case.id}/meetings", meeting_in(), user="ipagent", **{"X-Request-ID": "saga-m"})
    assert made.status_code == 201, made.get_json()
    declined = act_on_case(api, "ipagent", case.id, "decline", {"reason": "Conflict of interest."})
    assert declined.status_code == 200, declined.get_json()
    assert case_of(db, case.origin_ref or "").status == "cancelled"
    meeting = api.get(f"/cases/{case.id}/meetings/{made.get_json()['id']}", user="desk").get_json()
    assert meeting["status"] == "cancelled"
    assert meeting["reason"] == "The case was cancelled."
    (released,) = holds(db, "released")
    assert released["data"]["request_id"] == made.get_json()["request_id"]
    assert released["correlationid"] == "saga-m"
    assert released["data"]["reason"] == "The case was cancelled."


def test_every_firm_declining_stores_a_code_and_each_reader_reads_it_in_their_language(api, db):
    add_valuation_item(db)
    case = case_of(db, requested(db))
    assert act_on_case(api, "ipagent", case.id, "decline", {"reason": "Conflict of interest."}).status_code == 200
    with db.reading() as session:
        stored = session.get(Case, case.id)
        assert stored is not None and stored.reason == "declined_by_all"
    (failed,) = outbox(db, "consulting.valuation.failed")
    assert failed["data"]["failure"] == "declined_by_all" and failed["data"]["reason"] is None
    (cancelled,) = outbox(db, "consulting.case.cancelled")
    assert cancelled["data"]["reason"] is None
    english = "Every appraisal firm declined the valuation"
    for user in ("desk", "alice"):
        assert api.get(f"/cases/{case.id}", user=user).get_json()["reason"] == english
        zh = api.get(f"/cases/{case.id}", user=user, headers={"Accept-Language": "zh"}).get_json()["reason"]
        assert zh and zh != english and zh != "declined_by_all"


def test_a_desk_reschedule_of_a_pending_room_moves_the_meeting(api, settings):
    case = case_in(api, "assigned")
    meeting = asked(api, case)
    answer(settings, meeting["request_id"], "requested", meeting=meeting, reservation_id=PENDING_RES)
    assert read(api, meeting)["status"] == "pending_approval"
    later = {**meeting, "starts_at": soon(72).isoformat(), "ends_at": soon(73).isoformat()}
    answer(
        settings,
        meeting["request_id"],
        "rescheduled",
        meeting=later,
        reservation_id=PENDING_RES,
        status="pending_approval",
        space_name="Meeting Room 3B",
    )
    shown = read(api, meeting)
    assert shown["status"] == "pending_approval" and shown["space_name"] == "Meeting Room 3B"
    assert datetime.fromisoformat(shown["starts_at"]) == soon(72)
    assert datetime.fromisoformat(shown["ends_at"]) == soon(73)
    answer(settings, meeting["request_id"], "confirmed", meeting=later, reservation_id=PENDING_RES)
    assert read(api, meeting)["status"] == "confirmed"
    # once confirmed, a late pending answer does not move it back
    answer(settings, meeting["request_id"], "requested", meeting=meeting, reservation_id=PENDING_RES)
    shown = read(api, meeting)
    assert shown["status"] == "confirmed" and datetime.fromisoformat(shown["starts_at"]) == soon(72)


def test_a_meeting_cancelled_without_a_reason_keeps_a_code_read_in_the_reader_s_language(api, db):
    case = case_in(api, "assigned")
    meeting = asked(api, case)
    assert act(api, meeting, "cancel", "alice", None, **{"Accept-Language": "zh"}).status_code == 200
    with db.reading() as session:
        row = session.get(Meeting, meeting["id"])
        assert row is not None and row.reason == "meeting_cancelled"
    assert read(api, meeting)["reason"] == "The meeting was cancelled."
    zh = read(api, meeting, "alice", **{"Accept-Language": "zh"})["reason"]
    assert zh and zh not in ("The meeting was cancelled.", "meeting_cancelled")
    (released,) = holds(db, "released")
    assert released["data"]["reason"] == "The meeting was cancelled."


def test_a_person_s_reason_is_shown_as_written(api, db):
    case = case_in(api, "assigned")
    meeting = asked(api, case)
    assert act(api, meeting, "cancel", "alice", {"reason": "case_cancelled, we met online."}).status_code == 200
    zh = read(api, meeting, "alice", **{"Accept-Language": "zh"})
    assert zh["reason"] == "case_cancelled, we met online."
