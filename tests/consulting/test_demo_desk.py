"""The demo desk over the running embedded platform: after what ``parkhub seed`` does (the CLI's
own ``_seed``: identity, booking, consulting with its demo cases), each demo user signs in through
``/api/v1/auth/token`` and reads what they should of consulting's cases: bob his own, alice
Kangcheng's, carol Shurui's, each firm the cases assigned to it, the desk and park admin all of
them; the thread by visibility with its PDF; the quote waiting for the tenant; the rating; the
forgotten case missing its targets in the SLA report and escalated by the breach job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.consulting import seed as demo
from services.consulting.handlers.sla import detect_breaches
from services.consulting.models import database as consulting_database
from tests.park import Park, running_park

CASES = "/api/v1/consulting/cases"
DEMO = sorted(demo.demo_cases(), key=lambda case: case.ago, reverse=True)
KANGCHENG = ("alice", "bob")


def final_firm(case: demo.DemoCase) -> str | None:
    """The firm a demo case is with after its steps: the desk's last assignment, or the routing
    rule's at triage (intellectual property goes to the IP agency, the only one serving it)."""
    firm = None
    for step in case.steps:
        if step.action == "assign":
            firm = step.fields["firm"]
        elif step.action == "triage" and case.item in {"patent_application", "trademark_registration"}:
            firm = demo.IP_AGENCY
    return firm


FIRM_OF_USER = {"lawyer": demo.LAW_FIRM, "ipagent": demo.IP_AGENCY, "cpa": demo.ACCOUNTING_FIRM}


@pytest.fixture
def park(demo_platform: Path, tmp_path: Path) -> Iterator[Park]:
    yield from running_park(demo_platform, tmp_path)


def cases_of(park: Park, user: str, **headers: str) -> list[dict[str, Any]]:
    response = park.as_user(user, "GET", f"{CASES}?page_size=200", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: Any = response.json
    assert body["total"] == len(body["items"])
    return list(body["items"])


def by_subject(park: Park, user: str) -> dict[str, dict[str, Any]]:
    return {case["subject"]: case for case in cases_of(park, user)}


def read(park: Park, user: str, path: str, **headers: str) -> Any:
    response = park.as_user(user, "GET", f"{CASES}{path}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_each_tenant_sees_the_cases_they_should(park: Park) -> None:
    bob = by_subject(park, "bob")
    assert set(bob) == {case.subject for case in DEMO if case.by == "bob"}
    assert {case["submitted_by_name"] for case in bob.values()} == {"Bob Li 李博"}
    alice = by_subject(park, "alice")  # a tenant admin: her organisation's
    assert set(alice) == {case.subject for case in DEMO if case.by in KANGCHENG}
    assert set(bob) < set(alice)
    carol = by_subject(park, "carol")
    assert set(carol) == {case.subject for case in DEMO if case.by == "carol"}
    assert not set(carol) & set(alice)
    organisations = {case["organisation"]["id"] for case in [*alice.values(), *carol.values()]}
    assert len(organisations) == 2


def test_each_firm_sees_the_cases_assigned_to_it(park: Park) -> None:
    for user, firm in FIRM_OF_USER.items():
        seen = by_subject(park, user)
        expected = {case.subject for case in DEMO if final_firm(case) == firm}
        assert expected, user
        assert set(seen) == expected, user
        assert {case["firm"]["name"] for case in seen.values()} == {firm}


def test_the_desk_and_park_admin_see_the_whole_desk_in_every_state(park: Park) -> None:
    desk = by_subject(park, "desk")
    assert set(desk) == {case.subject for case in DEMO}
    assert set(by_subject(park, "admin")) == set(desk)
    states = {desk[case.subject]["status"] for case in DEMO}
    assert states == {
        "submitted",
        "triaged",
        "assigned",
        "accepted",
        "in_progress",
        "waiting_on_tenant",
        "solution_proposed",
        "closed",
        "cancelled",
    }
    # Numbered in the order of their submission, which lies in the past.
    numbered = sorted(desk.values(), key=lambda case: case["number"])
    assert [case["subject"] for case in numbered] == [case.subject for case in DEMO]
    submitted = [datetime.fromisoformat(case["submitted_at"]) for case in numbered]
    assert submitted == sorted(submitted)
    now = datetime.now(UTC)
    assert now - submitted[0] > timedelta(days=19)
    assert all(moment < now for moment in submitted)


def test_the_tenant_reads_the_state_names_in_chinese(park: Park) -> None:
    labels = {case["status"]: case["status_label"] for case in cases_of(park, "alice", **{"Accept-Language": "zh"})}
    assert labels["submitted"] == "已提交"
    assert labels["triaged"] == "园区审核中"  # the tenant's name, not the desk's 已初审
    assert labels["closed"] == "已结案"
    assert all(any("\u4e00" <= char <= "\u9fff" for char in label) for label in labels.values()), labels
    staff = {case["status"]: case["status_label"] for case in cases_of(park, "desk", **{"Accept-Language": "zh"})}
    assert staff["triaged"] == "已初审"


def test_the_thread_is_read_by_visibility_with_its_pdf(park: Park) -> None:
    patent = next(case for case in DEMO if case.item == "patent_application")
    case_id = by_subject(park, "bob")[patent.subject]["id"]
    written = [step for step in patent.steps if step.action == "message"]

    def visibilities(user: str) -> list[str]:
        return [message["visibility"] for message in read(park, user, f"/{case_id}/messages")["items"]]

    assert sorted(visibilities("desk")) == sorted(step.fields["visibility"] for step in written)
    assert set(visibilities("bob")) == {"tenant"}
    assert sorted(visibilities("ipagent")) == ["firm", "tenant", "tenant"]  # never the desk's note
    with_file = [m for m in read(park, "bob", f"/{case_id}/messages")["items"] if m["attachments"]]
    assert len(with_file) == 1 and with_file[0]["author_side"] == "firm"
    attachment = with_file[0]["attachments"][0]
    assert attachment["filename"] == "prior-art-search.pdf"
    download = park.as_user("bob", "GET", f"{CASES}/{case_id}/attachments/{attachment['id']}")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.data == demo.DEMO_FILES["prior-art-search.pdf"]
    assert download.data.startswith(b"%PDF-1.4") and download.data.rstrip().endswith(b"%%EOF")


def test_the_quote_waits_for_the_tenant_and_the_closed_case_is_rated(park: Park) -> None:
    alice = by_subject(park, "alice")
    quoted = next(case for case in DEMO if case.item == "commercial_contract_review")
    quotes = read(park, "alice", f"/{alice[quoted.subject]['id']}/quotes")["items"]
    assert [(quote["status"], quote["fee"]) for quote in quotes] == [("proposed", "6500.00")]
    assert alice[quoted.subject]["priority"] == "high"  # the desk raised it at triage
    closed = next(case for case in DEMO if case.by == "bob" and case.item == "legal_consultation")
    case = read(park, "bob", f"/{alice[closed.subject]['id']}")
    assert case["status"] == "closed" and case["rating"]["stars"] == 5
    actions = [line["action"] for line in read(park, "bob", f"/{case['id']}/history")["items"]]
    assert actions == ["submit", "triage", "assign", "accept", "start", "propose_solution", "accept_solution"]
    tax = next(case for case in DEMO if case.item == "annual_tax_filing")
    waiting = read(park, "carol", f"/{by_subject(park, 'carol')[tax.subject]['id']}")
    assert waiting["status"] == "waiting_on_tenant" and "ledger" in waiting["reason"]
    assert "resume" in waiting["actions"]


def test_the_forgotten_case_misses_its_targets_and_the_breach_job_escalates_it(park: Park) -> None:
    today = datetime.now(UTC) + timedelta(hours=8)  # the park's day
    period = f"from={(today - timedelta(days=30)).date()}&to={today.date()}"
    report: Any = park.as_user("admin", "GET", f"/api/v1/consulting/reports/sla?{period}").json
    groups = {group["key"]: group for group in report["groups"]}
    category_of = {item.code: item.category for item in demo.ITEMS}
    assert set(groups) == {category_of[case.item] for case in DEMO}
    missed = {(c["clock"], c["target"]): c["breached"] for c in groups["human_resources"]["clocks"]}
    assert missed[("tenant", "first_response")] == 1
    assert sum(group["cases"] for group in groups.values()) == len(DEMO)
    csv = park.as_user("admin", "GET", f"/api/v1/consulting/reports/sla.csv?{period}")
    assert csv.status_code == 200 and "human_resources" in csv.get_data(as_text=True)

    # The worker's job, run now rather than in 30 s (the platform's worker may have run it
    # already when it started: each breach is published once, by whichever run found it).
    jobs = consulting_database(park.platform.settings)
    for _run in range(2):
        with jobs.unit_of_work() as uow:
            found = detect_breaches(uow=uow)
            uow.commit()
    assert found == 0
    forgotten = by_subject(park, "desk")[demo.FORGOTTEN]
    assert forgotten["status"] == "submitted"
    assert forgotten["priority"] in {"high", "urgent"}  # one step per missed target
    history = read(park, "desk", f"/{forgotten['id']}/history")["items"]
    assert "escalate" in [line["action"] for line in history]
    # Only the forgotten case has used up a target: every other one stays at its priority.
    others = [c for c in by_subject(park, "desk").values() if c["subject"] != demo.FORGOTTEN]
    assert {c["subject"]: c["priority"] for c in others} == {
        case.subject: ("high" if case.item in {"patent_application", "commercial_contract_review"} else "normal")
        for case in DEMO
        if case.subject != demo.FORGOTTEN
    }
