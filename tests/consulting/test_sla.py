"""The SLA clocks of a case as the hooks move them (submission, assignment, the firm's answer,
waiting on the tenant, a rejected solution, cancellation, a tenant-visible message) and as
:func:`queries.sla.sla_view` shows them to each reader. Cases are written straight into the
tables here (``new_case``), so these tests do not wait on the cases API; the times are fixed
weekdays of November 2026 in park time (no holiday)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.consulting.handlers import sla
from services.consulting.models import Case, CasePause, ServiceItem, SlaClock
from services.consulting.queries.sla import sla_view
from services.consulting.rules.sla import due_moment, escalated, policy_targets, policy_warn_share
from shared.clock import PARK_TZ
from shared.db import Database
from shared.principal import Principal
from tests.consulting.conftest import LAW, LAW2, ORG_A, SLA_POLICY, USERS, Catalogue


def park(text: str) -> datetime:
    """A moment in park time: ``park("2026-11-13 17:30")``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARK_TZ)


def principal(user: str) -> Principal:
    u = USERS[user]
    return Principal(subject=u.sub, org_id=u.org, org_kind=u.org_kind, roles=frozenset(u.roles), name=u.name)


def new_case(
    db: Database,
    at: datetime,
    *,
    priority: str = "urgent",
    status: str = "submitted",
    category: str = Catalogue.legal,
    item_id: str = Catalogue.contract,
) -> str:
    """A case of the contract-review item (or ``item_id``) submitted at ``at``, its tenant's
    clocks started by :func:`sla.on_submitted`, as the cases API does it."""
    case_id = str(uuid.uuid4())
    with db.unit_of_work() as uow:
        case = Case(
            id=case_id,
            number=f"T-{case_id[:13]}",
            org_id=ORG_A,
            submitted_by=USERS["bob"].sub,
            submitted_by_name="Bob Li",
            category_code=category,
            item_id=item_id,
            subject="Supply contract",
            description="Please review",
            answers={"contract_type": "supply"},
            priority=priority,
            status=status,
            submitted_at=at,
            updated_at=at,
        )
        uow.session.add(case)
        uow.session.flush()
        item = uow.session.get(ServiceItem, item_id)
        assert item is not None
        sla.on_submitted(uow, case, item, at)
        uow.commit()
    return case_id


def move(db: Database, case_id: str, action: str, to: str, at: datetime, **changes: Any) -> None:
    """Change the case as the cases API would (status, then any ``changes``), flush, and call the
    hook with the action."""
    with db.unit_of_work() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        before = case.status
        case.status = to
        case.updated_at = at
        for name, value in changes.items():
            setattr(case, name, value)
        uow.session.flush()
        sla.on_transition(uow, case, action, before, at)
        uow.commit()


def in_case(db: Database, case_id: str, work: Callable[[Any, Case], None]) -> None:
    with db.unit_of_work() as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        work(uow, case)
        uow.commit()


def clocks(db: Database, case_id: str) -> dict[tuple[str, str, str | None], SlaClock]:
    with db.reading() as session:
        rows = session.execute(select(SlaClock).where(SlaClock.case_id == case_id)).scalars().all()
        session.expunge_all()
    return {(c.clock, c.target, c.firm_org_id): c for c in rows}


def view(db: Database, case_id: str, now: datetime, user: str) -> list[dict[str, Any]]:
    with db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return sla_view(session, case, now, principal(user))


def by_target(entries: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["clock"], e["target"]): e for e in entries if e["state"] != "stopped"}


MONDAY = "2026-11-16"


# The policy --------------------------------------------------------------------------------------


def test_targets_come_from_the_policy_by_priority_and_clock():
    assert policy_targets(SLA_POLICY, "normal", "tenant") == {"first_response": 240, "resolution": 7200}
    assert policy_targets(SLA_POLICY, "urgent", "firm") == {"first_response": 120, "resolution": 1680}
    only_normal = {"targets": {"normal": {"tenant": {"first_response": 30, "resolution": 0}}}}
    assert policy_targets(only_normal, "high", "tenant") == {"first_response": 30}  # no 0-minute promise
    assert policy_targets(only_normal, "high", "firm") == {}
    assert policy_warn_share(SLA_POLICY) == Decimal("0.8")
    assert policy_warn_share({"warn_share": "1.5"}) == Decimal("0.8")
    assert policy_warn_share({"warn_share": "0.5"}) == Decimal("0.5")


def test_escalation_goes_one_step_and_urgent_stays():
    assert [escalated(p) for p in ("low", "normal", "high", "urgent")] == ["normal", "high", "urgent", "urgent"]


# Starting, meeting, stopping ---------------------------------------------------------------------


def test_submission_starts_the_tenants_clocks_with_the_items_targets(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"), priority="normal")
    found = clocks(db, case_id)
    assert set(found) == {("tenant", "first_response", None), ("tenant", "resolution", None)}
    first = found[("tenant", "first_response", None)]
    assert (first.target_minutes, first.warn_share, first.met_at) == (240, Decimal("0.8"), None)


def test_a_policy_change_does_not_move_a_running_clock(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"), priority="normal")
    with db.unit_of_work() as uow:
        item = uow.session.get(ServiceItem, Catalogue.contract)
        assert item is not None
        item.sla_policy = {"warn_share": "0.5", "targets": {"normal": {"tenant": {"first_response": 10}}}}
        uow.commit()
    first = clocks(db, case_id)[("tenant", "first_response", None)]
    assert (first.target_minutes, first.warn_share) == (240, Decimal("0.8"))


def test_triage_meets_the_tenants_first_response_and_assignment_starts_the_firms_clocks(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"))
    move(db, case_id, "triage", "triaged", park(f"{MONDAY} 09:20"))
    move(db, case_id, "assign", "assigned", park(f"{MONDAY} 09:30"), firm_org_id=LAW)
    found = clocks(db, case_id)
    assert found[("tenant", "first_response", None)].met_at is not None
    assert found[("tenant", "resolution", None)].met_at is None
    firm = found[("firm", "first_response", LAW)]
    assert firm.target_minutes == 120 and firm.met_at is None and firm.stopped_at is None
    entries = by_target(view(db, case_id, park(f"{MONDAY} 10:00"), "desk"))
    assert entries[("tenant", "first_response")]["state"] == "met"
    assert entries[("tenant", "first_response")]["used_minutes"] == 20
    assert entries[("firm", "first_response")]["used_minutes"] == 30
    assert entries[("firm", "first_response")]["remaining_minutes"] == 90
    assert entries[("firm", "first_response")]["share"] == "0.2500"
    assert entries[("firm", "first_response")]["due_at"] == park(f"{MONDAY} 11:30")


def test_a_reassignment_stops_the_replaced_firms_clocks_and_starts_the_new_ones(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"))
    move(db, case_id, "triage", "triaged", park(f"{MONDAY} 09:10"))
    move(db, case_id, "assign", "assigned", park(f"{MONDAY} 09:20"), firm_org_id=LAW)
    move(db, case_id, "assign", "assigned", park(f"{MONDAY} 09:40"), firm_org_id=LAW2)
    found = clocks(db, case_id)
    assert found[("firm", "first_response", LAW)].stopped_at is not None
    assert found[("firm", "resolution", LAW)].stopped_at is not None
    assert found[("firm", "first_response", LAW2)].stopped_at is None
    move(db, case_id, "accept", "accepted", park(f"{MONDAY} 10:00"))
    found = clocks(db, case_id)
    assert found[("firm", "first_response", LAW2)].met_at is not None
    assert found[("firm", "first_response", LAW)].met_at is None  # the replaced firm met nothing


def test_a_decline_is_the_firms_answer_and_stops_its_resolution_clock(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"))
    move(db, case_id, "triage", "triaged", park(f"{MONDAY} 09:10"))
    move(db, case_id, "assign", "assigned", park(f"{MONDAY} 09:20"), firm_org_id=LAW)
    move(db, case_id, "decline", "triaged", park(f"{MONDAY} 09:50"), firm_org_id=None, declined_by=[LAW])
    found = clocks(db, case_id)
    assert found[("firm", "first_response", LAW)].met_at == park(f"{MONDAY} 09:50")
    assert found[("firm", "resolution", LAW)].stopped_at == park(f"{MONDAY} 09:50")
    assert found[("tenant", "resolution", None)].stopped_at is None  # the park's promise runs on


def test_waiting_on_the_tenant_pauses_every_clock_until_work_resumes(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"), priority="normal")
    move(db, case_id, "triage", "triaged", park(f"{MONDAY} 09:10"))
    move(db, case_id, "assign", "assigned", park(f"{MONDAY} 09:20"), firm_org_id=LAW)
    move(db, case_id, "accept", "accepted", park(f"{MONDAY} 09:30"))
    move(db, case_id, "start", "in_progress", park(f"{MONDAY} 09:40"))
    move(db, case_id, "wait", "waiting_on_tenant", park(f"{MONDAY} 10:00"))
    paused = by_target(view(db, case_id, park(f"{MONDAY} 16:00"), "desk"))
    assert paused[("tenant", "resolution")]["state"] == "paused"
    assert paused[("tenant", "resolution")]["used_minutes"] == 60
    assert paused[("tenant", "resolution")]["due_at"] is None
    move(db, case_id, "resume", "in_progress", park(f"{MONDAY} 16:00"))
    with db.reading() as session:
        [pause] = session.execute(select(CasePause).where(CasePause.case_id == case_id)).scalars()
        assert (pause.starts_at, pause.ends_at) == (park(f"{MONDAY} 10:00"), park(f"{MONDAY} 16:00"))
    running = by_target(view(db, case_id, park(f"{MONDAY} 17:00"), "desk"))
    assert running[("tenant", "resolution")]["state"] == "running"
    assert running[("tenant", "resolution")]["used_minutes"] == 120
    assert running[("firm", "resolution")]["used_minutes"] == 100  # from 09:20, less the pause


def test_a_rejected_solution_unmeets_resolution_and_the_tenants_answer_time_does_not_count(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"), priority="normal")
    move(db, case_id, "triage", "triaged", park(f"{MONDAY} 09:10"))
    move(db, case_id, "assign", "assigned", park(f"{MONDAY} 09:20"), firm_org_id=LAW)
    move(db, case_id, "accept", "accepted", park(f"{MONDAY} 09:30"))
    move(db, case_id, "start", "in_progress", park(f"{MONDAY} 09:40"))
    proposed = park(f"{MONDAY} 10:00")
    move(db, case_id, "propose_solution", "solution_proposed", proposed, solution_proposed_at=proposed)
    met = by_target(view(db, case_id, park("2026-11-17 10:00"), "desk"))
    assert met[("tenant", "resolution")]["state"] == "met"
    assert met[("tenant", "resolution")]["used_minutes"] == 60
    move(db, case_id, "reject_solution", "in_progress", park("2026-11-17 10:00"))
    reopened = by_target(view(db, case_id, park("2026-11-17 10:30"), "desk"))
    assert reopened[("tenant", "resolution")]["state"] == "running"
    assert reopened[("tenant", "resolution")]["met_at"] is None
    assert reopened[("tenant", "resolution")]["used_minutes"] == 90  # 60 before, 30 after: not the day between
    assert reopened[("tenant", "first_response")]["state"] == "met"


def test_cancelling_stops_every_running_clock(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"))
    move(db, case_id, "triage", "triaged", park(f"{MONDAY} 09:10"))
    move(db, case_id, "cancel", "cancelled", park(f"{MONDAY} 09:30"))
    found = clocks(db, case_id)
    assert found[("tenant", "resolution", None)].stopped_at == park(f"{MONDAY} 09:30")
    assert found[("tenant", "first_response", None)].stopped_at is None  # met before, stays met
    states = {(e["clock"], e["target"]): e["state"] for e in view(db, case_id, park(f"{MONDAY} 12:00"), "desk")}
    assert states == {("tenant", "first_response"): "met", ("tenant", "resolution"): "stopped"}


def test_a_message_the_tenant_sees_is_a_first_response(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"))
    in_case(db, case_id, lambda uow, case: sla.on_tenant_visible_message(uow, case, "tenant", park(f"{MONDAY} 9:05")))
    assert clocks(db, case_id)[("tenant", "first_response", None)].met_at is None  # the tenant's own words
    in_case(db, case_id, lambda uow, case: sla.on_tenant_visible_message(uow, case, "park", park(f"{MONDAY} 9:15")))
    assert clocks(db, case_id)[("tenant", "first_response", None)].met_at == park(f"{MONDAY} 09:15")

    other = new_case(db, park(f"{MONDAY} 09:00"))
    move(db, other, "triage", "triaged", park(f"{MONDAY} 09:10"))
    move(db, other, "assign", "assigned", park(f"{MONDAY} 09:20"), firm_org_id=LAW)
    in_case(db, other, lambda uow, case: sla.on_tenant_visible_message(uow, case, "firm", park(f"{MONDAY} 9:45")))
    assert clocks(db, other)[("firm", "first_response", LAW)].met_at == park(f"{MONDAY} 09:45")


def test_met_after_the_target_is_met_late(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"))  # urgent: 60 minutes
    move(db, case_id, "triage", "triaged", park(f"{MONDAY} 10:30"))
    entry = by_target(view(db, case_id, park(f"{MONDAY} 11:00"), "desk"))[("tenant", "first_response")]
    assert (entry["state"], entry["used_minutes"], entry["remaining_minutes"]) == ("met_late", 90, 0)


# Who sees which clock ----------------------------------------------------------------------------


def test_a_tenant_sees_the_tenants_clock_only_the_firm_and_staff_see_both(db):
    case_id = new_case(db, park(f"{MONDAY} 09:00"))
    move(db, case_id, "triage", "triaged", park(f"{MONDAY} 09:10"))
    move(db, case_id, "assign", "assigned", park(f"{MONDAY} 09:20"), firm_org_id=LAW)
    move(db, case_id, "assign", "assigned", park(f"{MONDAY} 09:30"), firm_org_id=LAW2)
    now = park(f"{MONDAY} 10:00")
    for tenant in ("alice", "bob"):
        assert {e["clock"] for e in view(db, case_id, now, tenant)} == {"tenant"}
    staff = view(db, case_id, now, "desk")
    assert {(e["clock"], e["firm_org_id"]) for e in staff} == {("tenant", None), ("firm", LAW), ("firm", LAW2)}
    firm = view(db, case_id, now, "lawyer3")
    assert {(e["clock"], e["firm_org_id"]) for e in firm} == {("tenant", None), ("firm", LAW2)}
    assert [e["state"] for e in staff if e["firm_org_id"] == LAW] == ["stopped", "stopped"]


def test_the_due_time_skips_lunch_and_pauses():
    from services.consulting.queries.calendar import DEFAULT_HOURS
    from services.consulting.rules import business_calendar

    calendar = business_calendar({int(k): [tuple(p) for p in v] for k, v in DEFAULT_HOURS.items()}, [], [])
    start = park(f"{MONDAY} 11:30")
    assert due_moment(start, 60, calendar) == park(f"{MONDAY} 14:00")
    pause = (park(f"{MONDAY} 11:40"), park(f"{MONDAY} 14:40"))
    assert due_moment(start, 60, calendar, [pause]) == park(f"{MONDAY} 15:30")
    assert due_moment(start, 60, calendar, [(park(f"{MONDAY} 11:40"), None)]) is None
    assert due_moment(start, 5, calendar, [(park(f"{MONDAY} 11:40"), None)]) == park(f"{MONDAY} 11:35")
