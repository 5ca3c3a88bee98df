"""Quotes after the review of issue 8: one agreed fee per case (a proposal once a quote is accepted
is 409 ``rule/quote-already-accepted``), fees that never answer 500 (huge, exponents, NaN,
Infinity), quote events with the subject and ``previous_status`` of every case event, who
proposed and answered by name, a firm missing from the directory, one quote by its id and
``Location`` on the 201."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from services.consulting.models import Quote, directory
from services.consulting.rules.lifecycle import MAX_FEE, check_fee
from shared.errors import RuleViolation
from tests.consulting.conftest import LAW, Catalogue, outbox
from tests.consulting.test_cases_support import case_in, done
from tests.consulting.test_messages import make_case
from tests.consulting.test_quotes import propose, respond, validate_event


def test_a_case_holds_one_agreed_fee(api, db):
    case = case_in(api, "accepted", item_id=Catalogue.litigation, answers={})
    first = propose(api, case["id"], "50000.00").get_json()
    assert respond(api, case["id"], first, "accept").status_code == 200
    case = done(api, case, "start", "lawyer")
    refused = propose(api, case["id"], "90000.00")
    assert refused.status_code == 409, refused.get_json()
    problem = refused.get_json()
    assert problem["type"].endswith("/rule/quote-already-accepted")
    assert problem["quote_id"] == first["id"]
    assert "50000.00" in problem["detail"]
    quotes = api.get(f"/cases/{case['id']}/quotes", user="bob").get_json()["items"]
    assert [(q["fee"], q["status"]) for q in quotes] == [("50000.00", "accepted")]
    accepted = [e for e in outbox(db) if e["type"] == "consulting.case.quote_accepted"]
    assert [e["data"]["quote"]["fee"] for e in accepted] == ["50000.00"]


def test_a_rejected_or_superseded_quote_leaves_the_fee_open(api, db):
    case_id = make_case(db, status="accepted")
    first = propose(api, case_id, "1000").get_json()
    assert respond(api, case_id, first, "reject", reason="Too dear.").status_code == 200
    assert propose(api, case_id, "900").status_code == 201
    assert propose(api, case_id, "800").status_code == 201  # supersedes the 900


def test_refused_in_chinese(api, db):
    case_id = make_case(db, status="accepted")
    quote = propose(api, case_id, "1000").get_json()
    assert respond(api, case_id, quote, "accept").status_code == 200
    refused = api.post(f"/cases/{case_id}/quotes", {"fee": "10"}, user="lawyer", **{"Accept-Language": "zh"})
    assert refused.status_code == 409
    assert refused.get_json()["detail"].startswith("此案件已有")


@pytest.mark.parametrize(
    ("fee", "code"),
    [
        (10**40, "rule/fee-too-large"),
        ("1e400", "rule/fee-too-large"),
        ("1E+26", "rule/fee-too-large"),
        ("99999999999999999999999999.5", "rule/fee-too-large"),
        ("NaN", "rule/fee-invalid"),
        ("sNaN", "rule/fee-invalid"),
        ("Infinity", "rule/fee-invalid"),
        ("-Infinity", "rule/fee-invalid"),
        ("-0", "rule/fee-positive"),
        ("1e-400", "rule/fee-places"),
        ("12.5e1", None),
        (" 12 ", None),
    ],
)
def test_a_fee_never_answers_500(api, db, fee, code):
    case_id = make_case(db, status="accepted")
    answer = propose(api, case_id, fee)
    if code is None:
        assert answer.status_code == 201, answer.get_json()
        return
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["type"].endswith(f"/{code}")


@pytest.mark.parametrize("fee", ["1" + "0" * 5000, "1e999999999", "-1e999999999", "1e-999999999", "9" * 30 + ".001"])
def test_check_fee_refuses_any_size_with_a_rule(fee):
    with pytest.raises(RuleViolation):
        check_fee(fee)


def test_check_fee_at_the_limit():
    assert check_fee(str(MAX_FEE)) == MAX_FEE
    assert check_fee("12.5e1") == Decimal("125.00")
    with pytest.raises(RuleViolation) as refused:
        check_fee(MAX_FEE + Decimal("0.01"))
    assert refused.value.code == "rule/fee-too-large"


def test_quote_events_are_case_events(api, db):
    case = case_in(api, "accepted", item_id=Catalogue.litigation, answers={})
    quote = propose(api, case["id"], "100.00").get_json()
    assert respond(api, case["id"], quote, "accept").status_code == 200
    events = {e["type"]: e for e in outbox(db)}
    for kind in ("consulting.case.quoted", "consulting.case.quote_accepted"):
        event = events[kind]
        assert event["subject"] == events["consulting.case.accepted"]["subject"] == f"cases/{case['id']}"
        # a quote moves no state: the status before it is the status after it
        assert event["data"]["previous_status"] == event["data"]["status"] == "accepted"
        validate_event(event)


def test_who_proposed_and_answered_by_name(api, db):
    case_id = make_case(db, status="accepted")
    proposed = propose(api, case_id)
    quote = proposed.get_json()
    assert (quote["proposed_by_name"], quote["answered_by_name"]) == ("Henry Zhou", None)
    answered = respond(api, case_id, quote, "reject", user="alice", reason="Later.").get_json()
    assert (answered["proposed_by_name"], answered["answered_by_name"]) == ("Henry Zhou", "Alice Wang")
    with db.reading() as session:
        row = session.get(Quote, quote["id"])
        assert (row.proposed_by_name, row.answered_by_name) == ("Henry Zhou", "Alice Wang")


def test_a_firm_missing_from_the_directory_has_no_name_and_shows_its_id(api, db):
    case_id = make_case(db, status="accepted")
    quote = propose(api, case_id).get_json()
    with db.unit_of_work() as uow:
        uow.session.execute(delete(directory).where(directory.c.id == LAW))
        uow.commit()
    firm = api.get(f"/cases/{case_id}/quotes/{quote['id']}", user="bob").get_json()["firm"]
    # OrganisationRefSchema's one fallback: no names, and its id to show
    assert firm == {"id": LAW, "name": None, "name_zh": None, "display_name": LAW}


def test_one_quote_by_its_id_with_the_lists_rights(api, db):
    case_id = make_case(db, status="accepted")
    proposed = propose(api, case_id)
    quote = proposed.get_json()
    assert proposed.headers["Location"].endswith(f"/api/v1/consulting/cases/{case_id}/quotes/{quote['id']}")
    for user in ("alice", "bob", "lawyer", "lawyer2", "desk", "admin"):
        read = api.get(f"/cases/{case_id}/quotes/{quote['id']}", user=user)
        assert read.status_code == 200, (user, read.get_json())
        assert read.get_json() == quote
        assert read.headers["ETag"] == f'"{quote["version"]}"'
    for user in ("carol", "dave", "lawyer3", "ipagent", "bank"):
        assert api.get(f"/cases/{case_id}/quotes/{quote['id']}", user=user).status_code == 404
    other = make_case(db, status="accepted")
    assert api.get(f"/cases/{other}/quotes/{quote['id']}", user="desk").status_code == 404
    assert api.get(f"/cases/{case_id}/quotes/{uuid.uuid4()}", user="desk").status_code == 404
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Quote)) == 1


def test_a_nul_in_a_description_or_a_reason_is_a_422(api, db):
    case_id = make_case(db, status="accepted")
    refused = propose(api, case_id, description="Review\x00")
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["description"]
    quote = propose(api, case_id).get_json()
    rejected = respond(api, case_id, quote, "reject", reason="No\x00")
    assert rejected.status_code == 422
    assert list(rejected.get_json()["errors"]) == ["reason"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Quote)) == 1
        assert session.get(Quote, quote["id"]).status == "proposed"
