"""Partner firms over HTTP: the staff read every firm (an organisation of a consulting kind, or a
partner that declared a category) with the categories it serves and its open cases; a firm's agent
reads and declares its own firm's categories under If-Match; park admin declares for any partner;
a tenant or an unknown organisation is not a firm, nor a bank that declared nothing."""

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


def declare(api: Any, firm: str, categories: list[str], user: str) -> Any:
    """PUT the firm's categories under If-Match with the ETag its GET answers (read by park admin)."""
    tag = api.get(f"/firms/{firm}", user="admin").headers["ETag"]
    return api.put(f"/firms/{firm}/categories", {"categories": categories}, user=user, **{"If-Match": tag})


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


def test_staff_read_every_firm_with_categories_and_open_cases(api, db):
    add_case(db, "001", LAW, "in_progress")
    add_case(db, "002", LAW, "assigned")
    add_case(db, "003", LAW, "closed")  # not open
    add_case(db, "004", LAW2, "cancelled")
    for user in ("desk", "admin"):
        firms = {f["id"]: f for f in api.get("/firms", user=user).json["items"]}
        # Firms only: no tenant, no operator, and the bank (finance's partner) declared nothing.
        assert set(firms) == {LAW, LAW2, IPA}
        assert firms[LAW]["open_cases"] == 2 and firms[LAW2]["open_cases"] == 0
        assert [c["code"] for c in firms[LAW]["categories"]] == [Catalogue.legal]
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
    for org_id in (ORG_A, NOBODY, BANK):
        problem(api.get(f"/firms/{org_id}", user="desk"), 404, "not-found")
    assert api.get("/firms", user="bank").json["items"] == []


def test_a_firm_declares_the_categories_it_serves(api):
    declared = declare(api, LAW, [Catalogue.ip, Catalogue.legal], "lawyer")
    assert declared.status_code == 200, declared.json
    assert [c["code"] for c in declared.json["categories"]] == [Catalogue.legal, Catalogue.ip]
    by = {c["code"]: c["declared_by"] for c in declared.json["categories"]}
    assert by == {Catalogue.legal: "user:admin", Catalogue.ip: "user:lawyer"}  # kept as declared
    ip = api.get(f"/categories/{Catalogue.ip}", user="desk").json
    assert LAW in [f["id"] for f in ip["firms"]]

    emptied = declare(api, LAW, [], "lawyer2")
    assert emptied.json["categories"] == [] and emptied.headers["ETag"] == '"0"' and emptied.json["version"] == 0
    legal = api.get(f"/categories/{Catalogue.legal}", user="desk").json
    assert [f["id"] for f in legal["firms"]] == [LAW2]


def test_a_declaration_is_replaced_only_under_if_match(api):
    read = api.get(f"/firms/{LAW}", user="lawyer")
    tag = read.headers["ETag"]
    assert tag == f'"{read.json["version"]}"' and tag != '"0"'
    assert [f["version"] for f in api.get("/firms", user="lawyer").json["items"]] == [read.json["version"]]
    problem(api.put(f"/firms/{LAW}/categories", {"categories": ["legal"]}, user="lawyer"), 428, "precondition-required")
    changed = api.put(f"/firms/{LAW}/categories", {"categories": [Catalogue.ip]}, user="lawyer", **{"If-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] not in (tag, '"0"')
    # Another agent still holding the first ETag is refused and writes nothing.
    stale = api.put(f"/firms/{LAW}/categories", {"categories": []}, user="lawyer2", **{"If-Match": tag})
    problem(stale, 412, "precondition-failed")
    assert [c["code"] for c in api.get(f"/firms/{LAW}", user="lawyer").json["categories"]] == [Catalogue.ip]
    # A firm that declared nothing yet is at "0".
    assert api.get(f"/firms/{LAW2}", user="lawyer3").headers["ETag"] != '"0"'
    declare(api, LAW2, [], "lawyer3")
    assert api.get(f"/firms/{LAW2}", user="lawyer3").headers["ETag"] == '"0"'


def test_park_admin_declares_for_a_firm_but_nobody_else_may(api):
    # Declaring makes a bank (finance's partner) a firm of consulting too.
    declared = api.put(
        f"/firms/{BANK}/categories", {"categories": [Catalogue.legal]}, user="admin", **{"If-Match": '"0"'}
    )
    assert declared.status_code == 200
    assert [c["code"] for c in api.get(f"/firms/{BANK}", user="bank").json["categories"]] == [Catalogue.legal]
    assert BANK in [f["id"] for f in api.get("/firms", user="desk").json["items"]]
    for user in ("desk", "alice", "lawyer3", "ipagent"):
        refused = api.put(f"/firms/{LAW}/categories", {"categories": []}, user=user, **{"If-Match": "*"})
        problem(refused, 403, "forbidden")
    assert len(api.get(f"/firms/{LAW}", user="desk").json["categories"]) == 1  # untouched


@pytest.mark.parametrize("org_id", [ORG_A, OPERATOR, NOBODY])
def test_only_a_partner_organisation_is_a_firm(api, org_id):
    refused = api.put(f"/firms/{org_id}/categories", {"categories": []}, user="admin", **{"If-Match": '"0"'})
    problem(refused, 422, "rule/not-a-firm")


def test_unknown_categories_are_named_and_nothing_is_written(api):
    body = problem(
        declare(api, IPA, ["legal", "astrology", "tarot"], "ipagent"),
        422,
        "rule/unknown-category",
    )
    assert body["unknown"] == ["astrology", "tarot"]
    assert [c["code"] for c in api.get(f"/firms/{IPA}", user="ipagent").json["categories"]] == [Catalogue.ip]
    assert declare(api, IPA, ["Legal!"], "ipagent").status_code == 422
    assert api.put(f"/firms/{IPA}/categories", {}, user="ipagent", **{"If-Match": "*"}).status_code == 422


def test_a_repeated_category_counts_once(api):
    response = declare(api, IPA, [Catalogue.ip, Catalogue.ip], "ipagent")
    assert [c["code"] for c in response.json["categories"]] == [Catalogue.ip]
