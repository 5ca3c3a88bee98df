"""The catalogue over HTTP: park admin manages categories and items; everyone signed in reads the
active part; tenants see what they need to submit (the tenant's targets in minutes and words),
never the firms; the SLA policy, fee range and intake form are refused when they cannot work."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.consulting.models import FirmCategory
from services.consulting.rules.catalogue import business_minutes_words, check_fee_range, check_sla_policy
from services.consulting.rules.lifecycle import MAX_FEE
from shared.errors import RuleViolation
from tests.consulting.conftest import LAW, LAW2, LEGAL_FIELDS, SLA_POLICY, Catalogue

ZH = {"Accept-Language": "zh-CN"}
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def new_item(**more: Any) -> dict[str, Any]:
    return {
        "category": Catalogue.legal,
        "code": "labour_contract_review",
        "name": "Labour contract review",
        "name_zh": "劳动合同审查",
        "intake_fields": LEGAL_FIELDS,
        "fee_guidance": "From 1,500 yuan",
        "fee_guidance_zh": "1500元起",
        "fee_from": "1500.00",
        "fee_to": "6000",
        "quote_required": True,
        "sla_policy": SLA_POLICY,
        **more,
    }


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.json["type"].endswith("/" + code), response.json
    body: dict[str, Any] = response.json
    return body


# Categories ------------------------------------------------------------------------------------


def test_everyone_signed_in_reads_the_categories_but_only_staff_see_the_firms(api):
    for user in ("alice", "lawyer", "desk"):
        response = api.get("/categories", user=user)
        assert response.status_code == 200
        assert [c["code"] for c in response.json["items"]] == [Catalogue.legal, Catalogue.ip]
    tenant = api.get("/categories", user="bob").json["items"][0]
    assert tenant["firms"] is None
    staff = api.get("/categories", user="desk").json["items"][0]
    assert sorted(f["id"] for f in staff["firms"]) == sorted([LAW, LAW2])
    assert staff["routing"] == "manual" and staff["routing_label"] == "Assigned by the desk"
    zh = api.get(f"/categories/{Catalogue.ip}", user="bob", headers=ZH).json
    assert zh["display_name"] == "知识产权"
    assert zh["routing_label"] == "每家机构轮流"  # needs the catalogue merged
    assert api.get("/categories", user=None).status_code == 401


def test_park_admin_creates_and_changes_a_category(api):
    body = {"code": "taxation", "name": "Taxation", "name_zh": "财税", "routing": "least_load", "position": 3}
    created = api.post("/categories", body, user="admin")
    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith("/categories/taxation")
    assert created.json["active"] is True and created.json["description"] == ""
    problem(api.post("/categories", body, user="admin"), 409, "rule/category-code-taken")
    problem(api.post("/categories", body, user="desk"), 403, "forbidden")

    changed = api.patch("/categories/taxation", {"description": "Tax filing"}, user="admin", **{"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.json["version"] == 2
    assert changed.json["description"] == "Tax filing" and changed.json["routing"] == "least_load"
    problem(
        api.patch("/categories/taxation", {"name": "Tax"}, user="admin", **{"If-Match": '"1"'}),
        412,
        "precondition-failed",
    )
    problem(api.patch("/categories/taxation", {"name": "Tax"}, user="admin"), 428, "precondition-required")
    problem(api.patch("/categories/nothing", {"name": "X"}, user="admin", **{"If-Match": "*"}), 404, "not-found")


@pytest.mark.parametrize(
    "body",
    [
        {"code": "Tax-Filing", "name": "T", "name_zh": "T"},
        {"code": "taxation", "name": "", "name_zh": "T"},
        {"code": "taxation", "name": "T"},
        {"code": "taxation", "name": "T", "name_zh": "T", "routing": "random"},
        {"code": "taxation", "name": "T", "name_zh": "T", "colour": "red"},
    ],
)
def test_a_bad_category_is_refused_with_field_errors(api, body):
    response = api.post("/categories", body, user="admin")
    assert response.status_code == 422
    assert response.json["errors"]


def test_an_inactive_category_and_its_items_are_hidden_from_all_but_staff(api):
    api.patch(f"/categories/{Catalogue.ip}", {"active": False}, user="admin", **{"If-Match": '"1"'})
    assert [c["code"] for c in api.get("/categories", user="alice").json["items"]] == [Catalogue.legal]
    problem(api.get(f"/categories/{Catalogue.ip}", user="ipagent"), 404, "not-found")
    problem(api.get(f"/items/{Catalogue.patent}", user="alice"), 404, "not-found")
    assert Catalogue.patent not in [i["id"] for i in api.get("/items", user="alice").json["items"]]
    assert api.get(f"/items/{Catalogue.patent}", user="desk").status_code == 200
    staff = api.get("/categories?active=false", user="admin").json["items"]
    assert [c["code"] for c in staff] == [Catalogue.ip]


def test_unknown_query_parameters_are_refused(api):
    problem(api.get("/categories?colour=red", user="alice"), 400, "unknown-parameter")
    body = problem(api.get("/items?category=legal&page=2", user="alice"), 400, "unknown-parameter")
    assert body["parameters"] == ["page"]
    problem(api.get(f"/items/{Catalogue.contract}?full=1", user="alice"), 400, "unknown-parameter")
    assert api.get("/items?active=maybe", user="desk").status_code == 422


# Items -----------------------------------------------------------------------------------------


def test_park_admin_creates_an_item_and_a_tenant_reads_what_to_submit(api):
    created = api.post("/items", new_item(), user="admin")
    assert created.status_code == 201, created.json
    item = created.json
    assert created.headers["Location"].endswith(f"/items/{item['id']}")
    assert item["fee_from"] == "1500.00" and item["fee_to"] == "6000.00"
    assert item["intake_fields"][1]["max"] == 500
    assert item["sla_policy"] == check_sla_policy(SLA_POLICY)

    tenant = api.get(f"/items/{item['id']}", user="bob").json
    assert tenant["sla_policy"] is None
    assert {t["clock"] for t in tenant["targets"]} == {"tenant"}
    normal = [t for t in tenant["targets"] if t["priority"] == "normal"]
    assert normal[0] == {
        "priority": "normal",
        "priority_label": "Normal",
        "clock": "tenant",
        "clock_label": "The park's promise to the tenant",
        "target": "first_response",
        "target_label": "First response",
        "minutes": 240,
        "text": "4 working hours",
    }
    assert normal[1]["minutes"] == 7200 and normal[1]["text"] == "16 working days"  # 450 minutes a day
    assert tenant["quote_required"] is True and tenant["display_fee_guidance"] == "From 1,500 yuan"
    zh = api.get(f"/items/{item['id']}", user="bob", headers=ZH).json
    assert zh["display_name"] == "劳动合同审查" and zh["display_fee_guidance"] == "1500元起"
    assert zh["targets"][2]["text"] == "4个工作小时"  # needs the catalogue merged

    firm = api.get(f"/items/{item['id']}", user="lawyer").json
    assert {t["clock"] for t in firm["targets"]} == {"tenant", "firm"} and firm["sla_policy"] is None

    problem(api.post("/items", new_item(), user="admin"), 409, "rule/item-code-taken")


def test_items_are_filtered_by_category_in_the_park_s_order(api):
    legal = api.get(f"/items?category={Catalogue.legal}", user="alice").json["items"]
    assert {i["id"] for i in legal} == {Catalogue.contract, Catalogue.litigation}
    every = api.get("/items", user="alice").json["items"]
    assert [i["category"]["code"] for i in every] == [Catalogue.legal, Catalogue.legal, Catalogue.ip]
    # An item names its category as a case does: code and names, in the reader's language.
    assert every[0]["category"] == {"code": "legal", "name": "Legal", "name_zh": "法律", "display_name": "Legal"}
    zh = api.get(f"/items/{Catalogue.contract}", user="alice", headers=ZH).json
    assert zh["category"]["display_name"] == "法律"
    api.patch(f"/items/{Catalogue.litigation}", {"active": False}, user="admin", **{"If-Match": '"1"'})
    assert {i["id"] for i in api.get("/items", user="carol").json["items"]} == {Catalogue.contract, Catalogue.patent}
    inactive = api.get("/items?active=false", user="desk").json["items"]
    assert [i["id"] for i in inactive] == [Catalogue.litigation]


def test_changing_an_item_s_policy_needs_if_match_and_keeps_the_rest(api):
    policy = copy.deepcopy(SLA_POLICY)
    policy["targets"]["urgent"]["tenant"]["first_response"] = 30
    path = f"/items/{Catalogue.contract}"
    problem(api.patch(path, {"sla_policy": policy}, user="admin"), 428, "precondition-required")
    changed = api.patch(path, {"sla_policy": policy}, user="admin", **{"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert changed.json["sla_policy"]["targets"]["urgent"]["tenant"]["first_response"] == 30
    assert changed.json["code"] == "contract_review" and changed.json["intake_fields"][0]["code"] == "contract_type"
    problem(api.patch(path, {"name": "X"}, user="admin", **{"If-Match": '"1"'}), 412, "precondition-failed")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "nothing"}, "rule/unknown-category"),
        ({"fee_from": "900.00", "fee_to": "100.00"}, "rule/fee-range"),
        ({"intake_fields": [{"code": "a", "label": "A", "type": "text"}]}, "rule/intake-definition"),
        ({"sla_policy": {"warn_share": "1.2", "targets": SLA_POLICY["targets"]}}, "rule/sla-policy-warn-share"),
        ({"sla_policy": {"warn_share": "0.8", "targets": {}}}, "rule/sla-policy-shape"),
    ],
)
def test_an_item_that_cannot_work_is_refused_and_nothing_is_written(api, change, code):
    problem(api.post("/items", new_item(**change), user="admin"), 422, code)
    assert "labour_contract_review" not in [i["code"] for i in api.get("/items", user="admin").json["items"]]


def test_a_fee_range_follows_the_fee_rule_of_quotes(api):
    # One limit for the one column: what a firm may quote (MAX_FEE), a range may publish.
    top = api.post("/items", new_item(fee_from="0", fee_to=str(MAX_FEE)), user="admin")
    assert top.status_code == 201, top.json
    assert (top.json["fee_from"], top.json["fee_to"]) == ("0.00", "9999999999.99")
    assert api.post("/items", new_item(code="x_large", fee_to="99999999999"), user="admin").status_code == 422


@pytest.mark.parametrize(
    ("low", "high", "code"),
    [
        ("12.345", None, "rule/fee-places"),
        (None, "10000000000", "rule/fee-too-large"),
        ("-1", None, "rule/fee-positive"),
        ("1e400", None, "rule/fee-too-large"),
        ("5", "4", "rule/fee-range"),
    ],
)
def test_the_fee_range_rule_answers_the_fee_rule_s_codes(low, high, code):
    bounds = (None if b is None else Decimal(b) for b in (low, high))
    with pytest.raises(RuleViolation) as refused:
        check_fee_range(*bounds)
    assert refused.value.code == code
    assert check_fee_range(Decimal("0"), Decimal("1500.5")) == (Decimal("0.00"), Decimal("1500.50"))


def test_intake_definition_errors_read_in_the_reader_s_language(api):
    bad = new_item(intake_fields=[{"code": "a", "label": "A", "type": "text"}])
    body = problem(api.post("/items", bad, user="admin", **ZH), 422, "rule/intake-definition")
    assert body["errors"] == {"intake_fields.0.label_zh": ["需要填写该语言的文本。"]}  # needs the catalogue merged
    body = problem(api.post("/items", bad, user="admin"), 422, "rule/intake-definition")
    assert body["errors"] == {"intake_fields.0.label_zh": ["A text in this language is required."]}


@pytest.mark.parametrize(
    "change",
    [{"fee_from": 12.5}, {"fee_from": "12.345"}, {"fee_from": "-1"}, {"quote_required": "maybe"}, {"code": "X"}],
)
def test_bad_item_fields_are_422(api, change):
    response = api.post("/items", new_item(**change), user="admin")
    assert response.status_code == 422
    assert (
        "fee_from" in response.json["errors"]
        or "quote_required" in response.json["errors"]
        or "code" in (response.json["errors"])
    )


def test_only_park_admin_manages_items(api):
    for user in ("alice", "lawyer", "desk"):
        problem(api.post("/items", new_item(), user=user), 403, "forbidden")
        problem(
            api.patch(f"/items/{Catalogue.contract}", {"name": "X"}, user=user, **{"If-Match": "*"}), 403, "forbidden"
        )
    problem(api.get("/items/00000000-0000-4000-8000-000000000000", user="admin"), 404, "not-found")


# Pure rules ------------------------------------------------------------------------------------


def policy_with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    policy = copy.deepcopy(SLA_POLICY)
    node = policy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return policy


@pytest.mark.parametrize(
    ("policy", "code", "where"),
    [
        ("0.8", "rule/sla-policy-shape", ""),
        ({**SLA_POLICY, "extra": 1}, "rule/sla-policy-shape", ""),
        (policy_with(("warn_share",), "0"), "rule/sla-policy-warn-share", "warn_share"),
        (policy_with(("warn_share",), "1"), "rule/sla-policy-warn-share", "warn_share"),
        (policy_with(("warn_share",), "NaN"), "rule/sla-policy-warn-share", "warn_share"),
        (policy_with(("warn_share",), True), "rule/sla-policy-warn-share", "warn_share"),
        (policy_with(("targets", "low"), None), "rule/sla-policy-shape", "targets.low"),
        (
            policy_with(("targets", "high", "firm"), {"first_response": 60}),
            "rule/sla-policy-shape",
            "targets.high.firm",
        ),
        (
            policy_with(("targets", "normal", "tenant", "resolution"), 0),
            "rule/sla-policy-target",
            "targets.normal.tenant.resolution",
        ),
        (
            policy_with(("targets", "normal", "tenant", "resolution"), 1.5),
            "rule/sla-policy-target",
            "targets.normal.tenant.resolution",
        ),
        (
            policy_with(("targets", "urgent", "firm", "first_response"), 2000),
            "rule/sla-policy-order",
            "targets.urgent.firm",
        ),
    ],
)
def test_sla_policy_refusals_name_where(policy, code, where):
    with pytest.raises(RuleViolation) as error:
        check_sla_policy(policy)
    assert error.value.code == code
    assert error.value.extra["where"] == where


def test_a_policy_is_answered_normalised():
    policy = check_sla_policy(policy_with(("warn_share",), 0.75))
    assert policy["warn_share"] == "0.75"
    assert policy["targets"]["normal"]["firm"] == {"first_response": 480, "resolution": 6720}


@pytest.mark.parametrize(
    ("minutes", "per_day", "en", "zh"),
    [
        (240, 450, "4 working hours", "4个工作小时"),
        (60, 450, "1 working hour", "1个工作小时"),
        (90, 450, "1 working hour 30 minutes", "1个工作小时30分钟"),
        (150, 450, "2 working hours 30 minutes", "2个工作小时30分钟"),
        (45, 450, "45 working minutes", "45分钟工作时间"),
        (450, 450, "1 working day", "1个工作日"),
        (7200, 450, "16 working days", "16个工作日"),
        (900, 0, "15 working hours", "15个工作小时"),
    ],
)
def test_targets_in_words(minutes, per_day, en, zh):
    words = business_minutes_words(minutes, per_day)
    assert words.render("en") == en
    assert words.render("zh") == zh  # needs the catalogue merged


def test_creating_with_an_idempotency_key_replays_the_first_answer(api):
    key = {"Idempotency-Key": "new-item-1"}
    first = api.post("/items", new_item(), user="admin", **key)
    again = api.post("/items", new_item(), user="admin", **key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == first.json["id"]
    other = api.post("/items", new_item(name="Another name"), user="admin", **key)
    assert other.status_code == 422  # another body under the same key
    assert [i["code"] for i in api.get("/items", user="admin").json["items"]].count("labour_contract_review") == 1


def test_a_firm_the_directory_does_not_hold_is_shown_by_its_id(api, db):
    nobody = "00000000-0000-4000-8000-0000000009ff"
    with db.unit_of_work() as uow:
        uow.session.add(
            FirmCategory(firm_org_id=nobody, category_code=Catalogue.legal, declared_by="user:admin", declared_at=NOW)
        )
        uow.commit()
    firms = api.get(f"/categories/{Catalogue.legal}", user="desk").json["firms"]
    assert firms[-1] == {"id": nobody, "name": None, "name_zh": None, "display_name": nobody, "status": None}
    named = [f["display_name"] for f in firms[:-1]]  # the firms the directory holds, by name, first
    assert {f["id"] for f in firms[:-1]} == {LAW, LAW2} and named == sorted(named)


@pytest.mark.parametrize("field", ["name", "name_zh", "description", "fee_guidance"])
def test_a_nul_in_a_catalogue_text_is_a_field_error(api, field):
    refused = api.post("/items", new_item(**{field: "Contract\x00review"}), user="admin")
    assert refused.status_code == 422 and refused.json["errors"] == {field: ["The text holds a NUL character."]}
    category = api.patch(f"/categories/{Catalogue.legal}", {"name": "Le\x00gal"}, user="admin", **{"If-Match": '"1"'})
    assert category.status_code == 422 and category.json["errors"] == {"name": ["The text holds a NUL character."]}
