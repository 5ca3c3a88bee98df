"""Submitting, listing and reading cases over HTTP, and their audit trail as each reader sees it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from services.consulting.models import Case, CaseCounter, CaseTransition, Category, ServiceItem
from shared.clock import PARK_TZ
from shared.db import Database
from tests.booking.conftest import Api
from tests.consulting.conftest import IPA, LAW, Catalogue, outbox
from tests.consulting.test_cases_support import CONTRACT_ANSWERS, act, case_in, done, submit, submitted


def count(db: Database, model: Any) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# Submitting ------------------------------------------------------------------------------------


def test_a_submitted_case(api: Api, db: Database) -> None:
    response = submit(api, "bob", priority="high")
    assert response.status_code == 201
    case = response.json
    assert response.headers["Location"] == f"/api/v1/consulting/cases/{case['id']}"
    assert response.headers["ETag"] == f'"{case["version"]}"'
    submitted_in = datetime.fromisoformat(case["submitted_at"]).astimezone(PARK_TZ).year  # the park year it counts in
    assert case["number"] == f"C-{submitted_in}-00001"
    assert (case["status"], case["status_label"], case["priority"], case["priority_label"]) == (
        "submitted",
        "Submitted",
        "high",
        "High",
    )
    assert case["category"]["code"] == Catalogue.legal and case["category"]["display_name"] == "Legal"
    assert case["item"]["id"] == Catalogue.contract and case["item"]["display_name"] == "Contract review"
    assert case["organisation"]["display_name"] == "Chengdu Cell Therapeutics"
    assert (case["submitted_by"], case["submitted_by_name"]) == ("user:bob", "Bob Li")
    assert case["answers"] == CONTRACT_ANSWERS and case["firm"] is None
    assert case["submitted_at"].endswith("+08:00")
    assert [c["clock"] for c in case["sla"]] == ["tenant", "tenant"]
    with db.reading() as session:
        line = session.scalars(select(CaseTransition).where(CaseTransition.case_id == case["id"])).one()
        assert (line.action, line.from_status, line.to_status, line.actor) == ("submit", None, "submitted", "user:bob")


def test_the_chinese_reader_gets_chinese_names(api: Api) -> None:
    case = submitted(api)
    zh = api.get(f"/cases/{case['id']}", user="bob", headers={"Accept-Language": "zh"}).json
    assert (zh["status_label"], zh["priority_label"]) == ("已提交", "普通")
    assert zh["category"]["display_name"] == "法律" and zh["item"]["display_name"] == "合同审查"
    assert zh["organisation"]["display_name"] == "成都细胞治疗"


def test_case_numbers_count_up_per_year(api: Api, db: Database) -> None:
    numbers = [submitted(api)["number"] for _ in range(3)]
    year = numbers[0].split("-")[1]
    assert numbers == [f"C-{year}-00001", f"C-{year}-00002", f"C-{year}-00003"]
    with db.reading() as session:
        assert session.get(CaseCounter, int(year)).last == 3  # type: ignore[union-attr]


def test_an_idempotent_submission_is_one_case(api: Api, db: Database) -> None:
    body = {"item_id": Catalogue.contract, "subject": "Once", "description": "Only once.", "answers": CONTRACT_ANSWERS}
    one = api.post("/cases", body, user="bob", **{"Idempotency-Key": "case-1"})
    two = api.post("/cases", body, user="bob", **{"Idempotency-Key": "case-1"})
    assert one.status_code == two.status_code == 201
    assert two.headers.get("Idempotent-Replayed") == "true" and two.json["id"] == one.json["id"]
    assert count(db, Case) == 1
    assert [e["type"] for e in outbox(db)] == ["consulting.case.submitted"]


BAD_SUBMISSIONS = [
    ({"item_id": "00000000-0000-4000-8000-00000000dead"}, 422, "rule/item-unknown", None),
    ({"answers": {"contract_type": "lease"}}, 422, "rule/intake-answers", None),
    ({"answers": {}}, 422, "rule/intake-answers", None),
    ({"answers": {"contract_type": "labour", "colour": "red"}}, 422, "rule/intake-answers", None),
    ({"subject": "   "}, 422, None, "subject"),
    ({"description": ""}, 422, None, "description"),
    ({"priority": "asap"}, 422, None, "priority"),
    ({"item_id": "not-a-uuid"}, 422, None, "item_id"),
    ({"status": "closed"}, 422, None, "status"),
    ({"subject": "x" * 201}, 422, None, "subject"),
]


@pytest.mark.parametrize(("fields", "status", "code", "field"), BAD_SUBMISSIONS)
def test_bad_submissions_write_nothing(
    api: Api, db: Database, fields: dict[str, Any], status: int, code: str | None, field: str | None
) -> None:
    response = submit(api, "bob", **fields)
    assert response.status_code == status
    if code:
        assert response.json["type"].endswith(f"/{code}")
    if field:
        assert field in response.json["errors"]
    assert count(db, Case) == count(db, CaseTransition) == count(db, CaseCounter) == 0
    assert outbox(db) == []


def test_an_item_or_category_no_longer_offered_is_refused(api: Api, db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.session.get(ServiceItem, Catalogue.litigation).active = False  # type: ignore[union-attr]
        uow.session.get(Category, Catalogue.ip).active = False  # type: ignore[union-attr]
        uow.commit()
    item = submit(api, "bob", item_id=Catalogue.litigation, answers={})
    assert item.status_code == 422 and item.json["type"].endswith("/rule/item-inactive")
    category = submit(api, "bob", item_id=Catalogue.patent, answers={})
    assert category.status_code == 422 and category.json["type"].endswith("/rule/category-inactive")
    assert count(db, Case) == 0


def test_the_intake_errors_name_each_field(api: Api) -> None:
    response = submit(api, "bob", answers={"contract_type": "lease", "pages": 0})
    assert set(response.json["errors"]) >= {"answers.contract_type", "answers.pages"}


# Listing ---------------------------------------------------------------------------------------


@pytest.fixture
def many(api: Api) -> dict[str, dict[str, Any]]:
    """bob's two cases (one assigned to LAW), alice's, dave's (ORG_B) and an IP case of carol's."""
    return {
        "bob_new": submitted(api, "bob", subject="Supply contract", answers={"contract_type": "supply"}),
        "bob_law": case_in(api, "assigned", "bob", subject="Labour contract"),
        "alice": submitted(api, "alice", subject="Office lease", priority="urgent"),
        "dave": submitted(api, "dave", subject="Gene patent licence"),
        "carol_ip": submitted(api, "carol", item_id=Catalogue.patent, answers={}, subject="Patent for a vector"),
    }


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.json
    return {c["id"] for c in response.json["items"]}


def test_each_caller_lists_what_their_scope_holds(api: Api, many: dict[str, dict[str, Any]]) -> None:
    assert ids(api.get("/cases", user="bob")) == {many["bob_new"]["id"], many["bob_law"]["id"]}
    assert ids(api.get("/cases", user="alice")) == {many["bob_new"]["id"], many["bob_law"]["id"], many["alice"]["id"]}
    assert ids(api.get("/cases", user="dave")) == {many["dave"]["id"]}
    assert ids(api.get("/cases", user="lawyer")) == {many["bob_law"]["id"]}
    assert ids(api.get("/cases", user="lawyer3")) == set()
    assert ids(api.get("/cases", user="bank")) == set()
    assert len(ids(api.get("/cases", user="desk"))) == 5


def test_a_firm_no_longer_lists_a_case_it_declined_or_was_replaced_on(api: Api) -> None:
    declined = case_in(api, "assigned")
    done(api, declined, "decline", "lawyer", {"reason": "Conflict of interest."})
    replaced = case_in(api, "assigned")
    done(api, replaced, "assign", "desk", {"firm_org_id": "00000000-0000-4000-8000-0000000001a2"})
    assert ids(api.get("/cases", user="lawyer")) == set()
    assert ids(api.get("/cases", user="lawyer3")) == {replaced["id"]}


def test_filters_narrow_the_list(api: Api, many: dict[str, dict[str, Any]]) -> None:
    def listed(query: str, user: str = "desk") -> set[str]:
        return ids(api.get(f"/cases?{query}", user=user))

    assert listed("status=assigned") == {many["bob_law"]["id"]}
    assert listed("status=assigned&status=submitted") == {c["id"] for c in many.values()}
    assert listed(f"category={Catalogue.ip}") == {many["carol_ip"]["id"]}
    assert listed(f"item_id={Catalogue.patent}") == {many["carol_ip"]["id"]}
    assert listed("priority=urgent") == {many["alice"]["id"]}
    assert listed(f"firm_org_id={LAW}") == {many["bob_law"]["id"]}
    assert listed(f"org_id={many['dave']['organisation']['id']}") == {many["dave"]["id"], many["carol_ip"]["id"]}
    assert listed("q=CONTRACT") == {many["bob_new"]["id"], many["bob_law"]["id"]}
    assert listed(f"q={many['alice']['number']}") == {many["alice"]["id"]}
    assert listed("q=%25") == set()  # % is itself, not a wildcard
    assert listed("submitted_from=2000-01-01T00:00:00%2B08:00&submitted_to=2000-01-02T00:00:00%2B08:00") == set()
    assert len(listed("submitted_from=2000-01-01T00:00:00%2B08:00")) == 5
    # Filters never widen a scope: a tenant asking for another organisation gets nothing of it.
    assert listed(f"org_id={many['dave']['organisation']['id']}", user="bob") == set()
    assert listed(f"firm_org_id={IPA}", user="lawyer") == set()


def test_the_list_is_paged_newest_first(api: Api, many: dict[str, dict[str, Any]]) -> None:
    first = api.get("/cases?page_size=2", user="desk").json
    second = api.get("/cases?page_size=2&page=2", user="desk").json
    third = api.get("/cases?page_size=2&page=3", user="desk").json
    assert (first["total"], first["page"], first["page_size"]) == (5, 1, 2)
    numbers = [c["number"] for page in (first, second, third) for c in page["items"]]
    assert numbers == sorted((c["number"] for c in many.values()), reverse=True)
    assert all(c["sla"] is None for c in first["items"])


@pytest.mark.parametrize("query", ["status=lost", "page=0", "page_size=500", "submitted_from=yesterday", "q="])
def test_bad_list_parameters_are_422(api: Api, query: str) -> None:
    response = api.get(f"/cases?{query}", user="desk")
    assert response.status_code == 422 and response.json["errors"]


@pytest.mark.parametrize("query", ["colour=red", "scope=all", "organisation_id=x"])
def test_unknown_list_parameters_are_refused(api: Api, query: str) -> None:
    response = api.get(f"/cases?{query}", user="desk")
    assert response.status_code == 400 and response.json["type"].endswith("/unknown-parameter")
    assert response.json["parameters"] == [query.split("=", maxsplit=1)[0]]


# Reading ---------------------------------------------------------------------------------------


def test_the_state_is_named_for_the_reader(api: Api) -> None:
    case = case_in(api, "assigned")
    labels = {u: api.get(f"/cases/{case['id']}", user=u).json["status_label"] for u in ("bob", "desk", "lawyer")}
    assert labels == {"bob": "Passed to a partner firm", "desk": "Assigned to a firm", "lawyer": "Assigned to a firm"}
    zh = api.get(f"/cases/{case['id']}", user="bob", headers={"Accept-Language": "zh"}).json
    assert zh["status_label"] == "已转交合作机构"


def test_the_actions_are_what_the_caller_may_do_now(api: Api) -> None:
    case = case_in(api, "in_progress")
    actions = {u: api.get(f"/cases/{case['id']}", user=u).json["actions"] for u in ("bob", "alice", "lawyer", "desk")}
    assert actions == {
        "bob": [],
        "alice": [],
        "lawyer": ["wait", "propose_solution"],
        "desk": ["wait"],
    }


def test_a_tenant_sees_the_tenant_clock_only(api: Api) -> None:
    case = case_in(api, "assigned")
    assert {c["clock"] for c in api.get(f"/cases/{case['id']}", user="bob").json["sla"]} == {"tenant"}
    assert {c["clock"] for c in api.get(f"/cases/{case['id']}", user="desk").json["sla"]} == {"tenant", "firm"}


# The audit trail -------------------------------------------------------------------------------


def test_history_oldest_first_in_the_readers_names(api: Api) -> None:
    case = case_in(api, "waiting_on_tenant")
    desk = api.get(f"/cases/{case['id']}/history", user="desk").json["items"]
    assert [line["action"] for line in desk] == ["submit", "triage", "assign", "accept", "start", "wait"]
    assert desk[2]["details"] == {"firm_org_id": LAW}
    assert (desk[5]["from_status_label"], desk[5]["to_status_label"]) == ("In progress", "Waiting on the tenant")
    assert (desk[5]["actor"], desk[5]["actor_name"], desk[5]["reason"]) == (
        "user:lawyer",
        "Henry Zhou",
        "Send the signed annex.",
    )
    assert desk[0]["at"].endswith("+08:00") and desk[0]["action_label"] == "Submitted"
    tenant = api.get(f"/cases/{case['id']}/history", user="bob").json["items"]
    assert (tenant[5]["from_status_label"], tenant[5]["to_status_label"]) == (
        "Being worked on",
        "Waiting for your reply",
    )
    assert all(line["details"] == {} for line in tenant)
    zh = api.get(f"/cases/{case['id']}/history", user="bob", headers={"Accept-Language": "zh"}).json["items"]
    assert zh[5]["to_status_label"] == "等待您的答复"


def test_a_firms_decline_is_the_desks_to_read(api: Api) -> None:
    case = case_in(api, "assigned")
    case = done(api, case, "decline", "lawyer", {"reason": "Conflict of interest."})
    done(api, case, "assign", "desk", {"firm_org_id": "00000000-0000-4000-8000-0000000001a2"})
    desk = [line["action"] for line in api.get(f"/cases/{case['id']}/history", user="desk").json["items"]]
    assert desk == ["submit", "triage", "assign", "decline", "assign"]
    for user in ("bob", "alice", "lawyer3"):
        lines = api.get(f"/cases/{case['id']}/history", user=user).json["items"]
        assert [line["action"] for line in lines] == ["submit", "triage", "assign", "assign"], user
        assert all(line["reason"] is None for line in lines)
    assert api.get(f"/cases/{case['id']}", user="lawyer3").json["reason"] is None


def test_a_tenant_reads_the_reason_of_a_wait(api: Api) -> None:
    case = case_in(api, "waiting_on_tenant")
    assert api.get(f"/cases/{case['id']}", user="bob").json["reason"] == "Send the signed annex."
    assert act(api, case, "resume", "alice").status_code == 200


def test_a_refused_submission_reads_in_chinese(api: Api) -> None:
    unknown = "00000000-0000-4000-8000-00000000dead"
    response = api.post(
        "/cases",
        {"item_id": unknown, "subject": "x", "description": "y"},
        user="bob",
        **{"Accept-Language": "zh"},
    )
    assert response.status_code == 422 and response.json["detail"] == f"服务目录中没有服务项目{unknown}。"
