"""The audit trail as each reader reads it: the breach job's escalations by whose clock caused
them, and the service's own name in the reader's language."""

from __future__ import annotations

from shared.db import Database
from tests.booking.conftest import Api
from tests.consulting.conftest import LAW, LAW2
from tests.consulting.test_breaches import run
from tests.consulting.test_sla import move, new_case, park


def escalations(api: Api, case_id: str, user: str) -> list[tuple[str, str]]:
    lines = api.get(f"/cases/{case_id}/history", user=user).json["items"]
    return [
        (line["details"].get("clock", "?"), line["details"].get("target", "?"))
        for line in lines
        if line["action"] == "escalate"
    ]


def seen(api: Api, case_id: str, user: str) -> int:
    lines = api.get(f"/cases/{case_id}/history", user=user).json["items"]
    return sum(1 for line in lines if line["action"] == "escalate")


def test_an_escalation_of_the_firms_clock_is_read_by_the_staff_and_that_firm_only(api: Api, db: Database) -> None:
    case_id = new_case(db, park("2026-11-16 09:00"))
    move(db, case_id, "triage", "triaged", park("2026-11-16 09:05"))  # meets the tenant's first response
    move(db, case_id, "assign", "assigned", park("2026-11-16 09:06"), firm_org_id=LAW)
    assert run(db, park("2026-11-16 11:07")) == 1  # the firm's first response (120 business minutes) alone
    assert escalations(api, case_id, "desk") == [("firm", "first_response")]
    assert seen(api, case_id, "lawyer") == 1  # its own missed target
    assert seen(api, case_id, "alice") == 0 and seen(api, case_id, "bob") == 0  # the tenant's side
    move(db, case_id, "assign", "assigned", park("2026-11-16 11:30"), firm_org_id=LAW2)
    assert seen(api, case_id, "lawyer3") == 0  # the next firm does not read its predecessor's miss
    assert seen(api, case_id, "desk") == 1


def test_an_escalation_of_the_tenants_clock_is_read_by_everyone_who_reads_the_case(api: Api, db: Database) -> None:
    case_id = new_case(db, park("2026-11-16 09:00"))
    assert run(db, park("2026-11-16 12:00")) == 1  # the tenant's first response (urgent: 60 minutes)
    assert [clock for clock, _target in escalations(api, case_id, "desk")] == ["tenant"]
    assert seen(api, case_id, "bob") == 1 and seen(api, case_id, "alice") == 1


def test_the_service_itself_is_named_in_the_readers_language(api: Api, db: Database) -> None:
    case_id = new_case(db, park("2026-11-16 09:00"))
    run(db, park("2026-11-16 12:00"))
    [english] = [
        line for line in api.get(f"/cases/{case_id}/history", user="bob").json["items"] if line["action"] == "escalate"
    ]
    assert (english["actor"], english["actor_name"]) == ("system:consulting", "ParkHub consulting")
    zh = api.get(f"/cases/{case_id}/history", user="bob", headers={"Accept-Language": "zh-CN"}).json["items"]
    [chinese] = [line for line in zh if line["action"] == "escalate"]
    assert chinese["actor_name"] == "园区企业服务平台"
