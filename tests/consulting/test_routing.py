"""The routing rules: round robin and least load, at triage and in the worker's job; which firms
are eligible (serving the category, active, not declined); the job run twice assigns nothing more."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.consulting.handlers.routing import route_triaged
from services.consulting.models import Category, FirmCategory, directory
from shared.db import Database
from tests.booking.conftest import Api, User
from tests.consulting.conftest import IPA, LAW, LAW2, USERS, Catalogue, outbox
from tests.consulting.test_cases_support import case_in, done, submitted

IPA2 = "00000000-0000-4000-8000-0000000001b2"
IPA3 = "00000000-0000-4000-8000-0000000001b3"


@pytest.fixture
def agencies(db: Database, api: Api) -> Api:
    """Two more IP agencies serving IP (IPA < IPA2 < IPA3 in id order), with an agent each."""
    now = datetime.now(UTC)
    with db.unit_of_work() as uow:
        for org_id, name in ((IPA2, "Second IP Agency"), (IPA3, "Third IP Agency")):
            uow.session.execute(
                directory.insert().values(
                    id=org_id, name=name, name_zh=name, kind="ip_agency", status="active", version=1, updated_at=now
                )
            )
            uow.session.add(
                FirmCategory(firm_org_id=org_id, category_code=Catalogue.ip, declared_by="user:admin", declared_at=now)
            )
        uow.commit()
    api.users = {
        **USERS,
        "ip2": User("user:ip2", IPA2, "ip_agency", ("partner_agent",), "Agent Two"),
        "ip3": User("user:ip3", IPA3, "ip_agency", ("partner_agent",), "Agent Three"),
    }
    return api


def patent(api: Api) -> dict[str, Any]:
    return submitted(api, "bob", item_id=Catalogue.patent, answers={}, subject="A patent")


def triaged(api: Api, case: dict[str, Any]) -> dict[str, Any]:
    return done(api, case, "triage", "desk")


def firm_of(case: dict[str, Any]) -> str | None:
    return case["firm"]["id"] if case["firm"] else None


def run_job(db: Database) -> int:
    with db.unit_of_work() as uow:
        routed = route_triaged(uow=uow)
        uow.commit()
    return routed


def set_routing(db: Database, code: str, rule: str) -> None:
    with db.unit_of_work() as uow:
        category = uow.session.get(Category, code)
        assert category is not None
        category.routing = rule
        uow.commit()


def set_status(db: Database, org_id: str, status: str) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(directory.update().where(directory.c.id == org_id).values(status=status))
        uow.commit()


def last_routed(db: Database, code: str) -> str | None:
    with db.reading() as session:
        return session.scalar(select(Category.last_routed_firm).where(Category.code == code))


def test_round_robin_at_triage_takes_each_firm_in_turn(agencies: Api, db: Database) -> None:
    firms = [firm_of(triaged(agencies, patent(agencies))) for _ in range(5)]
    assert firms == [IPA, IPA2, IPA3, IPA, IPA2]
    assert last_routed(db, Catalogue.ip) == IPA2
    case = triaged(agencies, patent(agencies))
    assert case["status"] == "assigned" and case["status_label"] == "Assigned to a firm"  # the desk reads it
    assert agencies.get(f"/cases/{case['id']}", user="ip3").status_code == 200
    line = agencies.get(f"/cases/{case['id']}/history", user="desk").json["items"][-1]
    assert (line["action"], line["actor"], line["details"]) == (
        "assign",
        "system:consulting",
        {"routing": "round_robin", "firm_org_id": IPA3},
    )
    assert [e["type"] for e in outbox(db)][-2:] == ["consulting.case.triaged", "consulting.case.assigned"]


def test_the_job_routes_what_waits_and_twice_assigns_nothing_more(agencies: Api, db: Database) -> None:
    set_routing(db, Catalogue.ip, "manual")
    waiting = [triaged(agencies, patent(agencies)) for _ in range(4)]
    assert all(c["firm"] is None for c in waiting)
    assert run_job(db) == 0  # manual: the desk assigns
    set_routing(db, Catalogue.ip, "round_robin")
    assert run_job(db) == 4
    events = len(outbox(db))
    assert run_job(db) == 0
    assert len(outbox(db)) == events
    firms = [firm_of(agencies.get(f"/cases/{c['id']}", user="desk").json) for c in waiting]
    assert firms == [IPA, IPA2, IPA3, IPA]  # oldest first


def test_least_load_goes_to_the_firm_with_the_fewest_open_cases(api: Api, db: Database) -> None:
    busy = [case_in(api, "assigned") for _ in range(2)]  # LAW: two open cases
    finished = case_in(api, "closed", user="alice")  # closed cases are no load
    assert firm_of(finished) == LAW
    set_routing(db, Catalogue.legal, "least_load")
    firms = [firm_of(triaged(api, submitted(api))) for _ in range(4)]
    # LAW2 has none: two for it; then 2 each, the tie goes by turn after the last one routed (LAW2).
    assert firms == [LAW2, LAW2, LAW, LAW2]
    assert all(firm_of(api.get(f"/cases/{c['id']}", user="desk").json) == LAW for c in busy)


def test_least_load_counts_only_open_cases(api: Api, db: Database) -> None:
    case_in(api, "cancelled")
    for _ in range(2):
        case_in(api, "closed")
    set_routing(db, Catalogue.legal, "least_load")
    assert firm_of(triaged(api, submitted(api))) == LAW  # both none open: the first in turn


def test_a_firm_that_declined_is_not_given_the_case_again(agencies: Api, db: Database) -> None:
    case = triaged(agencies, patent(agencies))
    assert firm_of(case) == IPA
    case = done(agencies, case, "decline", "ipagent", {"reason": "Outside our field."})
    assert case["status"] == "triaged" and case["firm"] is None
    assert run_job(db) == 1
    case = agencies.get(f"/cases/{case['id']}", user="desk").json
    assert firm_of(case) == IPA2
    case = done(agencies, case, "decline", "ip2", {"reason": "Busy."})
    assert run_job(db) == 1
    case = agencies.get(f"/cases/{case['id']}", user="ip3").json
    done(agencies, case, "decline", "ip3", {"reason": "Busy."})
    case = agencies.get(f"/cases/{case['id']}", user="desk").json
    assert case["declined_by"] == [IPA, IPA2, IPA3]
    assert run_job(db) == 0  # everyone declined: it stays with the desk
    assert agencies.get(f"/cases/{case['id']}", user="desk").json["status"] == "triaged"


def test_firms_not_active_in_the_directory_are_passed_over(agencies: Api, db: Database) -> None:
    set_status(db, IPA, "suspended")
    set_status(db, IPA3, "suspended")
    firms = [firm_of(triaged(agencies, patent(agencies))) for _ in range(2)]
    assert firms == [IPA2, IPA2]


def test_no_firm_eligible_leaves_the_case_with_the_desk(api: Api, db: Database) -> None:
    set_status(db, IPA, "suspended")
    case = triaged(api, patent(api))
    assert (case["status"], case["firm"]) == ("triaged", None)
    assert case["actions"] == ["assign", "cancel"]  # the desk may still hand it over by hand
    assert run_job(db) == 0
    set_status(db, IPA, "active")
    assert run_job(db) == 1
    assert firm_of(api.get(f"/cases/{case['id']}", user="desk").json) == IPA


def test_a_manual_category_is_the_desks_to_assign(api: Api, db: Database) -> None:
    case = triaged(api, submitted(api))
    assert case["firm"] is None and run_job(db) == 0
    assert last_routed(db, Catalogue.legal) is None
