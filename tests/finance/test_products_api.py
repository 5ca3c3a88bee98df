"""Financing products over HTTP: everyone signed in reads them (tenants and partners the active
ones), each with its window's state now, its fees and eligibility in words, its providers as
organisation refs and the all-in cost of a typical request; park admin creates and changes them
under If-Match, and bad terms, checklists, windows and providers are refused with their codes in
English and Chinese, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from services.finance.models import Product, ProductProvider
from services.finance.rules.cost import all_in_cost, offer
from shared.db import Database
from tests.booking.conftest import BANK, ORG_A, Api
from tests.finance.conftest import BANK2, BUREAU, CHECKLIST, GUARANTEE, LAW, LOAN_FEES, Products

ZH = {"Accept-Language": "zh-CN"}


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.json["type"].endswith("/" + code), response.json
    body: dict[str, Any] = response.json
    return body


def new_loan(**more: Any) -> dict[str, Any]:
    return {
        "code": "equipment_lease",
        "kind": "leasing",
        "name": "Lab equipment lease",
        "name_zh": "实验设备融资租赁",
        "amount_min": "200000.00",
        "amount_max": "8000000.00",
        "term_min": 12,
        "term_max": 60,
        "rate_min": "5.2",
        "rate_max": "7.8",
        "repayment_method": "equal_instalments",
        "fees": [{"kind": "service", "basis": "percent", "value": "1", "timing": "upfront"}],
        "eligibility": {"sectors": ["biomedicine"], "employees": {"min": 10}},
        "checklist": CHECKLIST,
        "providers": [{"org_id": BANK2, "role": "lessor"}],
        **more,
    }


def new_subsidy(**more: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "code": "talent_subsidy",
        "kind": "subsidy",
        "name": "Talent subsidy",
        "name_zh": "人才补贴",
        "amount_min": "10000",
        "amount_max": "200000",
        "term_min": 1,
        "term_max": 1,
        "checklist": CHECKLIST[:1],
        "window": {
            "opens_at": (now + timedelta(days=5)).isoformat(),
            "closes_at": (now + timedelta(days=40)).isoformat(),
            "grace_days": 5,
        },
        "providers": [{"org_id": BUREAU, "role": "grantor"}],
        **more,
    }


def count_products(db: Database) -> tuple[int | None, int | None]:
    with db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Product)),
            session.scalar(select(func.count()).select_from(ProductProvider)),
        )


# Reading ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["alice", "bob", "carol", "banker", "bureau", "lawyer", "desk", "admin"])
def test_everyone_signed_in_reads_the_products(api: Api, user: str) -> None:
    response = api.get("/products", user=user)
    assert response.status_code == 200
    assert [p["id"] for p in response.json["items"]] == [Products.loan, Products.subsidy, Products.ip_loan]


def test_nobody_unsigned_reads_them(api: Api) -> None:
    assert api.get("/products", user=None).status_code == 401


def test_a_product_answers_what_a_tenant_compares(api: Api) -> None:
    loan = api.get(f"/products/{Products.loan}").json
    assert loan["kind"] == "guaranteed_loan" and loan["kind_label"] == "Guaranteed bank loan"
    assert loan["amount"] == {"min": "100000.00", "max": "5000000.00", "currency": "CNY"}
    assert loan["term_months"] == {"min": 6, "max": 36}
    assert loan["rate"] == {"min": "3.4500", "max": "6.0000"}
    assert loan["fees"] == [
        {
            "kind": "guarantee",
            "kind_label": "Guarantee fee",
            "basis": "percent_per_year",
            "basis_label": "Percent of the principal per year",
            "value": "1.5",
            "timing": "upfront",
            "timing_label": "Paid up front",
        }
    ]
    assert loan["eligibility"] == {"min_years_in_park": 1}
    assert loan["eligibility_text"] == ["At least 1 full years in the park."]
    assert loan["window"] is None
    assert [item["type"] for item in loan["checklist"]] == [c["type"] for c in CHECKLIST]
    assert {p["id"]: p["role"] for p in loan["providers"]} == {BANK: "lender", BANK2: "lender", GUARANTEE: "guarantor"}
    names = {p["id"]: p["display_name"] for p in loan["providers"]}
    assert names[GUARANTEE] == "Chengdu Hi-Tech Financing Guarantee"
    # the example: a million yuan over a year at the middle of the range, the guarantee fee counted
    expected = all_in_cost(offer(Decimal("1000000.00"), 12, Decimal("4.725"), "equal_instalments", LOAN_FEES))
    example = loan["example_cost"]
    assert example["amount"] == "1000000.00" and example["term_months"] == 12
    assert example["nominal_rate"] == "4.7250"
    assert example["annual_rate"] == f"{expected.annual_rate:.2f}"
    assert Decimal(example["annual_rate"]) > Decimal("4.725")  # the fee costs something
    assert example["total_cost"] == f"{expected.total_cost:.2f}"


def test_the_subsidy_s_window_is_open_now_and_has_no_cost(api: Api) -> None:
    subsidy = api.get(f"/products/{Products.subsidy}").json
    assert subsidy["window"]["state"] == "open" and subsidy["window"]["state_label"] == "Open"
    assert subsidy["window"]["opens_at"].endswith("+08:00")
    assert subsidy["rate"] is None and subsidy["example_cost"] is None
    assert subsidy["providers"][0]["id"] == BUREAU
    zh = api.get(f"/products/{Products.subsidy}", headers=ZH).json
    assert zh["display_name"] == "2026年研发补贴申报"
    assert zh["kind_label"] != subsidy["kind_label"]


def test_the_list_filters_by_kind_and_refuses_unknown_parameters(api: Api) -> None:
    loans = api.get("/products?kind=guaranteed_loan").json["items"]
    assert [p["id"] for p in loans] == [Products.loan]
    assert api.get("/products?kind=mortgage").status_code == 422
    unknown = problem(api.get("/products?colour=red"), 400, "unknown-parameter")
    assert unknown["parameters"] == ["colour"]


def test_an_inactive_product_is_hidden_but_from_staff(api: Api) -> None:
    version = api.get(f"/products/{Products.ip_loan}", user="admin").headers["ETag"]
    assert api.patch(f"/products/{Products.ip_loan}", {"active": False}, **{"If-Match": version}).status_code == 200
    for user in ("alice", "banker"):
        assert Products.ip_loan not in [p["id"] for p in api.get("/products", user=user).json["items"]]
        problem(api.get(f"/products/{Products.ip_loan}", user=user), 404, "not-found")
    staff = api.get("/products?active=false", user="desk").json["items"]
    assert [p["id"] for p in staff] == [Products.ip_loan]
    assert api.get(f"/products/{Products.ip_loan}", user="desk").status_code == 200


# Writing ------------------------------------------------------------------------------------------


def test_park_admin_adds_a_product(api: Api, db: Database) -> None:
    response = api.post("/products", new_loan(), user="admin")
    assert response.status_code == 201, response.json
    product = response.json
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"/products/{product['id']}")
    assert product["kind_label"] == "Financial leasing"
    assert product["amount"]["max"] == "8000000.00" and product["rate"] == {"min": "5.2000", "max": "7.8000"}
    assert product["eligibility_text"] == ["Companies in the sectors biomedicine.", "At least 10 employees."]
    assert product["providers"] == [
        {
            "id": BANK2,
            "name": "Jincheng Rural Bank",
            "name_zh": "锦城农商银行",
            "display_name": "Jincheng Rural Bank",
            "role": "lessor",
        }
    ]
    assert product["example_cost"]["term_months"] == 12 and product["example_cost"]["amount"] == "1000000.00"
    assert api.get(f"/products/{product['id']}", user="bob").json == product


def test_a_subsidy_call_not_yet_open(api: Api) -> None:
    response = api.post("/products", new_subsidy(), user="admin")
    assert response.status_code == 201, response.json
    window = response.json["window"]
    assert window["state"] == "not_open" and window["grace_days"] == 5
    zh = api.get(f"/products/{response.json['id']}", headers=ZH).json["window"]
    assert zh["state_label"] == "尚未开放"


@pytest.mark.parametrize("user", ["alice", "bob", "banker", "bureau", "desk"])
def test_only_park_admin_manages_products(api: Api, db: Database, user: str) -> None:
    before = count_products(db)
    refused = problem(api.post("/products", new_loan(), user=user), 403, "forbidden")
    assert refused["detail"].startswith("Only park admin")
    zh = api.post("/products", new_loan(), user=user, **ZH).json
    assert zh["detail"].startswith("只有")
    assert (
        api.patch(f"/products/{Products.loan}", {"active": False}, user=user, **{"If-Match": '"1"'}).status_code == 403
    )
    assert count_products(db) == before


BAD_PRODUCTS = [
    ("amount_max", "1000.00", "rule/amount-range"),
    ("amount_min", 200000, None),  # a JSON number is no amount: a field error
    ("rate_min", "9.5", "rule/rate-range"),
    ("rate_max", "40", "rule/rate-cap"),
    ("rate_min", None, "rule/rate-required"),
    ("term_max", 6, "rule/term-range"),
    ("fees", [{"kind": "arrangement", "basis": "percent", "value": "1", "timing": "monthly"}], "rule/fee-timing"),
    ("fees", [{"kind": "penalty", "basis": "flat", "value": "1", "timing": "upfront"}], "rule/fee-kind"),
    ("eligibility", {"employees": {"min": 50, "max": 10}}, "rule/eligibility-range"),
    ("eligibility", {"sectors": ["Bio Medicine"]}, "rule/eligibility-invalid"),
    ("checklist", [CHECKLIST[0], CHECKLIST[0]], "rule/checklist-duplicate"),
    ("checklist", [{**CHECKLIST[0], "type": "Business Licence"}], None),
    ("checklist", [{"type": "licence", "name": "Licence", "required": True}], None),  # no Chinese name
    (
        "window",
        {"opens_at": "2026-03-01T09:00:00+08:00", "closes_at": "2026-04-01T09:00:00+08:00"},
        "rule/window-not-applicable",
    ),
    ("providers", [{"org_id": ORG_A}], "rule/not-a-provider"),
    ("providers", [{"org_id": LAW}], "rule/not-a-provider"),
    ("providers", [{"org_id": "no-such-org"}], "rule/not-a-provider"),
    ("providers", [{"org_id": BANK2}, {"org_id": BANK2}], "rule/provider-duplicate"),
    ("kind", "mortgage", None),
]


@pytest.mark.parametrize(("field", "value", "code"), BAD_PRODUCTS)
def test_bad_products_are_refused_and_nothing_is_written(
    api: Api, db: Database, field: str, value: Any, code: str | None
) -> None:
    before = count_products(db)
    response = api.post("/products", new_loan(**{field: value}), user="admin")
    if code is None:
        assert response.status_code == 422 and field in str(response.json.get("errors")), response.json
    else:
        body = problem(response, 422, code)
        assert body["detail"]
        zh = api.post("/products", new_loan(**{field: value}), user="admin", **ZH)
        assert zh.json["type"].endswith("/" + code) and zh.json["detail"] != body["detail"]
    assert count_products(db) == before


BAD_WINDOWS = [
    ({"closes_at": "2026-01-01T09:00:00+08:00"}, "rule/window-order"),
    ({"opens_at": "2026-03-01T09:00:00"}, "rule/window-invalid"),
    ({"grace_days": 91}, "rule/window-grace"),
    ({"grace_days": "3"}, "rule/window-grace"),
]


@pytest.mark.parametrize(("change", "code"), BAD_WINDOWS)
def test_bad_windows_are_refused(api: Api, db: Database, change: dict[str, Any], code: str) -> None:
    subsidy = new_subsidy()
    subsidy["window"] = {**subsidy["window"], **change}
    before = count_products(db)
    problem(api.post("/products", subsidy, user="admin"), 422, code)
    assert count_products(db) == before


def test_a_subsidy_needs_its_window_and_no_rate(api: Api) -> None:
    problem(api.post("/products", new_subsidy(window=None), user="admin"), 422, "rule/window-required")
    problem(
        api.post("/products", new_subsidy(rate_min="1", rate_max="2"), user="admin"), 422, "rule/rate-not-applicable"
    )


def test_a_code_is_taken_once(api: Api, db: Database) -> None:
    assert api.post("/products", new_loan(), user="admin").status_code == 201
    before = count_products(db)
    problem(api.post("/products", new_loan(), user="admin"), 409, "rule/product-code-taken")
    assert count_products(db) == before


def test_changing_a_product_needs_if_match_and_checks_the_terms_whole(api: Api, db: Database) -> None:
    path = f"/products/{Products.loan}"
    assert api.patch(path, {"active": False}).status_code == 428
    problem(api.patch(path, {"amount_min": "9000000"}, **{"If-Match": '"1"'}), 422, "rule/amount-range")
    assert api.patch(path, {"position": 9}, **{"If-Match": '"7"'}).status_code == 412
    changed = api.patch(
        path, {"amount_max": "6000000", "providers": [{"org_id": BANK, "role": "lender"}]}, **{"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.json
    assert changed.headers["ETag"] == '"2"'
    assert changed.json["amount"]["max"] == "6000000.00"
    assert [p["id"] for p in changed.json["providers"]] == [BANK]
    refused = api.patch(path, {"providers": [{"org_id": ORG_A}]}, **{"If-Match": '"2"'})
    problem(refused, 422, "rule/not-a-provider")
    assert [p["id"] for p in api.get(path).json["providers"]] == [BANK]
    assert (
        api.patch(f"/products/{'0' * 8}-0000-4000-8000-000000000000", {"position": 1}, **{"If-Match": "*"}).status_code
        == 404
    )


def test_a_repeated_post_with_its_idempotency_key_adds_one_product(api: Api, db: Database) -> None:
    before = count_products(db)
    first = api.post("/products", new_loan(), user="admin", **{"Idempotency-Key": "lease-1"})
    again = api.post("/products", new_loan(), user="admin", **{"Idempotency-Key": "lease-1"})
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert count_products(db) == (before[0] + 1, before[1] + 1)  # type: ignore[operator]
