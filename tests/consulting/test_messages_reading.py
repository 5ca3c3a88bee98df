"""Reading a case's thread after the review of issue 8: a firm's internal notes are the writing
firm's (a firm assigned after another never reads nor downloads the notes of the one before;
staff read all), one message by its id (the list's rights; 404 for a message the reader may not
see), ``Location`` on the 201, the label of the author's side, a NUL in a body refused, and the
notes the service writes itself (``notice``) rendered in the reader's language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from services.consulting.handlers.common import SYSTEM
from services.consulting.models import Message
from tests.consulting.conftest import LAW, LAW2
from tests.consulting.test_attachments import PDF, upload
from tests.consulting.test_breaches import run
from tests.consulting.test_cases_support import case_in, done
from tests.consulting.test_messages import make_case, say
from tests.consulting.test_sla import move, new_case, park

ZH = {"Accept-Language": "zh-CN"}


def reassigned_after_a_firm_note(api: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """bob's case: LAW writes a firm note with a file, declines; the desk assigns LAW2. Returns the
    case id, LAW's note (with its attachment) and a note LAW2 writes afterwards."""
    case = case_in(api, "assigned")
    note = upload(
        api, case["id"], "lawyer", [(PDF, "rates.pdf")], body="We act for the counterparty.", visibility="firm"
    )
    assert note.status_code == 201, note.get_json()
    case = done(api, case, "decline", "lawyer", {"reason": "Conflict of interest."})
    done(api, case, "assign", "desk", {"firm_org_id": LAW2})
    own = say(api, case["id"], "lawyer3", "Our partner takes this one.", "firm")
    assert own.status_code == 201, own.get_json()
    return case["id"], note.get_json(), own.get_json()


def test_a_firm_assigned_after_another_reads_only_its_own_firm_notes(api, db):
    case_id, law_note, law2_note = reassigned_after_a_firm_note(api)
    thread = api.get(f"/cases/{case_id}/messages", user="lawyer3").get_json()["items"]
    assert [m["body"] for m in thread if m["visibility"] == "firm"] == ["Our partner takes this one."]
    assert "counterparty" not in api.get(f"/cases/{case_id}/messages", user="lawyer3").get_data(as_text=True)
    for user in ("desk", "admin"):  # staff oversee every firm's work
        seen = api.get(f"/cases/{case_id}/messages", user=user).get_json()["items"]
        assert [m["id"] for m in seen if m["visibility"] == "firm"] == [law_note["id"], law2_note["id"]]


def test_nor_downloads_their_files_nor_reads_them_by_id(api, db):
    case_id, law_note, _ = reassigned_after_a_firm_note(api)
    url = law_note["attachments"][0]["url"]
    refused = api.get(url, user="lawyer3")
    assert refused.status_code == 404, refused.get_data()[:80]
    assert refused.get_json()["type"].endswith("/not-found")
    assert api.get(url, user="desk").data == PDF
    single = api.get(f"/cases/{case_id}/messages/{law_note['id']}", user="lawyer3")
    assert single.status_code == 404
    assert api.get(f"/cases/{case_id}/messages/{law_note['id']}", user="desk").status_code == 200


def test_a_firm_reads_its_own_notes_again_when_the_case_comes_back(api, db):
    case = case_in(api, "assigned")
    assert say(api, case["id"], "lawyer", "Check the annex.", "firm").status_code == 201
    case = done(api, case, "assign", "desk", {"firm_org_id": LAW2})  # handed on before LAW answered
    assert say(api, case["id"], "lawyer3", "Not ours either.", "firm").status_code == 201
    done(api, case, "assign", "desk", {"firm_org_id": LAW})
    thread = api.get(f"/cases/{case['id']}/messages", user="lawyer2").get_json()["items"]
    assert [m["body"] for m in thread if m["visibility"] == "firm"] == ["Check the annex."]


def test_one_message_by_its_id_with_the_lists_rights(api, db):
    case_id = make_case(db)
    written = say(api, case_id, "lawyer", "Draft attached tomorrow.")
    assert written.status_code == 201
    message = written.get_json()
    assert written.headers["Location"].endswith(f"/api/v1/consulting/cases/{case_id}/messages/{message['id']}")
    for user in ("alice", "bob", "lawyer", "lawyer2", "desk", "admin"):
        read = api.get(f"/cases/{case_id}/messages/{message['id']}", user=user)
        assert read.status_code == 200, (user, read.get_json())
        assert read.get_json() == message
    for user in ("carol", "dave", "lawyer3", "ipagent", "bank"):
        assert api.get(f"/cases/{case_id}/messages/{message['id']}", user=user).status_code == 404
    desk_note = say(api, case_id, "desk", "Chase them Friday.", "desk").get_json()
    for user in ("bob", "lawyer"):
        hidden = api.get(f"/cases/{case_id}/messages/{desk_note['id']}", user=user)
        assert hidden.status_code == 404
        assert "Friday" not in hidden.get_data(as_text=True)
    other = make_case(db)
    assert api.get(f"/cases/{other}/messages/{message['id']}", user="desk").status_code == 404
    assert api.get(f"/cases/{case_id}/messages/{uuid.uuid4()}", user="desk").status_code == 404


def test_the_authors_side_has_a_label_in_the_readers_language(api, db):
    case_id = make_case(db)
    for user in ("bob", "lawyer", "desk"):
        assert say(api, case_id, user, "Hello").status_code == 201
    english = api.get(f"/cases/{case_id}/messages", user="desk").get_json()["items"]
    assert [(m["author_side"], m["author_side_label"]) for m in english] == [
        ("tenant", "The tenant"),
        ("firm", "The partner firm"),
        ("park", "The park"),
    ]
    chinese = api.get(f"/cases/{case_id}/messages", user="desk", headers=ZH).get_json()["items"]
    assert [m["author_side_label"] for m in chinese] == ["企业", "合作机构", "园区"]


def test_a_nul_in_a_body_is_a_422_naming_the_field(api, db):
    case_id = make_case(db)
    for answer in (
        say(api, case_id, "bob", "a\x00b"),
        upload(api, case_id, "bob", [], body="a\x00b"),
    ):
        assert answer.status_code == 422, answer.get_json()
        problem = answer.get_json()
        assert problem["type"].endswith("/validation-failed")
        assert list(problem["errors"]) == ["body"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def breach_note(db: Any, case_id: str, notice: dict[str, Any]) -> str:
    """A desk note as the breach job writes it: SYSTEM's words, the English in ``body``, the
    code and values in ``notice``."""
    message_id = str(uuid.uuid4())
    with db.unit_of_work() as uow:
        uow.session.add(
            Message(
                id=message_id,
                case_id=case_id,
                visibility="desk",
                body="SLA missed (as written in English).",
                author=SYSTEM.subject,
                author_name="ParkHub consulting",
                author_org_id=SYSTEM.org_id,
                author_side="park",
                notice=notice,
                created_at=datetime.now(UTC),
            )
        )
        uow.commit()
    return message_id


FIRM_MISSED = {"kind": "sla_breached", "clock": "firm", "target": "first_response", "target_minutes": 120}


def test_a_note_the_service_wrote_is_read_in_the_readers_language(api, db):
    case_id = make_case(db)
    message_id = breach_note(db, case_id, FIRM_MISSED)
    english = api.get(f"/cases/{case_id}/messages/{message_id}", user="desk").get_json()
    assert english["body"] == "SLA missed: the firm's first response was due within 120 business minutes."
    assert english["author_name"] == "ParkHub consulting"
    assert english["notice"] == FIRM_MISSED
    chinese = api.get(f"/cases/{case_id}/messages", user="admin", headers=ZH).get_json()["items"]
    assert [m["body"] for m in chinese] == ["未达成服务时限：合作机构应在 120 个工作分钟内首次响应。"]
    assert chinese[0]["author_name"] not in ("ParkHub consulting", None, "")


def test_every_notice_of_a_missed_target_has_its_text(api, db):
    case_id = make_case(db)
    expected = {
        ("tenant", "first_response"): "the park's first response to the tenant was due within 30 business",
        ("tenant", "resolution"): "the park promised the tenant a resolution within 30 business",
        ("firm", "first_response"): "the firm's first response was due within 30 business",
        ("firm", "resolution"): "the firm committed to a resolution within 30 business",
    }
    for (clock, target), words in expected.items():
        notice = {"kind": "sla_breached", "clock": clock, "target": target, "target_minutes": 30}
        message_id = breach_note(db, case_id, notice)
        body = api.get(f"/cases/{case_id}/messages/{message_id}", user="desk").get_json()["body"]
        assert words in body, (clock, target, body)


def test_a_notice_the_reader_does_not_know_keeps_the_body_as_written(api, db):
    case_id = make_case(db)
    message_id = breach_note(db, case_id, {"kind": "something_new", "clock": "firm"})
    read = api.get(f"/cases/{case_id}/messages/{message_id}", user="desk", headers=ZH).get_json()
    assert read["body"] == "SLA missed (as written in English)."


def test_the_breach_jobs_note_is_read_in_the_readers_language(api, db):
    case_id = new_case(db, park("2026-11-16 09:00"))
    move(db, case_id, "triage", "triaged", park("2026-11-16 09:05"))
    move(db, case_id, "assign", "assigned", park("2026-11-16 09:06"), firm_org_id=LAW)
    assert run(db, park("2026-11-18 12:00")) >= 1
    english = [m for m in api.get(f"/cases/{case_id}/messages", user="desk").get_json()["items"] if m["notice"]]
    chinese = [
        m for m in api.get(f"/cases/{case_id}/messages", user="desk", headers=ZH).get_json()["items"] if m["notice"]
    ]
    assert english and len(english) == len(chinese)
    for en, zh in zip(english, chinese, strict=True):
        assert en["body"].startswith("SLA missed: ") and zh["body"].startswith("未达成服务时限：")
        assert (en["author_name"], en["author_side"], en["visibility"]) == ("ParkHub consulting", "park", "desk")
