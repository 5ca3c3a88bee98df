"""Company profiles over HTTP: a tenant reads its company's profile (what eligibility is checked
against), its tenant admin replaces it under If-Match (0 while there is none), staff read any
tenant's; the values are checked (sector code, dates, revenue as a decimal string, whole counts,
the credit code's check character), each refusal with its code, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.finance.models import CompanyProfile
from shared.db import Database
from tests.booking.conftest import BANK, ORG_A, ORG_B, Api

ZH = {"Accept-Language": "zh-CN"}
CREDIT_CODE = "91350100M000100Y43"
"""A unified social credit code whose check character is right (GB 32100-2015)."""


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.json["type"].endswith("/" + code), response.json
    body: dict[str, Any] = response.json
    return body


def profile(**more: Any) -> dict[str, Any]:
    return {
        "sector": "medical_devices",
        "moved_in_on": "2023-06-01",
        "annual_revenue": "3500000.00",
        "employees": 25,
        "granted_patents": 2,
        "credit_code": CREDIT_CODE,
        **more,
    }


def stored(db: Database, org_id: str) -> tuple[Any, ...] | None:
    with db.reading() as session:
        row = session.get(CompanyProfile, org_id)
        return None if row is None else (row.version, row.sector, row.annual_revenue, row.credit_code)


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_a_tenant_reads_its_company_s_profile(api: Api, user: str) -> None:
    response = api.get("/profile", user=user)
    assert response.status_code == 200
    body = response.json
    assert body["organisation"]["id"] == ORG_A and body["organisation"]["display_name"] == "Chengdu Cell Therapeutics"
    assert body["sector"] == "biomedicine" and body["annual_revenue"] == "12000000.00"
    assert body["moved_in_on"] == "2021-03-01" and body["granted_patents"] == 3
    assert response.headers["ETag"] == '"1"'


def test_a_company_without_a_profile_reads_an_empty_one_and_its_admin_writes_the_first(api: Api, db: Database) -> None:
    empty = api.get("/profile", user="dave")
    assert empty.status_code == 200 and empty.headers["ETag"] == '"0"'
    assert empty.json["sector"] is None and empty.json["version"] == 0
    assert api.put("/profile", profile(), user="carol").status_code == 428
    written = api.put("/profile", profile(credit_code=CREDIT_CODE.lower()), user="carol", **{"If-Match": '"0"'})
    assert written.status_code == 200, written.json
    assert written.headers["ETag"] == '"1"'
    assert written.json["credit_code"] == CREDIT_CODE and written.json["updated_by"] == "user:carol"
    assert written.json["organisation"]["id"] == ORG_B
    assert api.get("/profile", user="dave").json == written.json


def test_the_admin_replaces_it_whole_under_if_match(api: Api, db: Database) -> None:
    problem(api.put("/profile", profile(), user="alice", **{"If-Match": '"0"'}), 412, "precondition-failed")
    changed = api.put("/profile", {"sector": "health_it", "employees": 90}, user="alice", **{"If-Match": '"1"'})
    assert changed.status_code == 200, changed.json
    assert changed.json["employees"] == 90 and changed.json["annual_revenue"] is None  # left out: null
    assert (stored(db, ORG_A) or ())[:2] == (2, "health_it")


@pytest.mark.parametrize("user", ["bob", "dave"])
def test_a_member_reads_but_does_not_write(api: Api, db: Database, user: str) -> None:
    before = stored(db, ORG_A), stored(db, ORG_B)
    refused = problem(api.put("/profile", profile(), user=user, **{"If-Match": "*"}), 403, "forbidden")
    assert refused["detail"].startswith("Only a tenant admin")
    assert api.put("/profile", profile(), user=user, **{"If-Match": "*"}, **ZH).json["detail"].startswith("只有")
    assert (stored(db, ORG_A), stored(db, ORG_B)) == before


@pytest.mark.parametrize("user", ["bank", "banker", "bureau", "lawyer", "desk", "admin"])
def test_no_one_but_a_tenant_has_a_profile_of_its_own(api: Api, db: Database, user: str) -> None:
    problem(api.get("/profile", user=user), 403, "forbidden")
    problem(api.put("/profile", profile(), user=user, **{"If-Match": "*"}), 403, "forbidden")
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(CompanyProfile)) == 1


@pytest.mark.parametrize("user", ["desk", "admin"])
def test_staff_read_any_tenant_s_profile(api: Api, user: str) -> None:
    a = api.get(f"/profiles/{ORG_A}", user=user)
    assert a.status_code == 200 and a.json["sector"] == "biomedicine"
    b = api.get(f"/profiles/{ORG_B}", user=user)
    assert b.status_code == 200 and b.json["version"] == 0
    problem(api.get(f"/profiles/{BANK}", user=user), 404, "not-found")
    problem(api.get("/profiles/no-such-org", user=user), 404, "not-found")


@pytest.mark.parametrize("user", ["alice", "bob", "carol", "bank", "bureau"])
def test_no_one_else_reads_another_s_profile(api: Api, user: str) -> None:
    refused = problem(api.get(f"/profiles/{ORG_A}", user=user), 403, "forbidden")
    assert refused["detail"].startswith("Only desk staff or park admin")


BAD = [
    ({"credit_code": "91350100M000100Y44"}, "rule/credit-code"),
    ({"credit_code": "91350100M000100Y4I"}, "rule/credit-code"),
    ({"moved_in_on": "2999-01-01"}, "rule/moved-in-future"),
    ({"annual_revenue": "-5.00"}, "rule/amount-negative"),
    ({"annual_revenue": "12.345"}, "rule/amount-places"),
    ({"annual_revenue": 3500000}, None),
    ({"sector": "Medical Devices"}, None),
    ({"employees": -1}, None),
    ({"employees": 2.5}, None),
    ({"granted_patents": "2"}, None),
    ({"moved_in_on": "2023-02-30"}, None),
    ({"colour": "red"}, None),
]


@pytest.mark.parametrize(("change", "code"), BAD)
def test_bad_profiles_are_refused_and_nothing_is_written(
    api: Api, db: Database, change: dict[str, Any], code: str | None
) -> None:
    before = stored(db, ORG_A)
    response = api.put("/profile", profile(**change), user="alice", **{"If-Match": '"1"'})
    if code is None:
        assert response.status_code == 422, response.json
        assert response.json["type"].endswith("/validation-failed")
        assert set(response.json["errors"]) == set(change)
    else:
        body = problem(response, 422, code)
        zh = api.put("/profile", profile(**change), user="alice", **{"If-Match": '"1"'}, **ZH).json
        assert zh["type"] == body["type"] and zh["detail"] != body["detail"]
    assert stored(db, ORG_A) == before
