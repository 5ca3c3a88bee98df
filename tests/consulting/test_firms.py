"""Partner firms over HTTP: the staff read every partner organisation with the categories it serves
and its open cases; a firm's agent reads and declares its own firm's categories; park admin
declares for any firm; a tenant or an unknown organisation is not a firm."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.consulting.models import Case
from tests.booking.conftest import BANK, OPERATOR, ORG_A
from tests.consulting.conftest import IPA, LAW, LAW2, Catalogue

ZH = {"Accept-Language": "zh-CN"}
NOBODY = "00000000-0000-4000-8000-0000000009ff"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.json["type"].endswith("/" + code), response.json
    body: dict[str, Any] = response.json
    return body


def add_case(db: Any, number: str, firm: str | None, status: str) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work() as uow:
        uow.session.add(
            Case(
                id=f"00000000-0000-4000-8000-00000000d{number}",
                number=f"C-2026-{number}",
                org_id=ORG_A,
                submitted_by="user:alice",
                submitted_by_name="Alice Wang",
                category_code=Catalogue.legal,
                item_id=Catalogue.contract,
                firm_org_id=firm,
                status=status,
                priority="normal",
                subject="Contract",
                description="Please review",
                answers={},
                submitted_at=now,
                updated_at=now,
                version=1,
            )
        )
        uow.commit()


def test_staff_read_every_partner_firm_with_categories_and_open_cases(api, db):
    add_case(db, "001", LAW, "in_progress")
    add_case(db, "002", LAW, "assigned")
    add_case(db, "003", LAW, "closed")  # not open
    add_case(db, "004", LAW2, "cancelled")
    for user in ("desk", "admin"):
        firms = {f["id"]: f for f in api.get("/firms", user=user).json["items"]}
        assert set(firms) == {LAW, LAW2, IPA, BANK}  # partners only: no tenant, no operator
        assert firms[LAW]["open_cases"] == 2 and firms[LAW2]["open_cases"] == 0
        assert [c["code"] for c in firms[LAW]["categories"]] == [Catalogue.legal]
        assert firms[BANK]["categories"] == [] and firms[BANK]["kind"] == "bank"
        assert firms[IPA]["kind_label"] == "IP agency"
    zh = api.get(f"/firms/{IPA}", user="desk", headers=ZH).json
    assert zh["display_name"] == "蓉智知识产权代理" and zh["categories"][0]["display_name"] == "知识产权"


def test_a_firm_s_agent_reads_only_their_own_firm(api):
    own = api.get("/firms", user="lawyer").json["items"]
    assert [f["id"] for f in own] == [LAW]
    assert api.get(f"/firms/{LAW}", user="lawyer2").status_code == 200
    body = problem(api.get(f"/firms/{LAW2}", user="lawyer"), 403, "forbidden")
    assert body["detail"] == (
        "Only an agent of the firm itself, desk staff or park admin may read the partner firms, "
        "the categories they serve and their open cases."
    )
    for user in ("alice", "bob"):
        problem(api.get("/firms", user=user), 403, "forbidden")
    problem(api.get(f"/firms/{ORG_A}", user="desk"), 404, "not-found")
    problem(api.get(f"/firms/{NOBODY}", user="desk"), 404, "not-found")


def test_a_firm_declares_the_categories_it_serves(api):
    declared = api.put(f"/firms/{LAW}/categories", {"categories": [Catalogue.ip, Catalogue.legal]}, user="lawyer")
    assert declared.status_code == 200, declared.json
    assert [c["code"] for c in declared.json["categories"]] == [Catalogue.legal, Catalogue.ip]
    by = {c["code"]: c["declared_by"] for c in declared.json["categories"]}
    assert by == {Catalogue.legal: "user:admin", Catalogue.ip: "user:lawyer"}  # kept as declared
    ip = api.get(f"/categories/{Catalogue.ip}", user="desk").json
    assert LAW in [f["id"] for f in ip["firms"]]

    emptied = api.put(f"/firms/{LAW}/categories", {"categories": []}, user="lawyer2")
    assert emptied.json["categories"] == []
    legal = api.get(f"/categories/{Catalogue.legal}", user="desk").json
    assert [f["id"] for f in legal["firms"]] == [LAW2]


def test_park_admin_declares_for_a_firm_but_nobody_else_may(api):
    assert api.put(f"/firms/{BANK}/categories", {"categories": [Catalogue.legal]}, user="admin").status_code == 200
    assert [c["code"] for c in api.get(f"/firms/{BANK}", user="bank").json["categories"]] == [Catalogue.legal]
    for user in ("desk", "alice", "lawyer3", "ipagent"):
        problem(api.put(f"/firms/{LAW}/categories", {"categories": []}, user=user), 403, "forbidden")
    assert len(api.get(f"/firms/{LAW}", user="desk").json["categories"]) == 1  # untouched


@pytest.mark.parametrize("org_id", [ORG_A, OPERATOR, NOBODY])
def test_only_a_partner_organisation_is_a_firm(api, org_id):
    problem(api.put(f"/firms/{org_id}/categories", {"categories": []}, user="admin"), 422, "rule/not-a-firm")


def test_unknown_categories_are_named_and_nothing_is_written(api):
    body = problem(
        api.put(f"/firms/{IPA}/categories", {"categories": ["legal", "astrology", "tarot"]}, user="ipagent"),
        422,
        "rule/unknown-category",
    )
    assert body["unknown"] == ["astrology", "tarot"]
    assert [c["code"] for c in api.get(f"/firms/{IPA}", user="ipagent").json["categories"]] == [Catalogue.ip]
    assert api.put(f"/firms/{IPA}/categories", {"categories": ["Legal!"]}, user="ipagent").status_code == 422
    assert api.put(f"/firms/{IPA}/categories", {}, user="ipagent").status_code == 422


def test_a_repeated_category_counts_once(api):
    response = api.put(f"/firms/{IPA}/categories", {"categories": [Catalogue.ip, Catalogue.ip]}, user="ipagent")
    assert [c["code"] for c in response.json["categories"]] == [Catalogue.ip]
