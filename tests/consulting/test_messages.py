"""Messages on a case over HTTP: who writes and who reads each visibility (every kind of user), the
thread oldest first, the refusals (403 naming who may, 404 for those who may not see the case,
422 for bad fields), the follow-up window of an ended case, the SLA's first response, and
``Idempotency-Key``.

Cases are written straight into the tables (:func:`make_case`), in the states a test needs, so
these tests do not wait for the cases' own API.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.consulting.handlers import sla
from services.consulting.models import Case, Message
from services.consulting.rules.follow_up import FOLLOW_UP_DAYS
from shared.db import Database
from tests.booking.conftest import ORG_A, ORG_B
from tests.consulting.conftest import LAW, USERS, Catalogue, outbox

EVERYBODY = tuple(USERS)


def make_case(
    db: Database,
    *,
    status: str = "in_progress",
    submitted_by: str = "bob",
    firm: str | None = LAW,
    closed_at: datetime | None = None,
    item: str = Catalogue.contract,
) -> str:
    """A case of ORG_A (or of the submitter's organisation) in ``status``, written to the table."""
    user = USERS[submitted_by]
    now = datetime.now(UTC)
    case_id = str(uuid.uuid4())
    with db.unit_of_work() as uow:
        uow.session.add(
            Case(
                id=case_id,
                number=f"C-2026-{uuid.uuid4().int % 10**8:08d}",
                org_id=user.org,
                submitted_by=user.sub,
                submitted_by_name=user.name,
                category_code=Catalogue.legal,
                item_id=item,
                subject="Review of a supply contract",
                description="Please review the attached contract.",
                answers={"contract_type": "supply"},
                priority="normal",
                status=status,
                firm_org_id=firm,
                declined_by=[],
                submitted_at=now - timedelta(days=3),
                assigned_at=now - timedelta(days=2) if firm else None,
                closed_at=closed_at,
                updated_at=closed_at or now,
            )
        )
        uow.commit()
    return case_id


def say(api: Any, case_id: str, user: str, body: str = "Hello", visibility: str | None = None, **headers: str) -> Any:
    payload: dict[str, Any] = {"body": body}
    if visibility is not None:
        payload["visibility"] = visibility
    return api.post(f"/cases/{case_id}/messages", payload, user=user, **headers)


# Who may write each visibility on a case of ORG_A submitted by bob, assigned to LAW:
WRITERS = {
    "tenant": {"alice", "bob", "lawyer", "lawyer2", "desk", "admin"},
    "desk": {"desk", "admin"},
    "firm": {"lawyer", "lawyer2"},
}
SEES_CASE = {"alice", "bob", "lawyer", "lawyer2", "desk", "admin"}
READS = {
    "alice": {"tenant"},
    "bob": {"tenant"},
    "lawyer": {"tenant", "firm"},
    "lawyer2": {"tenant", "firm"},
    "desk": {"tenant", "desk", "firm"},
    "admin": {"tenant", "desk", "firm"},
}


def test_a_tenant_writes_a_message_and_reads_it_back(api, db):
    case_id = make_case(db)
    written = say(api, case_id, "bob", "  Could you also check clause 7?  ")
    assert written.status_code == 201, written.get_json()
    message = written.get_json()
    assert message["visibility"] == "tenant"  # the default
    assert message["visibility_label"] == "Visible to the tenant"
    assert message["author"] == "user:bob"
    assert message["author_name"] == "Bob Li"
    assert message["author_side"] == "tenant"
    assert message["body"] == "  Could you also check clause 7?  "
    assert message["created_at"].endswith("+08:00")
    assert message["attachments"] == []
    thread = api.get(f"/cases/{case_id}/messages", user="alice").get_json()["items"]
    assert [m["id"] for m in thread] == [message["id"]]
    assert outbox(db) == []  # messages publish nothing


@pytest.mark.parametrize("user", EVERYBODY)
@pytest.mark.parametrize("visibility", ("tenant", "desk", "firm"))
def test_who_may_write_each_visibility(api, db, user, visibility):
    case_id = make_case(db)
    answer = say(api, case_id, user, "A note", visibility)
    if user in WRITERS[visibility]:
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["visibility"] == visibility
        return
    problem = answer.get_json()
    if user not in SEES_CASE:
        assert answer.status_code == 404, problem
        assert problem["type"].endswith("/not-found")
        return
    assert answer.status_code == 403, problem
    row = {"tenant": "post_tenant_message", "desk": "post_desk_note", "firm": "post_firm_note"}[visibility]
    assert problem["action"] == row
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_refusals_name_who_may_write_in_the_readers_language(api, db):
    case_id = make_case(db)
    english = say(api, case_id, "bob", "psst", "desk")
    assert english.get_json()["detail"] == "Only desk staff or park admin may write a note internal to the desk."
    chinese = say(api, case_id, "lawyer", "psst", "desk", **{"Accept-Language": "zh"})
    assert chinese.status_code == 403
    assert chinese.get_json()["detail"] == "只有服务台工作人员或园区管理员可以撰写服务台内部备注。"
    firm_only = say(api, case_id, "desk", "psst", "firm").get_json()
    assert firm_only["detail"] == "Only the firm assigned may write a note internal to the firm."


@pytest.mark.parametrize("user", EVERYBODY)
def test_every_kind_of_user_reads_only_the_visibilities_it_may(api, db, user):
    case_id = make_case(db)
    authors = {"tenant": "bob", "desk": "desk", "firm": "lawyer"}
    for visibility, author in authors.items():
        assert say(api, case_id, author, f"{visibility} words", visibility).status_code == 201
    answer = api.get(f"/cases/{case_id}/messages", user=user)
    if user not in SEES_CASE:
        assert answer.status_code == 404
        assert "words" not in answer.get_data(as_text=True)
        return
    assert answer.status_code == 200
    seen = {m["visibility"] for m in answer.get_json()["items"]}
    assert seen == READS[user]
    assert {m["body"] for m in answer.get_json()["items"]} == {f"{v} words" for v in READS[user]}


def test_a_firm_never_sees_desk_notes_nor_a_tenant_the_firms(api, db):
    case_id = make_case(db)
    say(api, case_id, "desk", "The firm is slow; escalate Friday.", "desk")
    say(api, case_id, "lawyer", "Bill 3 hours for this.", "firm")
    for user in ("lawyer", "lawyer2"):
        text = api.get(f"/cases/{case_id}/messages", user=user).get_data(as_text=True)
        assert "escalate" not in text
        assert "Bill 3 hours" in text
    for user in ("alice", "bob"):
        text = api.get(f"/cases/{case_id}/messages", user=user).get_data(as_text=True)
        assert "escalate" not in text and "Bill 3 hours" not in text


def test_the_thread_is_oldest_first_with_sides_and_labels(api, db):
    case_id = make_case(db)
    for user, body in (("bob", "one"), ("lawyer", "two"), ("desk", "three"), ("alice", "four")):
        assert say(api, case_id, user, body).status_code == 201
    items = api.get(f"/cases/{case_id}/messages", user="desk", headers={"Accept-Language": "zh"}).get_json()["items"]
    assert [m["body"] for m in items] == ["one", "two", "three", "four"]
    assert [m["author_side"] for m in items] == ["tenant", "firm", "park", "tenant"]
    assert [m["author_name"] for m in items] == ["Bob Li", "Henry Zhou", "Desk Staff", "Alice Wang"]
    assert items[0]["visibility_label"] == "企业可见"
    times = [m["created_at"] for m in items]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "x", "visibility": "public"}, "visibility"),
        ({"body": "x", "to": "everyone"}, "to"),
        ({"body": 42}, "body"),
        ({"body": "x" * 20001}, "body"),
    ],
)
def test_bad_fields_are_422_naming_the_field(api, db, body, field):
    case_id = make_case(db)
    answer = api.post(f"/cases/{case_id}/messages", body, user="bob")
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["type"].endswith("/validation-failed")
    assert field in problem["errors"]


def test_an_empty_message_is_refused(api, db):
    case_id = make_case(db)
    answer = say(api, case_id, "bob", "   ")
    assert answer.status_code == 422
    assert answer.get_json()["type"].endswith("/rule/message-empty")


def test_a_body_that_is_neither_json_nor_a_form_is_415(api, db):
    case_id = make_case(db)
    answer = api.client.post(
        f"/api/v1/consulting/cases/{case_id}/messages",
        data="hello",
        headers={**api.headers("bob"), "Content-Type": "text/plain"},
    )
    assert answer.status_code == 415
    assert answer.mimetype == "application/problem+json"


def test_a_case_that_does_not_exist_is_404(api, db):
    answer = say(api, str(uuid.uuid4()), "desk")
    assert answer.status_code == 404
    assert api.get(f"/cases/{uuid.uuid4()}/messages", user="desk").status_code == 404


def test_without_a_token_it_is_401(api, db):
    case_id = make_case(db)
    assert say(api, case_id, None).status_code == 401  # type: ignore[arg-type]
    assert api.get(f"/cases/{case_id}/messages", user=None).status_code == 401


@pytest.mark.parametrize("status", ("closed", "cancelled"))
def test_an_ended_case_takes_a_short_follow_up(api, db, status):
    recent = make_case(db, status=status, closed_at=datetime.now(UTC) - timedelta(days=FOLLOW_UP_DAYS - 1))
    answer = say(api, recent, "bob", "Thanks! Where is the invoice?")
    assert answer.status_code == 201, answer.get_json()
    old = make_case(db, status=status, closed_at=datetime.now(UTC) - timedelta(days=FOLLOW_UP_DAYS + 1))
    refused = say(api, old, "bob", "One more thing…")
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["type"].endswith("/rule/case-ended")
    assert problem["case_status"] == status
    assert "new case" in problem["detail"]


def test_messages_the_tenant_reads_from_the_firm_or_park_are_first_responses(api, db, monkeypatch):
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(sla, "on_tenant_visible_message", lambda uow, case, side, at: calls.append((case.id, side)))
    case_id = make_case(db)
    say(api, case_id, "bob", "Any news?")
    say(api, case_id, "lawyer", "Working on it.", "firm")
    say(api, case_id, "desk", "Chase them.", "desk")
    assert calls == []  # the tenant's own words and internal notes answer nobody
    say(api, case_id, "lawyer", "Draft attached tomorrow.")
    say(api, case_id, "desk", "The park is on it too.")
    assert calls == [(case_id, "firm"), (case_id, "park")]
    ended = make_case(db, status="closed", closed_at=datetime.now(UTC) - timedelta(days=1))
    say(api, ended, "lawyer", "Invoice sent.")
    assert len(calls) == 2  # a closed case's clocks are done


def test_an_idempotency_key_replays_the_message(api, db):
    case_id = make_case(db)
    first = say(api, case_id, "bob", "Once only", **{"Idempotency-Key": "msg-1"})
    again = say(api, case_id, "bob", "Once only", **{"Idempotency-Key": "msg-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_member_who_did_not_submit_sees_nothing_of_the_case(api, db):
    case_id = make_case(db, submitted_by="alice")
    assert say(api, case_id, "alice", "mine").status_code == 201
    assert api.get(f"/cases/{case_id}/messages", user="bob").status_code == 404
    assert say(api, case_id, "bob", "hi").status_code == 404
    # ORG_B's people neither
    assert USERS["carol"].org == ORG_B != ORG_A
    assert api.get(f"/cases/{case_id}/messages", user="carol").status_code == 404


def test_an_ended_case_says_so_in_chinese(api, db):
    old = make_case(db, status="closed", closed_at=datetime(2026, 1, 5, 2, tzinfo=UTC))
    refused = say(api, old, "bob", "还有一个问题", **{"Accept-Language": "zh"})
    assert refused.status_code == 409
    assert refused.get_json()["detail"] == (
        "此案件自2026-01-05起为已结案；此后14天内仍可在其中留言。如有其他事项，请提交新的案件。"
    )
