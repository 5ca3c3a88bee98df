"""Every action of a case over HTTP: what it changes, its audit line, its refusals (the state,
If-Match, reasons, the firm assigned, quotes), in English and in Chinese."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from services.consulting.models import Case, CaseTransition, Quote, Rating, directory
from shared.db import Database
from tests.booking.conftest import Api
from tests.consulting.conftest import IPA, LAW, LAW2, Catalogue, outbox
from tests.consulting.test_cases_support import act, case_in, done, submitted


def audit(db: Database, case_id: str) -> list[tuple[str, str | None, str, str]]:
    with db.reading() as session:
        rows = session.execute(
            select(CaseTransition.action, CaseTransition.from_status, CaseTransition.to_status, CaseTransition.actor)
            .where(CaseTransition.case_id == case_id)
            .order_by(CaseTransition.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_whole_way_from_submission_to_closed(api: Api, db: Database) -> None:
    case = submitted(api)
    assert case["actions"] == ["cancel"]
    case = done(api, case, "triage", "desk", {"priority": "high"})
    assert (case["status"], case["priority"], case["firm"]) == ("triaged", "high", None)
    assert case["actions"] == ["assign", "cancel"]
    case = done(api, case, "assign", "desk", {"firm_org_id": LAW})
    assert case["status"] == "assigned" and case["firm"]["id"] == LAW
    assert case["firm"]["name"] == "Tianfu Bridge Law Firm" and case["assigned_at"] is not None
    lawyer_view = api.get(f"/cases/{case['id']}", user="lawyer").json
    assert lawyer_view["actions"] == ["accept", "decline"]
    case = done(api, case, "accept", "lawyer")
    assert case["status"] == "accepted"
    case = done(api, case, "start", "lawyer")
    assert case["status"] == "in_progress"
    case = done(api, case, "wait", "lawyer", {"reason": "Send the signed annex."})
    assert (case["status"], case["reason"]) == ("waiting_on_tenant", "Send the signed annex.")
    case = done(api, case, "resume", "bob")
    assert case["status"] == "in_progress"
    case = done(api, case, "propose_solution", "lawyer", {"solution": "  Cap the damages in clause 7.  "})
    assert case["status"] == "solution_proposed" and case["solution"] == "Cap the damages in clause 7."
    assert case["solution_proposed_at"] is not None
    case = done(api, case, "reject_solution", "bob", {"reason": "Clause 9 too."})
    assert (case["status"], case["reason"]) == ("in_progress", "Clause 9 too.")
    case = done(api, case, "propose_solution", "lawyer", {"solution": "Clauses 7 and 9 amended."})
    bob_view = api.get(f"/cases/{case['id']}", user="bob").json
    assert bob_view["actions"] == ["accept_solution", "reject_solution"]
    assert bob_view["status_label"] == "Solution ready for your review"
    case = done(api, case, "accept_solution", "bob")
    assert case["status"] == "closed" and case["closed_at"] is not None
    assert case["actions"] == ["rate"]
    assert [line[0] for line in audit(db, case["id"])] == [
        "submit",
        "triage",
        "assign",
        "accept",
        "start",
        "wait",
        "resume",
        "propose_solution",
        "reject_solution",
        "propose_solution",
        "accept_solution",
    ]
    assert audit(db, case["id"])[2] == ("assign", "triaged", "assigned", "user:desk")


def test_every_action_moves_the_version_and_answers_the_etag(api: Api) -> None:
    case = submitted(api)
    response = act(api, case, "triage", "desk")
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{response.json["version"]}"'
    assert response.json["version"] == case["version"] + 1


def test_decline_sends_the_case_back_to_the_desk_without_the_firm(api: Api, db: Database) -> None:
    case = case_in(api, "assigned")
    refused = act(api, case, "decline", "lawyer", {"reason": "  "})
    assert refused.status_code == 422 and refused.json["type"].endswith("/rule/reason-required")
    case = done(api, case, "decline", "lawyer", {"reason": "Conflict of interest with the other party."})
    assert (case["status"], case["firm"]) == ("triaged", None)
    desk = api.get(f"/cases/{case['id']}", user="desk").json
    assert desk["declined_by"] == [LAW] and desk["reason"] == "Conflict of interest with the other party."
    assert api.get(f"/cases/{case['id']}", user="lawyer").status_code == 404
    tenant = api.get(f"/cases/{case['id']}", user="bob").json
    assert tenant["reason"] is None and tenant["declined_by"] is None
    assert tenant["status_label"] == "Being reviewed by the park"
    # The desk cannot hand it to the firm that declined; another law firm is fine.
    again = act(api, desk, "assign", "desk", {"firm_org_id": LAW})
    assert again.status_code == 422 and again.json["type"].endswith("/rule/firm-declined")
    case = done(api, desk, "assign", "desk", {"firm_org_id": LAW2})
    assert case["firm"]["id"] == LAW2
    assert api.get(f"/cases/{case['id']}", user="lawyer3").status_code == 200


def test_reassigning_before_the_firm_answers_takes_the_case_from_the_first_firm(api: Api) -> None:
    case = case_in(api, "assigned")
    case = done(api, case, "assign", "desk", {"firm_org_id": LAW2})
    assert case["firm"]["id"] == LAW2
    assert api.get(f"/cases/{case['id']}", user="lawyer").status_code == 404
    same = act(api, case, "assign", "desk", {"firm_org_id": LAW2})
    assert same.status_code == 422 and same.json["type"].endswith("/rule/firm-already-assigned")


@pytest.mark.parametrize(
    ("firm", "code"),
    [
        (IPA, "rule/firm-not-serving"),  # serves IP, not legal
        ("no-such-org", "rule/firm-not-serving"),
        (LAW2, "rule/firm-inactive"),
    ],
)
def test_assign_refuses_a_firm_that_cannot_take_the_case(api: Api, db: Database, firm: str, code: str) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(directory.update().where(directory.c.id == LAW2).values(status="suspended"))
        uow.commit()
    case = case_in(api, "triaged")
    refused = act(api, case, "assign", "desk", {"firm_org_id": firm})
    assert refused.status_code == 422 and refused.json["type"].endswith(f"/{code}")
    assert refused.json["firm_org_id"] == firm
    assert api.get(f"/cases/{case['id']}", user="desk").json["version"] == case["version"]


def test_assign_needs_a_firm(api: Api) -> None:
    case = case_in(api, "triaged")
    refused = act(api, case, "assign", "desk", {})
    assert refused.status_code == 422 and "firm_org_id" in refused.json["errors"]


def test_start_waits_for_an_accepted_quote_when_the_item_requires_one(api: Api, db: Database) -> None:
    case = case_in(api, "accepted", item_id=Catalogue.litigation, answers={})
    refused = act(api, case, "start", "lawyer")
    assert refused.status_code == 409 and refused.json["type"].endswith("/rule/quote-not-accepted")
    chinese = act(api, case, "start", "lawyer", **{"Accept-Language": "zh"})
    assert chinese.status_code == 409 and chinese.json["detail"] != refused.json["detail"]
    with db.unit_of_work() as uow:
        uow.session.add(
            Quote(
                id="00000000-0000-4000-8000-0000000000f1",
                case_id=case["id"],
                firm_org_id=LAW,
                fee=Decimal("5000.00"),
                currency="CNY",
                description="",
                status="proposed",
                proposed_by="user:lawyer",
                proposed_at=datetime.now(UTC),
            )
        )
        uow.commit()
    assert act(api, case, "start", "lawyer").status_code == 409  # proposed is not accepted
    with db.unit_of_work() as uow:
        quote = uow.session.get(Quote, "00000000-0000-4000-8000-0000000000f1")
        assert quote is not None
        quote.status = "accepted"
        uow.commit()
    assert done(api, case, "start", "lawyer")["status"] == "in_progress"


def test_cancel_by_the_tenant_needs_no_reason_by_the_staff_one(api: Api) -> None:
    case = case_in(api, "accepted")
    refused = act(api, case, "cancel", "desk")
    assert refused.status_code == 422 and refused.json["type"].endswith("/rule/reason-required")
    assert refused.json["detail"] == "Say why the park cancels the case."
    assert done(api, case, "cancel", "desk", {"reason": "Duplicate of C-2026-00001."})["status"] == "cancelled"
    own = case_in(api, "triaged")
    assert done(api, own, "cancel", "bob")["status"] == "cancelled"


@pytest.mark.parametrize(
    ("action", "reason_detail"),
    [
        ("wait", "Say what the tenant is asked for."),
        ("reject_solution", "Say why the solution is rejected."),
    ],
)
def test_reasons_are_required(api: Api, action: str, reason_detail: str) -> None:
    case = case_in(api, "in_progress" if action == "wait" else "solution_proposed")
    response = act(api, case, action, "lawyer" if action == "wait" else "bob", {})
    assert response.status_code == 422 and response.json["detail"] == reason_detail


def test_a_solution_needs_a_text(api: Api) -> None:
    case = case_in(api, "in_progress")
    for body in ({}, {"solution": "   "}):
        refused = act(api, case, "propose_solution", "lawyer", body)
        assert refused.status_code == 422 and "solution" in refused.json["errors"]


# Refused transitions ---------------------------------------------------------------------------

REFUSED = [
    # action, state the case is in, who asks (someone the rights table lets try), body, allowed
    ("triage", "triaged", "desk", None, ["submitted"]),
    ("assign", "accepted", "desk", {"firm_org_id": LAW2}, ["triaged", "assigned"]),
    ("accept", "in_progress", "lawyer", None, ["assigned"]),
    ("decline", "accepted", "lawyer", {"reason": "Too busy."}, ["assigned"]),
    ("start", "in_progress", "lawyer", None, ["accepted"]),
    ("wait", "accepted", "lawyer", {"reason": "Send it."}, ["in_progress"]),
    ("resume", "in_progress", "bob", None, ["waiting_on_tenant"]),
    ("propose_solution", "accepted", "lawyer", {"solution": "Done."}, ["in_progress"]),
    ("accept_solution", "in_progress", "bob", None, ["solution_proposed"]),
    ("reject_solution", "closed", "alice", {"reason": "No."}, ["solution_proposed"]),
    ("cancel", "in_progress", "bob", None, ["submitted", "triaged", "assigned", "accepted"]),
]


@pytest.mark.parametrize(("action", "state", "user", "body", "allowed"), REFUSED, ids=[r[0] for r in REFUSED])
def test_each_refused_transition_names_what_is_allowed(
    api: Api, db: Database, action: str, state: str, user: str, body: Any, allowed: list[str]
) -> None:
    case = case_in(api, state)
    before = len(outbox(db))
    response = act(api, case, action, user, body)
    assert response.status_code == 409
    problem = response.json
    assert response.content_type == "application/problem+json"
    assert problem["type"].endswith("/rule/state-transition")
    assert (problem["action"], problem["case_status"], problem["allowed"]) == (action, state, allowed)
    assert problem["detail"]
    assert len(outbox(db)) == before
    assert api.get(f"/cases/{case['id']}", user="desk").json["version"] == case["version"]


def test_a_refusal_reads_in_the_staffs_names_for_staff_in_english_and_chinese(api: Api) -> None:
    case = case_in(api, "in_progress")
    english = act(api, case, "cancel", "desk", {"reason": "Duplicate."})
    assert english.json["detail"] == (
        "Only a case that is Submitted, Triaged, Assigned to a firm or Accepted by the firm can be cancelled; "
        "this one is In progress."
    )
    chinese = act(api, case, "cancel", "desk", {"reason": "Duplicate."}, **{"Accept-Language": "zh"})
    assert chinese.status_code == 409
    assert (
        chinese.json["detail"] == "只有状态为已提交、已初审、已分派给机构或机构已接受的案件可以取消；此案件为处理中。"
    )


def test_a_refusal_reads_in_the_tenants_names_for_a_tenant(api: Api) -> None:
    case = case_in(api, "in_progress")
    english = act(api, case, "cancel", "bob")
    assert english.json["detail"] == (
        "Only a case that is Submitted, Being reviewed by the park, Passed to a partner firm or Taken on by a "
        "partner firm can be cancelled; this one is Being worked on."
    )
    assert english.json["allowed"] == ["submitted", "triaged", "assigned", "accepted"]
    chinese = act(api, case, "cancel", "bob", **{"Accept-Language": "zh"})
    assert (
        chinese.json["detail"]
        == "只有状态为已提交、园区审核中、已转交合作机构或合作机构已受理的案件可以取消；此案件为办理中。"
    )
    assert chinese.headers["Content-Language"].startswith("zh")


# If-Match ----------------------------------------------------------------------------------------


def test_an_action_without_if_match_is_428_and_changes_nothing(api: Api, db: Database) -> None:
    case = submitted(api)
    response = api.post(f"/cases/{case['id']}/triage", None, user="desk")
    assert response.status_code == 428 and response.json["type"].endswith("precondition-required")
    assert audit(db, case["id"]) == [("submit", None, "submitted", "user:bob")]


def test_an_action_on_a_stale_version_is_412(api: Api, db: Database) -> None:
    case = submitted(api)
    done(api, case, "triage", "desk")
    stale = act(api, case, "cancel", "bob")
    assert stale.status_code == 412 and stale.json["type"].endswith("precondition-failed")
    assert stale.json["current_etag"] == f'"{case["version"] + 1}"'
    assert [line[0] for line in audit(db, case["id"])] == ["submit", "triage"]
    star = act(api, case, "cancel", "bob", **{"If-Match": "*"})
    assert star.status_code == 200


def test_a_foreign_etag_is_412(api: Api) -> None:
    case = submitted(api)
    assert act(api, case, "triage", "desk", **{"If-Match": 'W/"1"'}).status_code == 412


# Bodies ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "user", "body", "field"),
    [
        ("triage", "submitted", "desk", {"priority": "asap"}, "priority"),
        ("accept", "assigned", "lawyer", {"note": "x"}, "note"),
        ("start", "accepted", "lawyer", {"when": "now"}, "when"),
        ("decline", "assigned", "lawyer", {"reason": "x" * 2001}, "reason"),
        ("accept_solution", "solution_proposed", "bob", {"stars": "5"}, "stars"),
        ("accept_solution", "solution_proposed", "bob", {"comment": "fine"}, "comment"),
    ],
)
def test_bad_bodies_are_422_with_nothing_written(
    api: Api, db: Database, action: str, state: str, user: str, body: Any, field: str
) -> None:
    case = case_in(api, state)
    lines = len(audit(db, case["id"]))
    response = act(api, case, action, user, body)
    assert response.status_code == 422 and field in response.json["errors"]
    assert len(audit(db, case["id"])) == lines


# Rating ------------------------------------------------------------------------------------------


def test_rating_a_closed_case_once(api: Api, db: Database) -> None:
    case = case_in(api, "closed")
    early = case_in(api, "solution_proposed")
    not_closed = api.post(f"/cases/{early['id']}/rating", {"stars": 4}, user="bob")
    assert not_closed.status_code == 409 and not_closed.json["type"].endswith("/rule/rate-closed-only")
    for stars in (0, 6):
        out = api.post(f"/cases/{case['id']}/rating", {"stars": stars}, user="bob")
        assert out.status_code == 422 and out.json["type"].endswith("/rule/rating-range")
    rated = api.post(f"/cases/{case['id']}/rating", {"stars": 5, "comment": "Quick and clear."}, user="alice")
    assert rated.status_code == 201
    assert rated.json["rating"]["stars"] == 5 and rated.json["rating"]["comment"] == "Quick and clear."
    assert rated.json["rating"]["rated_by"] == "user:alice" and rated.json["actions"] == []
    twice = api.post(f"/cases/{case['id']}/rating", {"stars": 3}, user="bob")
    assert twice.status_code == 409 and twice.json["type"].endswith("/rule/already-rated")
    with db.reading() as session:
        rating = session.get(Rating, case["id"])
        assert rating is not None and (rating.stars, rating.firm_org_id) == (5, LAW)


def test_accepting_a_solution_may_rate_it_in_the_same_request(api: Api, db: Database) -> None:
    case = case_in(api, "solution_proposed")
    bad = act(api, case, "accept_solution", "bob", {"stars": 9})
    assert bad.status_code == 422 and bad.json["type"].endswith("/rule/rating-range")
    with db.reading() as session:  # nothing of the refused request is written, not even the close
        assert session.get(Case, case["id"]).status == "solution_proposed"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Rating)) == 0
    closed = done(api, case, "accept_solution", "bob", {"stars": 4, "comment": "Good."})
    assert closed["status"] == "closed" and closed["rating"]["stars"] == 4 and closed["actions"] == []


def test_the_rules_of_assigning_read_in_chinese(api: Api) -> None:
    case = case_in(api, "triaged")
    refused = act(api, case, "assign", "desk", {"firm_org_id": IPA}, **{"Accept-Language": "zh"})
    assert refused.status_code == 422
    assert refused.json["detail"] == f"组织{IPA}不是服务于该案件类别的机构。"
    english = act(api, case, "assign", "desk", {"firm_org_id": IPA})
    assert english.json["detail"] == f"Organisation {IPA} is not a firm serving this case's category."


# Paid work waits for the tenant's yes (review R1#3) -------------------------------------------------


def set_item_free(api: Api, item_id: str) -> None:
    item = api.get(f"/items/{item_id}", user="admin")
    changed = api.patch(
        f"/items/{item_id}", {"quote_required": False}, user="admin", **{"If-Match": item.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.json


def test_a_case_keeps_the_quote_rule_of_its_submission_when_the_catalogue_changes(api: Api, db: Database) -> None:
    case = case_in(api, "accepted", item_id=Catalogue.litigation, answers={})
    assert case["item"]["quote_required"] is True
    set_item_free(api, Catalogue.litigation)
    refused = act(api, case, "start", "lawyer")
    assert refused.status_code == 409 and refused.json["type"].endswith("/rule/quote-not-accepted")
    with db.reading() as session:
        assert session.get(Case, case["id"]).quote_required is True  # type: ignore[union-attr]
    later = case_in(api, "accepted", item_id=Catalogue.litigation, answers={})  # submitted after the change
    assert later["item"]["quote_required"] is False
    assert done(api, later, "start", "lawyer")["status"] == "in_progress"


def test_work_does_not_start_while_a_quote_waits_for_the_tenants_answer(api: Api, db: Database) -> None:
    case = case_in(api, "accepted")  # the contract review needs no quote
    proposed = api.post(f"/cases/{case['id']}/quotes", {"fee": "3000.00"}, user="lawyer")
    assert proposed.status_code == 201, proposed.json
    case = api.get(f"/cases/{case['id']}", user="lawyer").json
    refused = act(api, case, "start", "lawyer")
    assert refused.status_code == 409 and refused.json["type"].endswith("/rule/quote-pending")
    assert audit(db, case["id"])[-1][0] == "accept"  # nothing written


def test_only_a_quote_of_the_firm_assigned_lets_paid_work_start(api: Api, db: Database) -> None:
    case = case_in(api, "accepted", item_id=Catalogue.litigation, answers={})
    with db.unit_of_work() as uow:  # a quote another firm had accepted on the case before
        uow.session.add(
            Quote(
                id="00000000-0000-4000-8000-00000000beef",
                case_id=case["id"],
                firm_org_id=LAW2,
                fee=Decimal("100.00"),
                currency="CNY",
                description="",
                status="accepted",
                proposed_by="user:lawyer3",
                proposed_at=datetime(2026, 1, 5, tzinfo=UTC),
                version=1,
            )
        )
        uow.commit()
    refused = act(api, case, "start", "lawyer")
    assert refused.status_code == 409 and refused.json["type"].endswith("/rule/quote-not-accepted")
