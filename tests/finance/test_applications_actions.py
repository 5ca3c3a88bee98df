"""Applications over HTTP after submission: the desk's pre-review, routing, turn-down, the
tenant's withdrawal; lists, one application and its history as each reader sees them."""

from __future__ import annotations

from typing import Any

from services.finance.models import ApplicationTransition, Offer, Review
from shared.db import Database
from tests.booking.conftest import BANK, ORG_A, ORG_B, Api
from tests.finance.conftest import BANK2, BUREAU, GUARANTEE, LAW, Products, outbox
from tests.finance.test_applications import act, add_documents, add_offer, code, draft, routed, rows, submitted


def types(db: Database) -> list[str]:
    return [e["type"] for e in outbox(db)]


# Pre-review and routing --------------------------------------------------------------------------


def test_the_desk_starts_the_pre_review_and_routes_to_providers(api: Api, db: Database) -> None:
    application = submitted(api, db)
    assert act(api, application, "start-pre-review", "alice").status_code == 403
    assert act(api, application, "start-pre-review", "bank").status_code == 403
    started = act(api, application, "start-pre-review", "desk")
    assert started.status_code == 200 and started.json["status"] == "pre_review"
    assert set(started.json["actions"]) == {"route", "turn_down"}
    tenant = api.get(f"/applications/{application['id']}", user="alice").json
    assert tenant["status_label"] == "Being checked by the park" and tenant["actions"] == ["withdraw"]
    answer = act(api, started.json, "route", "desk", {"partner_org_ids": [BANK, GUARANTEE]})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["status"] == "routed" and body["partner_org_ids"] == [BANK, GUARANTEE]
    assert [r["status"] for r in body["reviews"]] == ["routed", "routed"]
    event = outbox(db)[-1]
    assert event["type"] == "finance.application.routed"
    assert event["data"]["added_partner_org_ids"] == [BANK, GUARANTEE]
    assert event["data"]["partner_org_ids"] == [BANK, GUARANTEE]
    again = act(api, body, "route", "desk", {"partner_org_ids": [BANK2]})
    assert again.status_code == 200 and again.json["partner_org_ids"] == [BANK, GUARANTEE, BANK2]
    assert outbox(db)[-1]["data"]["added_partner_org_ids"] == [BANK2]


def test_routing_refusals(api: Api, db: Database) -> None:
    application = act(api, submitted(api, db), "start-pre-review", "desk").json
    cases = [
        ({"partner_org_ids": []}, 422, "rule/route-empty"),
        ({"partner_org_ids": [BUREAU]}, 422, "rule/route-not-provider"),
        ({"partner_org_ids": [LAW]}, 422, "rule/route-not-provider"),
        ({}, 422, None),
        ({"partner_org_ids": "bank"}, 422, None),
    ]
    for body, status, expected in cases:
        answer = act(api, application, "route", "desk", body)
        assert answer.status_code == status, (body, answer.json)
        if expected:
            assert code(answer) == expected
    assert rows(db, Review) == []
    routed_once = act(api, application, "route", "desk", {"partner_org_ids": [BANK]}).json
    repeated = act(api, routed_once, "route", "desk", {"partner_org_ids": [BANK]})
    assert repeated.status_code == 409 and code(repeated) == "rule/route-repeated"


def test_a_draft_cannot_be_routed_and_the_refusal_names_the_states(api: Api, db: Database) -> None:
    created = draft(api).json
    answer = act(api, created, "route", "desk", {"partner_org_ids": [BANK]})
    assert answer.status_code == 409 and code(answer) == "rule/state-transition"
    assert answer.json["allowed"] == ["pre_review", "routed"]
    assert "In the desk's pre-review" in answer.json["detail"]  # the staff's names
    zh = api.post(
        f"/applications/{created['id']}/start-pre-review",
        None,
        user="desk",
        **{"If-Match": '"1"', "Accept-Language": "zh"},
    )
    assert zh.status_code == 409 and code(zh) == "rule/state-transition"
    assert "Submitted" not in zh.json["detail"]


def test_if_match_is_required_on_actions(api: Api, db: Database) -> None:
    application = submitted(api, db)
    path = f"/applications/{application['id']}/start-pre-review"
    assert api.post(path, None, user="desk").status_code == 428
    assert api.post(path, None, user="desk", **{"If-Match": '"999"'}).status_code == 412


# Turn-down and withdrawal ------------------------------------------------------------------------


def test_the_desk_turns_down_with_a_reason_ending_reviews_and_offers(api: Api, db: Database) -> None:
    application = routed(api, db, [BANK, BANK2])
    offer = add_offer(db, application["id"], BANK)
    current = api.get(f"/applications/{application['id']}", user="desk").json
    missing = act(api, current, "turn-down", "desk", {"reason": "  "})
    assert missing.status_code == 422 and code(missing) == "rule/reason-required"
    assert act(api, current, "turn-down", "alice", {"reason": "no"}).status_code == 403
    answer = act(api, current, "turn-down", "desk", {"reason": "Outside the park's priorities"})
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "closed" and answer.json["closed_at"] is not None
    assert answer.json["reason"] == "Outside the park's priorities" and answer.json["actions"] == []
    assert {r.status for r in rows(db, Review)} == {"cancelled"}
    assert rows(db, Offer)[0].status == "withdrawn" and rows(db, Offer)[0].id == offer
    event = outbox(db)[-1]
    assert event["type"] == "finance.application.closed" and event["data"]["reason"] == "Outside the park's priorities"


def test_the_tenant_withdraws_before_acceptance(api: Api, db: Database) -> None:
    application = routed(api, db)
    add_offer(db, application["id"], BANK)
    current = api.get(f"/applications/{application['id']}").json
    assert act(api, current, "withdraw", "carol").status_code == 404
    assert act(api, current, "withdraw", "desk").status_code == 403
    assert act(api, current, "withdraw", "bank").status_code == 403
    answer = act(api, current, "withdraw", "bob")
    assert answer.status_code == 200 and answer.json["status"] == "withdrawn"
    assert rows(db, Review)[0].status == "cancelled" and rows(db, Offer)[0].status == "withdrawn"
    assert types(db)[-1] == "finance.application.withdrawn"
    again = act(api, answer.json, "withdraw", "alice")
    assert again.status_code == 409 and code(again) == "rule/state-transition"
    assert again.json["allowed"] == ["draft", "submitted", "pre_review", "routed"]


def test_a_reason_with_a_nul_character_is_a_field_error_and_nothing_is_written(api: Api, db: Database) -> None:
    """A reason is text a person reads: a NUL in it is the field's error (422), as in every other
    reason, not stored (SQLite took it) nor a database refusal (PostgreSQL's value-not-storable)."""
    created = draft(api).json
    refused = act(api, created, "withdraw", "alice", {"reason": "moving\x00out"})
    assert refused.status_code == 422 and code(refused) == "validation-failed", refused.json
    assert "reason" in refused.json["errors"]
    assert api.get(f"/applications/{created['id']}").json["status"] == "draft"
    assert types(db) == []


def test_a_draft_is_withdrawn_without_reviews(api: Api, db: Database) -> None:
    created = draft(api).json
    answer = act(api, created, "withdraw", "alice")
    assert answer.status_code == 200 and answer.json["status"] == "withdrawn"
    assert types(db) == ["finance.application.withdrawn"]


# Reading -----------------------------------------------------------------------------------------


def test_who_reads_an_application(api: Api, db: Database) -> None:
    application = routed(api, db, [BANK, BANK2])
    path = f"/applications/{application['id']}"
    for user in ("alice", "bob", "desk", "admin", "bank", "banker"):
        assert api.get(path, user=user).status_code == 200, user
    for user in ("carol", "dave", "guarantor", "lawyer", "bureau"):
        assert api.get(path, user=user).status_code == 404, user
    bank = api.get(path, user="bank").json
    assert [r["partner"]["id"] for r in bank["reviews"]] == [BANK]
    assert bank["partner_org_ids"] == [BANK] and bank["status_label"] == "Routed to partners"
    assert bank["profile"]["sector"] == "biomedicine" and bank["actions"] == []
    tenant = api.get(path, user="alice").json
    assert [r["partner"]["id"] for r in tenant["reviews"]] == [BANK, BANK2]
    assert tenant["status_label"] == "With the financing partners"
    assert set(tenant["actions"]) == {"edit", "withdraw"}
    zh = api.get(path, user="alice", headers={"Accept-Language": "zh"}).json
    assert zh["organisation"]["display_name"] == "成都细胞治疗"


def test_lists_by_reader_with_filters_and_paging(api: Api, db: Database) -> None:
    first = routed(api, db, [BANK])
    second = draft(api, user="bob", product_id=Products.subsidy, amount="20000.00", term_months=6).json
    carols = draft(api, user="carol").json

    def ids(user: str, query: str = "") -> list[str]:
        answer = api.get(f"/applications{query}", user=user)
        assert answer.status_code == 200, answer.json
        return [item["id"] for item in answer.json["items"]]

    assert ids("alice") == [second["id"], first["id"]]  # newest first
    assert ids("carol") == [carols["id"]]
    assert ids("bank") == [first["id"]]
    assert ids("banker") == [] and ids("lawyer") == []
    assert ids("desk") == [carols["id"], second["id"], first["id"]]
    assert ids("desk", f"?org_id={ORG_B}") == [carols["id"]]
    assert ids("desk", "?status=routed") == [first["id"]]
    assert ids("desk", "?status=draft&status=routed") == [carols["id"], second["id"], first["id"]]
    assert ids("desk", "?kind=subsidy") == [second["id"]]
    assert ids("desk", f"?product_id={Products.loan}") == [carols["id"], first["id"]]
    assert ids("desk", f"?q={first['number'][-5:]}") == [first["id"]]
    assert ids("alice", f"?org_id={ORG_B}") == []  # a filter only narrows
    page = api.get("/applications?page=2&page_size=2", user="desk").json
    assert page["total"] == 3 and [i["id"] for i in page["items"]] == [first["id"]]
    refused = api.get("/applications?colour=red", user="desk")
    assert refused.status_code == 400 and code(refused) == "unknown-parameter"
    assert api.get("/applications?status=lost", user="desk").status_code == 422
    assert ORG_A  # the tenant of the fixtures


def test_history_by_reader(api: Api, db: Database) -> None:
    application = routed(api, db, [BANK, BANK2])
    add_offer(db, application["id"], BANK)
    current = api.get(f"/applications/{application['id']}").json
    api.patch(
        f"/applications/{application['id']}",
        {"purpose": "More lab equipment"},
        user="alice",
        **{"If-Match": f'"{current["version"]}"'},
    )
    path = f"/applications/{application['id']}/history"

    def lines(user: str) -> list[dict[str, Any]]:
        answer = api.get(path, user=user)
        assert answer.status_code == 200, answer.json
        return list(answer.json["items"])

    staff = lines("desk")
    assert [(line["subject"], line["action"]) for line in staff] == [
        ("application", "draft"),
        ("application", "submit"),
        ("application", "start_pre_review"),
        ("application", "route"),
        ("application", "edit"),
        ("offer", "invalidate"),
        ("review", "reconsider"),
    ]
    route = next(line for line in staff if line["subject"] == "application" and line["action"] == "route")
    assert route["details"] == {"added_partner_org_ids": [BANK, BANK2]}
    bank2 = lines("banker")
    assert all(line["partner_org_id"] in (None, BANK2) for line in bank2)
    assert (
        next(line for line in bank2 if line["action"] == "route" and line["subject"] == "application")["details"] == {}
    )
    bank = lines("bank")
    assert any(line["subject"] == "offer" for line in bank)
    offer_line = next(line for line in bank if line["subject"] == "offer")
    assert offer_line["to_status_label"] == "No longer valid: the application was edited"
    assert offer_line["action_label"] == "No longer valid: the application was edited"
    tenant = lines("alice")
    assert tenant[0]["to_status_label"] == "Draft" and tenant[0]["action_label"] == "Drafted"
    assert len(tenant) == len(staff)
    assert api.get(path, user="carol").status_code == 404
    assert rows(db, ApplicationTransition)


def test_documents_are_counted(api: Api, db: Database) -> None:
    created = draft(api).json
    add_documents(db, created["id"], "business_plan")
    assert api.get(f"/applications/{created['id']}").json["documents_count"] == 1


def test_a_subsidy_goes_to_its_bureau_only(api: Api, db: Database) -> None:
    created = draft(api, product_id=Products.subsidy, amount="20000.00", term_months=6).json
    add_documents(db, created["id"], "business_licence")
    application = act(api, act(api, created, "submit", "alice").json, "start-pre-review", "desk").json
    to_bank = act(api, application, "route", "desk", {"partner_org_ids": [BANK]})
    assert to_bank.status_code == 422 and code(to_bank) == "rule/route-not-provider"
    answer = act(api, application, "route", "desk", {"partner_org_ids": [BUREAU]})
    assert answer.status_code == 200 and answer.json["status"] == "routed"
    path = f"/applications/{application['id']}"
    assert api.get(path, user="bureau").status_code == 200
    assert api.get(path, user="bank").status_code == 404
    assert [i["id"] for i in api.get("/applications", user="bank").json["items"]] == []
