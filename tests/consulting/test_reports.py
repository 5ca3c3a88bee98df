"""GET /reports/sla and /reports/sla.csv over HTTP (park admin): cases, backlog, attainment per
clock and target, medians and ratings, per category and per firm, in the reader's language.

The cases are written into the tables with fixed times in March 2026 (``tests.consulting.test_sla``
helpers: the hooks the cases API calls start and meet the clocks), so every clock still running
is long past its target when the report is read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from services.consulting.models import Rating
from shared.db import Database
from tests.consulting.conftest import LAW, LAW2, Catalogue
from tests.consulting.test_sla import move, new_case, park

PERIOD = "from=2026-03-16&to=2026-03-20"


def rate(db: Database, case_id: str, stars: int) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(
            Rating(case_id=case_id, stars=stars, firm_org_id=LAW, rated_by="user:bob", rated_at=datetime.now(UTC))
        )
        uow.commit()


def solved(db: Database, day: str, *, triaged: str, assigned: str, accepted: str, proposed: str) -> str:
    case_id = new_case(db, park(f"{day} 09:00"))
    move(db, case_id, "triage", "triaged", park(f"{day} {triaged}"))
    move(db, case_id, "assign", "assigned", park(f"{day} {assigned}"), firm_org_id=LAW)
    move(db, case_id, "accept", "accepted", park(f"{day} {accepted}"))
    move(db, case_id, "start", "in_progress", park(f"{day} {accepted}"))
    at = park(f"{day} {proposed}")
    move(db, case_id, "propose_solution", "solution_proposed", at, solution_proposed_at=at)
    move(db, case_id, "accept_solution", "closed", at, closed_at=at)
    return case_id


@pytest.fixture
def cases(db: Database) -> dict[str, str]:
    """Legal: A solved in time (5 stars), B triaged late and left unanswered by LAW2, E cancelled,
    G solved in time (4 stars); IP: C never triaged; D submitted before the period."""
    a = solved(db, "2026-03-16", triaged="09:30", assigned="09:40", accepted="10:00", proposed="14:00")
    rate(db, a, 5)
    b = new_case(db, park("2026-03-16 09:00"))
    move(db, b, "triage", "triaged", park("2026-03-16 11:00"))
    move(db, b, "assign", "assigned", park("2026-03-16 11:10"), firm_org_id=LAW2)
    c = new_case(db, park("2026-03-17 09:00"), priority="normal", category=Catalogue.ip, item_id=Catalogue.patent)
    d = new_case(db, park("2026-03-13 09:00"))
    e = new_case(db, park("2026-03-18 09:00"))
    move(db, e, "cancel", "cancelled", park("2026-03-18 09:30"))
    g = solved(db, "2026-03-18", triaged="09:10", assigned="09:20", accepted="09:30", proposed="10:00")
    rate(db, g, 4)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "G": g}


def code_of(response: Any) -> str:
    """The problem's code, as its type names it (``.../problems/rule/report-period``)."""
    return str(response.json["type"].split("/problems/", 1)[1])


def clocks_of(group: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["clock"], c["target"]): c for c in group["clocks"]}


def measures(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["decided"], entry["met_in_time"], entry["breached"], entry["attainment"], entry["median_minutes"])


def test_the_report_by_category(api, cases):
    response = api.get(f"/reports/sla?{PERIOD}", user="admin")
    assert response.status_code == 200, response.get_json()
    report = response.json
    assert (report["from"], report["to"], report["group_by"]) == ("2026-03-16", "2026-03-20", "category")
    assert report["group_by_label"] == "Category"
    legal, ip = report["groups"]  # by name: Intellectual property, Legal
    ip, legal = (ip, legal) if ip["key"] == Catalogue.ip else (legal, ip)
    assert (legal["key"], legal["display_name"], legal["cases"]) == (Catalogue.legal, "Legal", 4)
    assert legal["backlog"]["total"] == 1
    by_status = {s["status"]: s["count"] for s in legal["backlog"]["by_status"]}
    assert by_status["assigned"] == 1 and sum(by_status.values()) == 1
    assert "closed" not in by_status and "cancelled" not in by_status
    assert [s["status_label"] for s in legal["backlog"]["by_status"]][0] == "Submitted"
    found = clocks_of(legal)
    # First responses: A 30, B 120 (late), G 10; E was cancelled before any (stopped, not decided).
    assert measures(found[("tenant", "first_response")]) == (3, 2, 1, "0.6667", 30)
    # Resolutions: A 210, G 60 in time; B still open, long past 1800 minutes.
    assert measures(found[("tenant", "resolution")]) == (3, 2, 1, "0.6667", 135)
    assert measures(found[("firm", "first_response")]) == (3, 2, 1, "0.6667", 15)
    assert measures(found[("firm", "resolution")]) == (3, 2, 1, "0.6667", 105)
    assert found[("tenant", "first_response")]["clock_label"] == "The park's promise to the tenant"
    assert legal["ratings"] == {"count": 2, "average": "4.50", "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}}
    assert ip["cases"] == 1 and ip["backlog"]["total"] == 1
    assert measures(clocks_of(ip)[("tenant", "first_response")]) == (1, 0, 1, "0.0000", None)
    assert measures(clocks_of(ip)[("firm", "first_response")]) == (0, 0, 0, None, None)
    assert ip["ratings"] == {"count": 0, "average": None, "distribution": {str(n): 0 for n in range(1, 6)}}


def test_the_report_by_firm_counts_a_firms_clocks_for_that_firm(api, cases):
    report = api.get(f"/reports/sla?{PERIOD}&group_by=firm", user="admin").json
    assert [g["display_name"] for g in report["groups"]] == [
        "Jinjiang Law Partners",
        "Tianfu Bridge Law Firm",
        "No firm assigned",
    ]
    law2, law, none = report["groups"]
    assert (law["key"], law["cases"], law["backlog"]["total"]) == (LAW, 2, 0)
    assert measures(clocks_of(law)[("firm", "first_response")]) == (2, 2, 0, "1.0000", 15)
    assert (law2["key"], law2["cases"]) == (LAW2, 1)
    assert measures(clocks_of(law2)[("firm", "first_response")]) == (1, 0, 1, "0.0000", None)
    assert (none["key"], none["cases"], none["backlog"]["total"]) == (None, 2, 1)  # C open, E cancelled
    assert law["ratings"]["count"] == 2


def test_the_report_in_chinese(api, cases):
    report = api.get(f"/reports/sla?{PERIOD}&group_by=firm", user="admin", headers={"Accept-Language": "zh"}).json
    assert [g["display_name"] for g in report["groups"]][:2] == ["锦江律师事务所", "天府桥律师事务所"]
    assert report["groups"][0]["name"] == "Jinjiang Law Partners"  # the data stays as stored


def test_the_csv_has_a_row_per_group_and_headers_in_the_readers_language(api, cases):
    response = api.get(f"/reports/sla.csv?{PERIOD}", user="admin")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="sla-category-2026-03-16-2026-03-20.csv"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    head, *body = rows
    assert head[:4] == ["Group", "Name", "Cases submitted", "Open now"]
    assert "The park's promise to the tenant, First response: attainment" in head
    assert len(body) == 2
    legal = dict(zip(head, next(r for r in body if r[0] == Catalogue.legal), strict=True))
    assert legal["Cases submitted"] == "4"
    assert legal["The park's promise to the tenant, First response: attainment"] == "0.6667"
    assert legal["Average rating"] == "4.50"

    keys = api.get(f"/reports/sla.csv?{PERIOD}&header=keys", user="admin").get_data(as_text=True)
    key_head = next(csv.reader(io.StringIO(keys.removeprefix("\ufeff"))))
    assert key_head[:4] == ["group", "group_name", "cases", "backlog"]
    assert "tenant_first_response_attainment" in key_head and "rating_5" in key_head

    chinese = api.get(f"/reports/sla.csv?{PERIOD}", user="admin", headers={"Accept-Language": "zh"})
    zh_head, *zh_body = csv.reader(io.StringIO(chinese.get_data(as_text=True).removeprefix("\ufeff")))
    assert {r[1] for r in zh_body} == {"法律", "知识产权"}
    assert zh_head[:4] == ["分组", "名称", "提交的案件", "当前未结"]


def test_only_park_admin_reads_the_reports(api, cases):
    for user in ("desk", "alice", "lawyer"):
        for path in ("/reports/sla", "/reports/sla.csv"):
            response = api.get(f"{path}?{PERIOD}", user=user)
            assert response.status_code == 403, (user, path)
            assert code_of(response) == "forbidden"
    assert api.get(f"/reports/sla?{PERIOD}", user=None).status_code == 401


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("from=2026-03-20&to=2026-03-16", 422, "rule/end-after-start"),
        ("from=2025-01-01&to=2026-03-16", 422, "rule/report-period"),
        ("from=2026-03-16", 422, "validation-failed"),
        ("from=2026-03-16&to=2026-03-20&group_by=tenant", 422, "validation-failed"),
        ("from=2026-03-16&to=2026-03-20&colour=red", 400, "unknown-parameter"),
        ("from=2026-02-30&to=2026-03-20", 422, "validation-failed"),
        ("from=1999-12-31&to=2000-01-02", 422, "validation-failed"),
    ],
)
def test_bad_parameters_are_refused_with_a_problem(api, query, status, code):
    response = api.get(f"/reports/sla?{query}", user="admin")
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert code_of(response) == code


def test_an_empty_period_has_no_groups(api, cases):
    report = api.get("/reports/sla?from=2025-03-16&to=2025-03-20", user="admin").json
    assert report["groups"] == []
