"""Consulting's demo seed on migrated databases: the park's catalogue (every category with items and
at least one firm), valid intake forms and SLA policies, the calendar's hours and the official
years from this one on, stable item ids; a second run changes nothing and keeps what was changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.consulting import seed as demo
from services.consulting.handlers.sla import detect_breaches
from services.consulting.models import (
    CalendarSettings,
    CalendarYear,
    Case,
    CaseTransition,
    Category,
    FirmCategory,
    Message,
    Quote,
    ServiceItem,
    database,
)
from services.consulting.queries import calendar as calendar_queries
from services.consulting.queries.calendar import DEFAULT_HOURS
from services.consulting.rules.catalogue import check_sla_policy
from services.consulting.rules.intake import check_intake_fields
from shared.clock import as_utc
from shared.events.envelope import Event
from shared.principal import Principal
from shared.settings import Settings
from tests.test_holidays import cover_only


@pytest.fixture(autouse=True)
def frozen_park(monkeypatch: pytest.MonkeyPatch) -> None:
    """The park's date 1 June 2026 (the calendar's ``park_today``) and an official source that
    ends with 2026, whatever the day the tests run and the package installed."""
    monkeypatch.setattr(calendar_queries, "utcnow", lambda: datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
    cover_only(monkeypatch, 2026)


ORGANISATIONS = {name: f"00000000-0000-4000-8000-0000000005{i:02d}" for i, name in enumerate(demo.FIRM_CATEGORIES)}


def snapshot(settings: Settings) -> dict[str, Any]:
    db = database(settings)
    with db.reading() as session:
        return {
            "categories": sorted((c.code, c.name, c.routing, c.version) for c in session.scalars(select(Category))),
            "items": sorted((i.id, i.code, i.name, i.version) for i in session.scalars(select(ServiceItem))),
            "firms": sorted((f.firm_org_id, f.category_code) for f in session.scalars(select(FirmCategory))),
            "years": sorted((y.year, y.source) for y in session.scalars(select(CalendarYear))),
            "hours": [(s.hours, s.version) for s in session.scalars(select(CalendarSettings))],
        }


def test_the_seed_loads_the_park_s_catalogue(settings: Settings) -> None:
    lines = demo.seed(settings, ORGANISATIONS)
    assert lines[0] == "Consulting:"
    state = snapshot(settings)
    assert [c[0] for c in sorted(state["categories"], key=lambda c: c[0])] == sorted(
        ["industry_and_commerce", "taxation", "legal", "intellectual_property", "human_resources", "biomedical"]
    )
    routing = {code: rule for code, _, rule, _ in state["categories"]}
    assert routing["intellectual_property"] == "round_robin" and routing["biomedical"] == "least_load"
    assert routing["legal"] == "manual"
    db = database(settings)
    session = db.session()
    items = list(session.scalars(select(ServiceItem)))
    served = {f.category_code for f in session.scalars(select(FirmCategory))}
    session.close()  # closing detaches without expiring: the rows stay readable
    by_category: dict[str, list[ServiceItem]] = {}
    for item in items:
        by_category.setdefault(item.category_code, []).append(item)
    assert set(by_category) == set(routing) == served  # every category has items and a firm
    biomedical = {i.code for i in by_category["biomedical"]}
    assert {"cro_research", "safety_pharmacology", "clinical_trial", "regulatory_filing", "cdmo_sourcing"} <= biomedical
    assert "cso_marketing" in biomedical
    for item in items:
        assert check_intake_fields(item.intake_fields) == item.intake_fields
        assert check_sla_policy(item.sla_policy) == item.sla_policy
        assert item.name_zh and item.fee_guidance and item.fee_guidance_zh
        assert item.id == demo.item_id(item.code) == demo.ITEM_IDS[item.code]
        if item.fee_from is not None and item.fee_to is not None:
            assert item.fee_from <= item.fee_to
    paid = [i for i in items if i.fee_from is not None and i.fee_from > 0]
    assert paid and all(i.quote_required for i in paid)
    assert demo.PATENT_APPLICATION == demo.item_id("patent_application")

    firms = {org for org, _ in state["firms"]}
    assert firms == set(ORGANISATIONS.values())  # law, accounting, IP, HR, CRO, CDMO
    assert state["hours"] == [(DEFAULT_HOURS, 1)]
    # The park's date is 1 June 2026 and the source ends with 2026 (frozen): 2026 alone, no warning.
    assert state["years"] == [(2026, "chinesecalendar")]
    assert "  business calendar: default hours; 1 official year(s) loaded" in lines
    assert not [line for line in lines if line.startswith("  warning:")]


def test_a_year_the_source_lacks_is_not_loaded_and_the_seed_says_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar_queries, "utcnow", lambda: datetime(2027, 3, 1, 4, 0, tzinfo=UTC))
    lines = demo.seed(settings, ORGANISATIONS)
    assert snapshot(settings)["years"] == []
    assert "  business calendar: default hours; 0 official year(s) loaded" in lines
    assert [line for line in lines if line.startswith("  warning:")] == [
        "  warning: The business calendar has no public holidays for 2027, and the official source covers only "
        "up to 2026: enter 2027 by hand once the State Council has published it."
    ]


def test_seeding_twice_changes_nothing_and_keeps_what_was_changed(settings: Settings) -> None:
    demo.seed(settings, ORGANISATIONS)
    db = database(settings)
    with db.unit_of_work() as uow:  # park admin renamed an item meanwhile
        item = uow.session.get(ServiceItem, demo.PATENT_APPLICATION)
        assert item is not None
        item.name = "Patent filing"
        uow.commit()
    before = snapshot(settings)
    demo.seed(settings, ORGANISATIONS)
    assert snapshot(settings) == before
    with db.reading() as session:
        assert session.get(ServiceItem, demo.PATENT_APPLICATION).name == "Patent filing"  # type: ignore[union-attr]


def test_a_firm_missing_from_the_directory_is_reported_and_skipped(settings: Settings) -> None:
    some = {demo.LAW_FIRM: ORGANISATIONS[demo.LAW_FIRM]}
    lines = demo.seed(settings, some)
    assert any(demo.CDMO in line and "not in the directory" in line for line in lines)
    assert {org for org, _ in snapshot(settings)["firms"]} == {ORGANISATIONS[demo.LAW_FIRM]}


# The demo desk's cases --------------------------------------------------------------------------

TENANTS = {"Kangcheng": "00000000-0000-4000-8000-000000000601", "Shurui": "00000000-0000-4000-8000-000000000602"}
OPERATOR = "00000000-0000-4000-8000-000000000600"
KINDS = {
    demo.LAW_FIRM: "law_firm",
    demo.ACCOUNTING_FIRM: "accounting_firm",
    demo.IP_AGENCY: "ip_agency",
    demo.HR_AGENCY: "hr_firm",
    demo.CRO: "cro_cdmo",
    demo.CDMO: "cro_cdmo",
}


def demo_users() -> dict[str, Principal]:
    def user(name: str, org: str, kind: str, role: str) -> Principal:
        return Principal(f"user:{name}-{uuid.uuid4()}", org, kind, frozenset({role}), name.title())

    return {
        "alice": user("alice", TENANTS["Kangcheng"], "tenant", "tenant_admin"),
        "bob": user("bob", TENANTS["Kangcheng"], "tenant", "tenant_member"),
        "carol": user("carol", TENANTS["Shurui"], "tenant", "tenant_admin"),
        "desk": user("desk", OPERATOR, "operator", "desk_staff"),
        "lawyer": user("lawyer", ORGANISATIONS[demo.LAW_FIRM], "law_firm", "partner_agent"),
        "ipagent": user("ipagent", ORGANISATIONS[demo.IP_AGENCY], "ip_agency", "partner_agent"),
        "cpa": user("cpa", ORGANISATIONS[demo.ACCOUNTING_FIRM], "accounting_firm", "partner_agent"),
    }


def identity_events(status: str = "active") -> list[dict[str, Any]]:
    """The gateway's ``identity.organisation.registered`` envelopes of the demo firms."""
    return [
        Event(
            type="identity.organisation.registered",
            source="/parkhub/gateway",
            data={"id": org_id, "name": name, "name_zh": None, "kind": KINDS[name], "status": status, "version": 1},
            subject=org_id,
            orgid=org_id,
        ).to_dict()
        for name, org_id in ORGANISATIONS.items()
    ]


def consulting_rows(settings: Settings) -> dict[str, int]:
    db = database(settings)
    outbox = db.messaging.outbox
    with db.reading() as session:
        return {
            "cases": session.scalar(select(func.count()).select_from(Case)) or 0,
            "lines": session.scalar(select(func.count()).select_from(CaseTransition)) or 0,
            "messages": session.scalar(select(func.count()).select_from(Message)) or 0,
            "quotes": session.scalar(select(func.count()).select_from(Quote)) or 0,
            "events": session.scalar(select(func.count()).select_from(outbox)) or 0,
        }


def test_the_demo_cases_are_played_through_the_handlers_at_past_times(settings: Settings) -> None:
    users = demo_users()
    before = datetime.now(UTC)
    lines = demo.seed(settings, ORGANISATIONS, users, identity_events())
    cases = demo.demo_cases()
    routing = {category.code: category.routing for category in demo.CATEGORIES}
    category_of = {item.code: item.category for item in demo.ITEMS}
    assert lines[-1].startswith(f"  demo cases: {len(cases)} added (C-")
    db = database(settings)
    with db.reading() as session:
        stored = {case.subject: case for case in session.scalars(select(Case))}
        trail = list(session.scalars(select(CaseTransition).order_by(CaseTransition.id)))
        submitted = [e for e in session.scalars(select(db.messaging.outbox.c.type)) if e.endswith(".submitted")]
        assert set(stored) == {case.subject for case in cases}
        for case in cases:
            row = stored[case.subject]
            assert row.submitted_by == users[case.by].subject and row.org_id == users[case.by].org_id
            assert abs(as_utc(row.submitted_at) - (before - case.ago)) < timedelta(minutes=1)
            lines_of = [line for line in trail if line.case_id == row.id]
            # One audit line per lifecycle step (quotes and messages are no transitions), in time order.
            moves = [s for s in case.steps if s.action not in {"quote", "accept_quote", "reject_quote", "message"}]
            expected = ["submit"]
            for step in moves:
                expected.append(step.action)
                if step.action == "triage" and routing[category_of[case.item]] != "manual":
                    expected.append("assign")  # the routing rule hands it to a firm at once
            assert [line.action for line in lines_of] == expected
            times = [as_utc(line.at) for line in lines_of]
            assert times == sorted(times) and times[-1] < before
    assert len(submitted) == len(cases)  # each submission published, as the API's would be


def test_the_demo_cases_are_added_once(settings: Settings) -> None:
    users, events = demo_users(), identity_events()
    demo.seed(settings, ORGANISATIONS, users, events)
    first = consulting_rows(settings)
    lines = demo.seed(settings, ORGANISATIONS, users, events)
    assert lines[-1] == f"  demo cases: {len(demo.demo_cases())} there already, none added"
    assert consulting_rows(settings) == first


def test_no_demo_case_without_the_firms_in_the_directory_or_the_users(settings: Settings) -> None:
    lines = demo.seed(settings, ORGANISATIONS, demo_users(), identity_events(status="suspended"))
    assert "is not active in consulting's directory yet" in lines[-1]
    users = demo_users()
    del users["cpa"]
    lines = demo.seed(settings, ORGANISATIONS, users, identity_events())
    assert lines[-1] == "  demo cases not added: demo users missing: cpa"
    assert consulting_rows(settings)["cases"] == 0
    demo.seed(settings, ORGANISATIONS)  # without users: the catalogue alone, as before
    assert consulting_rows(settings)["cases"] == 0


def test_only_the_forgotten_case_has_missed_a_target_when_seeded(settings: Settings) -> None:
    demo.seed(settings, ORGANISATIONS, demo_users(), identity_events())
    db = database(settings)
    with db.unit_of_work() as uow:
        assert detect_breaches(uow=uow) >= 1
        uow.commit()
    with db.reading() as session:
        priorities = {case.subject: case.priority for case in session.scalars(select(Case))}
        escalated = set(
            session.scalars(
                select(Case.subject)
                .join(CaseTransition, CaseTransition.case_id == Case.id)
                .where(CaseTransition.action == "escalate")
            )
        )
    assert escalated == {demo.FORGOTTEN}
    assert priorities.pop(demo.FORGOTTEN) in {"high", "urgent"}  # a step up per missed target
    raised_at_triage = {case.subject for case in demo.demo_cases() for s in case.steps if "priority" in s.fields}
    assert priorities == {
        case.subject: "high" if case.subject in raised_at_triage else case.priority
        for case in demo.demo_cases()
        if case.subject != demo.FORGOTTEN
    }
