"""Quotes over HTTP: the firm assigned proposes a fee, the tenant accepts or rejects it under
If-Match; supersession, the refusals (403 for the wrong side, 404 for those who may not see the
case, 422 rule codes for bad fees, 409 for a case not quotable and for answering twice), the list
newest first, and the events, checked against their contracts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.events.contracts import validate
from tests.consulting.conftest import LAW2, outbox
from tests.consulting.test_messages import make_case


def validate_event(envelope: dict[str, Any]) -> None:
    """The event's data keeps its contract, read strictly (no field it does not declare)."""
    validate(envelope["type"], None, envelope["data"])


def propose(api: Any, case_id: str, fee: Any = "12000.00", user: str = "lawyer", **body: Any) -> Any:
    return api.post(
        f"/cases/{case_id}/quotes", {"fee": fee, "description": "Review and two meetings", **body}, user=user
    )


def respond(api: Any, case_id: str, quote: dict[str, Any], action: str, user: str = "bob", **body: Any) -> Any:
    return api.post(
        f"/cases/{case_id}/quotes/{quote['id']}/{action}",
        body or None,
        user=user,
        **{"If-Match": f'"{quote["version"]}"'},
    )


def test_the_firm_proposes_a_fee_and_the_case_is_quoted(api, db):
    case_id = make_case(db, status="accepted")
    answer = propose(api, case_id, "12000")
    assert answer.status_code == 201, answer.get_json()
    quote = answer.get_json()
    assert quote["fee"] == "12000.00"
    assert quote["currency"] == "CNY"
    assert quote["status"] == "proposed"
    assert quote["status_label"] == "Proposed"
    assert quote["firm"]["id"] and quote["firm"]["display_name"] == "Tianfu Bridge Law Firm"
    assert quote["proposed_by"] == "user:lawyer"
    assert quote["proposed_at"].endswith("+08:00")
    assert quote["answered_by"] is None and quote["answered_at"] is None
    assert answer.headers["ETag"] == f'"{quote["version"]}"'
    events = outbox(db)
    assert [e["type"] for e in events] == ["consulting.case.quoted"]
    data = events[0]["data"]
    assert data["case_id"] == case_id
    assert data["status"] == data["previous_status"] == "accepted"
    assert data["quote"] == {
        "quote_id": quote["id"],
        "status": "proposed",
        "fee": "12000.00",
        "currency": "CNY",
        "proposed_by": "user:lawyer",
        "proposed_at": data["quote"]["proposed_at"],
    }
    validate_event(events[0])


@pytest.mark.parametrize(
    ("fee", "shown"), [("1200.5", "1200.50"), (1200.5, "1200.50"), (99, "99.00"), ("0.01", "0.01"), (0.1, "0.10")]
)
def test_a_fee_is_a_decimal_string_or_a_number(api, db, fee, shown):
    case_id = make_case(db, status="in_progress")
    answer = propose(api, case_id, fee)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["fee"] == shown


@pytest.mark.parametrize(
    ("fee", "code"),
    [
        ("abc", "rule/fee-invalid"),
        ("", "rule/fee-invalid"),
        ("NaN", "rule/fee-invalid"),
        ("0", "rule/fee-positive"),
        ("-5.00", "rule/fee-positive"),
        (-1, "rule/fee-positive"),
        ("12.345", "rule/fee-places"),
        (0.001, "rule/fee-places"),
        ("100000000000", "rule/fee-too-large"),
    ],
)
def test_bad_fees_are_422_with_the_rule(api, db, fee, code):
    case_id = make_case(db, status="accepted")
    answer = propose(api, case_id, fee)
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["type"].endswith("/" + code)
    assert outbox(db) == []


@pytest.mark.parametrize("body", [{"fee": True}, {"fee": None}, {"fee": [1]}, {}, {"fee": "1", "currency": "USD"}])
def test_a_fee_that_is_not_an_amount_at_all_is_a_field_error(api, db, body):
    case_id = make_case(db, status="accepted")
    answer = api.post(f"/cases/{case_id}/quotes", body, user="lawyer")
    assert answer.status_code == 422
    assert answer.get_json()["type"].endswith("/validation-failed")


@pytest.mark.parametrize("status", ["assigned", "waiting_on_tenant", "solution_proposed", "closed"])
def test_only_an_accepted_or_running_case_is_quoted(api, db, status):
    case_id = make_case(db, status=status)
    answer = propose(api, case_id)
    assert answer.status_code == 409
    problem = answer.get_json()
    assert problem["type"].endswith("/rule/state-transition")
    assert problem["allowed"] == ["accepted", "in_progress"]


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("lawyer2", 201),  # a colleague at the firm assigned
        ("lawyer3", 404),  # another law firm
        ("ipagent", 404),
        ("bank", 404),
        ("bob", 403),  # the tenant cannot propose
        ("alice", 403),
        ("carol", 403),
        ("desk", 403),
        ("admin", 403),
    ],
)
def test_only_the_firm_assigned_proposes(api, db, user, status):
    case_id = make_case(db, status="accepted")
    answer = propose(api, case_id, user=user)
    assert answer.status_code == status, answer.get_json()
    if status == 403:
        assert answer.get_json()["detail"] == "Only the firm assigned may propose a fee."


def test_a_newer_proposal_supersedes_the_unanswered_one(api, db):
    case_id = make_case(db, status="accepted")
    first = propose(api, case_id, "10000").get_json()
    second = propose(api, case_id, "9000").get_json()
    quotes = api.get(f"/cases/{case_id}/quotes", user="bob").get_json()["items"]
    assert [q["id"] for q in quotes] == [second["id"], first["id"]]  # newest first
    assert [q["status"] for q in quotes] == ["proposed", "superseded"]
    assert quotes[1]["status_label"] == "Replaced by a newer quote"
    superseded = quotes[1]
    late = respond(api, case_id, superseded, "accept")
    assert late.status_code == 409
    assert late.get_json()["type"].endswith("/rule/quote-answered")
    assert [e["data"]["quote"]["fee"] for e in outbox(db)] == ["10000.00", "9000.00"]


def test_the_tenant_accepts_once(api, db):
    case_id = make_case(db, status="accepted", item="00000000-0000-4000-8000-00000000c002")
    quote = propose(api, case_id).get_json()
    accepted = respond(api, case_id, quote, "accept")
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["status"] == "accepted"
    assert body["answered_by"] == "user:bob"
    assert body["answered_at"].endswith("+08:00")
    assert body["version"] == quote["version"] + 1
    assert accepted.headers["ETag"] == f'"{body["version"]}"'
    events = outbox(db)
    assert [e["type"] for e in events] == ["consulting.case.quoted", "consulting.case.quote_accepted"]
    assert events[1]["data"]["quote"]["status"] == "accepted"
    for event in events:
        validate_event(event)
    for stale in (quote, body):  # the ETag read before or after: it is answered either way
        again = respond(api, case_id, stale, "accept")
        assert again.status_code == 409
        assert again.get_json()["type"].endswith("/rule/quote-answered")
    rejected_after = respond(api, case_id, body, "reject")
    assert rejected_after.status_code == 409


def test_the_tenant_rejects_with_a_reason_and_the_firm_proposes_again(api, db):
    case_id = make_case(db, status="accepted")
    quote = propose(api, case_id).get_json()
    rejected = respond(api, case_id, quote, "reject", user="alice", reason="Too expensive for a review.")
    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["reason"] == "Too expensive for a review."
    assert rejected.get_json()["answered_by"] == "user:alice"
    assert [e["type"] for e in outbox(db)] == ["consulting.case.quoted"]  # a rejection publishes nothing
    again = propose(api, case_id, "8000")
    assert again.status_code == 201
    statuses = [q["status"] for q in api.get(f"/cases/{case_id}/quotes", user="lawyer").get_json()["items"]]
    assert statuses == ["proposed", "rejected"]  # an answered quote is not superseded


def test_answers_need_if_match_with_the_quotes_version(api, db):
    case_id = make_case(db, status="accepted")
    quote = propose(api, case_id).get_json()
    url = f"/cases/{case_id}/quotes/{quote['id']}/accept"
    assert api.post(url, None, user="bob").status_code == 428
    stale = api.post(url, None, user="bob", **{"If-Match": f'"{quote["version"] + 5}"'})
    assert stale.status_code == 412
    assert api.post(url, None, user="bob", **{"If-Match": "*"}).status_code == 200


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("lawyer", 403),  # the firm cannot accept its own quote
        ("lawyer2", 403),
        ("desk", 403),
        ("admin", 403),
        ("lawyer3", 403),
        ("bank", 403),
        ("carol", 404),  # another tenant
        ("dave", 404),
    ],
)
@pytest.mark.parametrize("action", ["accept", "reject"])
def test_only_the_tenant_side_answers(api, db, user, status, action):
    case_id = make_case(db, status="accepted")
    quote = propose(api, case_id).get_json()
    answer = respond(api, case_id, quote, action, user=user)
    assert answer.status_code == status, answer.get_json()
    if status == 403:
        problem = answer.get_json()
        assert problem["action"] == f"{action}_quote"
        assert problem["detail"] == (f"Only the submitter or a tenant admin of the organisation may {action} a quote.")


def test_a_member_who_did_not_submit_the_case_is_told_it_does_not_exist(api, db):
    case_id = make_case(db, status="accepted", submitted_by="alice")
    quote = propose(api, case_id).get_json()
    assert api.get(f"/cases/{case_id}/quotes", user="bob").status_code == 404
    assert respond(api, case_id, quote, "accept", user="bob").status_code == 404
    assert respond(api, case_id, quote, "accept", user="alice").status_code == 200


def test_a_quote_of_another_case_is_404(api, db):
    first, second = make_case(db, status="accepted"), make_case(db, status="accepted")
    quote = propose(api, first).get_json()
    assert respond(api, second, quote, "accept").status_code == 404
    assert respond(api, first, {"id": str(uuid.uuid4()), "version": 1}, "accept").status_code == 404


def test_a_cancelled_cases_quote_is_not_answered(api, db):
    case_id = make_case(db, status="accepted")
    quote = propose(api, case_id).get_json()
    from services.consulting.models import Case

    with db.unit_of_work() as uow:
        case = uow.session.get(Case, case_id)
        case.status = "cancelled"
        case.closed_at = datetime.now(UTC) - timedelta(hours=1)
        uow.commit()
    answer = respond(api, case_id, quote, "accept")
    assert answer.status_code == 409
    assert answer.get_json()["type"].endswith("/rule/case-ended")
    assert answer.get_json()["detail"] == "This case is Cancelled: its quotes can no longer be accepted or rejected."


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("bob", 200),
        ("alice", 200),
        ("lawyer", 200),
        ("lawyer2", 200),
        ("desk", 200),
        ("admin", 200),
        ("carol", 404),
        ("dave", 404),
        ("lawyer3", 404),
        ("ipagent", 404),
        ("bank", 404),
    ],
)
def test_who_reads_the_quotes(api, db, user, status):
    case_id = make_case(db, status="accepted")
    propose(api, case_id)
    answer = api.get(f"/cases/{case_id}/quotes", user=user)
    assert answer.status_code == status
    if status == 200:
        assert len(answer.get_json()["items"]) == 1


def test_a_firm_that_is_no_longer_assigned_sees_no_quotes(api, db):
    case_id = make_case(db, status="accepted", firm=LAW2)
    assert api.get(f"/cases/{case_id}/quotes", user="lawyer").status_code == 404
    assert propose(api, case_id, user="lawyer").status_code == 404
    assert propose(api, case_id, user="lawyer3").status_code == 201


def test_quotes_in_chinese(api, db):
    case_id = make_case(db, status="accepted")
    propose(api, case_id)
    items = api.get(f"/cases/{case_id}/quotes", user="bob", headers={"Accept-Language": "zh"}).get_json()["items"]
    assert items[0]["firm"]["display_name"] == "天府桥律师事务所"
    refused = api.post(
        f"/cases/{case_id}/quotes", {"fee": "1.234"}, user="lawyer", **{"Accept-Language": "zh"}
    ).get_json()
    assert refused["type"].endswith("/rule/fee-places")
    assert refused["detail"] != "A fee has at most two decimal places (fen)."


def test_accepting_takes_no_fields(api, db):
    case_id = make_case(db, status="accepted")
    quote = propose(api, case_id).get_json()
    answer = respond(api, case_id, quote, "accept", reason="why not")
    assert answer.status_code == 422
    assert "reason" in answer.get_json()["errors"]
    assert respond(api, case_id, quote, "accept").status_code == 200
