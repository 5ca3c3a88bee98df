"""The SLA clocks through the cases and messages API: the hooks run on every change over HTTP,
each reader sees the clocks that are theirs to see, and a breach found by the job shows as an
escalated case, an ``escalate`` line of the audit trail and a note only the desk reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.consulting.handlers.sla import detect_breaches
from shared.clock import utcnow
from tests.consulting.conftest import LAW, LAW2, outbox
from tests.consulting.test_cases_support import done, submitted


def sla_of(api: Any, case_id: str, user: str) -> dict[tuple[str, str], dict[str, Any]]:
    response = api.get(f"/cases/{case_id}", user=user)
    assert response.status_code == 200, response.json
    return {(c["clock"], c["target"]): c for c in response.json["sla"] if c["state"] != "stopped"}


def test_the_clocks_follow_the_case_over_http_and_each_reader_sees_theirs(api, db):
    case = submitted(api, "bob")
    assert set(sla_of(api, case["id"], "bob")) == {("tenant", "first_response"), ("tenant", "resolution")}
    case = done(api, case, "triage", "desk")
    case = done(api, case, "assign", "desk", {"firm_org_id": LAW})
    tenant_view = sla_of(api, case["id"], "alice")
    assert set(tenant_view) == {("tenant", "first_response"), ("tenant", "resolution")}
    # Triaged a moment after submission: well inside the 240 business minutes of "normal".
    first_response = tenant_view[("tenant", "first_response")]
    assert (first_response["state"], first_response["state_label"]) == ("met", "Met in time")
    assert first_response["met_at"] is not None
    for reader in ("lawyer", "desk"):
        seen = sla_of(api, case["id"], reader)
        assert set(seen) == {
            ("tenant", "first_response"),
            ("tenant", "resolution"),
            ("firm", "first_response"),
            ("firm", "resolution"),
        }
        assert seen[("firm", "first_response")]["met_at"] is None
        assert seen[("firm", "first_response")]["firm_org_id"] == LAW
    # The firm writes to the tenant: its first response.
    answer = api.post(f"/cases/{case['id']}/messages", {"body": "We are on it."}, user="lawyer")
    assert answer.status_code == 201, answer.json
    assert sla_of(api, case["id"], "desk")[("firm", "first_response")]["met_at"] is not None


def test_a_breach_escalates_the_case_and_only_the_desk_reads_the_note(api, db):
    case = submitted(api, "bob")  # normal: the first response within 240 business minutes
    assert case["priority"] == "normal"
    with db.unit_of_work() as uow:
        assert detect_breaches(uow=uow, now=utcnow() + timedelta(days=5)) == 1  # the first response only
        uow.commit()
    read = api.get(f"/cases/{case['id']}", user="desk").json
    assert read["priority"] == "high"
    lines = api.get(f"/cases/{case['id']}/history", user="desk").json["items"]
    escalations = [line for line in lines if line["action"] == "escalate"]
    assert len(escalations) == 1
    [line] = escalations
    assert line["action_label"] == "Escalated: an SLA target was missed"
    assert (line["details"]["priority_from"], line["details"]["priority_to"]) == ("normal", "high")
    desk_thread = api.get(f"/cases/{case['id']}/messages", user="desk").json["items"]
    assert any(m["visibility"] == "desk" and "SLA missed" in m["body"] for m in desk_thread)
    tenant_thread = api.get(f"/cases/{case['id']}/messages", user="bob").json["items"]
    assert not any("SLA missed" in m["body"] for m in tenant_thread)
    breaches = [e for e in outbox(db) if e["type"] == "consulting.case.sla_breached"]
    assert [(e["data"]["clock"], e["data"]["target"], e["data"]["priority"]) for e in breaches] == [
        ("tenant", "first_response", "high")
    ]


def test_a_firm_the_case_was_reassigned_to_reads_its_own_clocks_never_the_first_firms(api, db):
    case = submitted(api, "bob")
    case = done(api, case, "triage", "desk")
    case = done(api, case, "assign", "desk", {"firm_org_id": LAW})
    case = done(api, case, "assign", "desk", {"firm_org_id": LAW2})
    assert api.get(f"/cases/{case['id']}", user="lawyer").status_code == 404
    response = api.get(f"/cases/{case['id']}", user="lawyer3")
    assert response.status_code == 200, response.json
    seen = [(c["clock"], c["target"], c["firm_org_id"], c["state"]) for c in response.json["sla"]]
    assert sorted(seen) == [
        ("firm", "first_response", LAW2, "running"),
        ("firm", "resolution", LAW2, "running"),
        ("tenant", "first_response", None, "met"),
        ("tenant", "resolution", None, "running"),
    ]
    # The desk reads both firms' clocks: the first firm's stopped at the reassignment.
    desk = api.get(f"/cases/{case['id']}", user="desk").json["sla"]
    firms = sorted((c["firm_org_id"], c["target"], c["state"]) for c in desk if c["clock"] == "firm")
    assert firms == sorted(
        [
            (LAW, "first_response", "stopped"),
            (LAW, "resolution", "stopped"),
            (LAW2, "first_response", "running"),
            (LAW2, "resolution", "running"),
        ]
    )
    # The tenant reads its own clocks alone.
    tenant = api.get(f"/cases/{case['id']}", user="bob").json["sla"]
    assert sorted((c["clock"], c["target"]) for c in tenant) == [
        ("tenant", "first_response"),
        ("tenant", "resolution"),
    ]


def test_a_firms_missed_target_is_the_desks_and_the_tenant_reads_nothing_of_it(api, db):
    """The firm's commitment is between the park and the firm: its breach leaves the priority the
    tenant reads, and the escalation line is in the staff's history only."""
    case = submitted(api, "bob")  # normal: the firm's first response 480 minutes, its resolution 6720
    case = done(api, case, "triage", "desk")
    case = done(api, case, "assign", "desk", {"firm_org_id": LAW})
    # Twelve days: two business days at the least (a long holiday), ten at most (no resolution
    # target of 7200 or 6720 minutes near its warning).
    with db.unit_of_work() as uow:
        assert detect_breaches(uow=uow, now=utcnow() + timedelta(days=12)) == 1
        uow.commit()
    [event] = [e for e in outbox(db) if e["type"] == "consulting.case.sla_breached"]
    assert (event["data"]["clock"], event["data"]["target"]) == ("firm", "first_response")
    for reader in ("bob", "desk"):
        read = api.get(f"/cases/{case['id']}", user=reader).json
        assert read["priority"] == "normal" and read["version"] == case["version"]
    tenant_lines = api.get(f"/cases/{case['id']}/history", user="bob").json["items"]
    assert [line["action"] for line in tenant_lines if line["action"] == "escalate"] == []
    [line] = [
        x for x in api.get(f"/cases/{case['id']}/history", user="desk").json["items"] if x["action"] == "escalate"
    ]
    assert (line["details"]["clock"], line["details"]["target"]) == ("firm", "first_response")
    assert (line["details"]["priority_from"], line["details"]["priority_to"]) == ("normal", "normal")
