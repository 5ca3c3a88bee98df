"""The events of a case's lifecycle: one per transition that has one (``rules.EVENT_OF_ACTION``),
each valid against its contract, describing the case after the change."""

from __future__ import annotations

from typing import Any

from services.consulting.rules import EVENT_OF_ACTION
from shared.db import Database
from shared.events.contracts import validate
from tests.booking.conftest import ORG_A, Api
from tests.consulting.conftest import LAW, LAW2, Catalogue, outbox
from tests.consulting.test_cases_support import act, case_in, done, submitted


def events_of(db: Database, case_id: str) -> list[dict[str, Any]]:
    return [e for e in outbox(db) if e["data"]["case_id"] == case_id]


def test_each_step_publishes_its_event_with_the_case_after_it(api: Api, db: Database) -> None:
    case = submitted(api, "bob", priority="low")
    steps = [
        ("triage", "desk", {"priority": "urgent"}),
        ("assign", "desk", {"firm_org_id": LAW}),
        ("assign", "desk", {"firm_org_id": LAW2}),
        ("decline", "lawyer3", {"reason": "Conflict of interest."}),
        ("assign", "desk", {"firm_org_id": LAW}),
        ("accept", "lawyer", None),
        ("start", "lawyer", None),
        ("wait", "lawyer", {"reason": "The annex, please."}),
        ("resume", "bob", None),
        ("propose_solution", "lawyer", {"solution": "Amended."}),
        ("reject_solution", "alice", {"reason": "Clause 9 too."}),
        ("propose_solution", "lawyer", {"solution": "Amended again."}),
        ("accept_solution", "bob", None),
    ]
    versions = [case["version"]]
    for action, user, body in steps:
        case = done(api, case, action, user, body)
        versions.append(case["version"])
    events = events_of(db, case["id"])
    expected_types = ["consulting.case.submitted"] + [
        EVENT_OF_ACTION[a] for a, _, _ in steps if EVENT_OF_ACTION[a] is not None
    ]
    assert [e["type"] for e in events] == expected_types
    for event in events:
        validate(event["type"], 1, event["data"])
        assert event["subject"] == f"cases/{case['id']}" and event["orgid"] == ORG_A
        data = event["data"]
        assert (data["org_id"], data["submitted_by"], data["category"], data["item_id"]) == (
            ORG_A,
            "user:bob",
            Catalogue.legal,
            Catalogue.contract,
        )
        assert "subject" not in data and "description" not in data  # may be confidential
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event["data"])
    triaged = by_type["consulting.case.triaged"][0]
    assert (triaged["previous_status"], triaged["status"], triaged["priority"]) == ("submitted", "triaged", "urgent")
    assigned = by_type["consulting.case.assigned"]
    assert [a["firm_org_id"] for a in assigned] == [LAW, LAW2, LAW]
    assert [a["previous_status"] for a in assigned] == ["triaged", "assigned", "triaged"]
    declined = by_type["consulting.case.declined"][0]
    assert (declined["firm_org_id"], declined["status"], declined["previous_status"], declined["reason"]) == (
        None,
        "triaged",
        "assigned",
        "Conflict of interest.",
    )
    assert by_type["consulting.case.waiting"][0]["reason"] == "The annex, please."
    assert by_type["consulting.case.reopened"][0]["reason"] == "Clause 9 too."
    closed = by_type["consulting.case.closed"][0]
    assert (closed["automatic"], closed["status"], closed["firm_org_id"]) == (False, "closed", LAW)
    assert closed["version"] == case["version"]
    # Every event carries the version the case had once its change was written.
    published_versions = [e["data"]["version"] for e in events]
    assert published_versions == sorted(published_versions) and set(published_versions) <= set(versions)
    assert events[0]["data"]["changed_at"] == events[0]["data"]["submitted_at"]


def test_cancelled_says_where_it_came_from(api: Api, db: Database) -> None:
    case = case_in(api, "accepted")
    done(api, case, "cancel", "alice", {"reason": "Settled out of court."})
    cancelled = events_of(db, case["id"])[-1]
    assert cancelled["type"] == "consulting.case.cancelled"
    assert (cancelled["data"]["previous_status"], cancelled["data"]["reason"]) == ("accepted", "Settled out of court.")
    validate(cancelled["type"], 1, cancelled["data"])


def test_a_refused_action_publishes_nothing(api: Api, db: Database) -> None:
    case = case_in(api, "submitted")
    before = outbox(db)
    assert act(api, case, "accept_solution", "bob").status_code == 409
    assert act(api, case, "cancel", "desk").status_code == 422  # staff say why
    assert act(api, case, "triage", "desk", None, **{"If-Match": '"99"'}).status_code == 412
    assert outbox(db) == before


def test_a_decline_and_a_reassignment_name_the_firm_that_left(api: Api, db: Database) -> None:
    case = case_in(api, "assigned")
    case = done(api, case, "decline", "lawyer", {"reason": "Conflict of interest."})
    [declined] = [e for e in outbox(db) if e["type"] == "consulting.case.declined"]
    assert declined["data"]["firm_org_id"] is None and declined["data"]["previous_firm_org_id"] == LAW
    validate("consulting.case.declined", 1, declined["data"])
    case = done(api, case, "assign", "desk", {"firm_org_id": LAW2})
    first, again = [e for e in outbox(db) if e["type"] == "consulting.case.assigned"]
    assert first["data"]["previous_firm_org_id"] is None  # the first firm replaced nobody
    assert again["data"]["firm_org_id"] == LAW2 and again["data"]["previous_firm_org_id"] is None
    other = case_in(api, "assigned")
    done(api, other, "assign", "desk", {"firm_org_id": LAW2})
    *_, replaced = [e for e in outbox(db) if e["type"] == "consulting.case.assigned"]
    assert (replaced["data"]["firm_org_id"], replaced["data"]["previous_firm_org_id"]) == (LAW2, LAW)
    validate("consulting.case.assigned", 1, replaced["data"])
