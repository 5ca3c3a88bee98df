"""The breach job (:func:`handlers.sla.detect_breaches`): a warning at the policy's share, a
breach when the whole target is used, each once per clock and kind however often the job runs;
the escalation (priority one step up, the audit line, the desk's note, the event); business time
across lunch, a weekend, a make-up Saturday and National Day 2026 (the official days in the
calendar's tables); no warning while the case waits on the tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.consulting.handlers import sla as sla_handlers
from services.consulting.handlers.sla import detect_breaches
from services.consulting.models import CalendarDay, CalendarYear, Case, CaseTransition, Message, SlaClock, SlaNotice
from shared.db import Database
from shared.events.contracts import validate
from shared.holidays import official_days
from tests.consulting.conftest import LAW, outbox
from tests.consulting.test_sla import move, new_case, park


def run(db: Database, when: datetime) -> int:
    with db.unit_of_work() as uow:
        done = detect_breaches(uow=uow, now=when)
        uow.commit()
    return done


def sla_events(db: Database) -> list[dict[str, Any]]:
    return [e for e in outbox(db) if e["type"] in ("consulting.case.sla_warning", "consulting.case.sla_breached")]


def kinds(db: Database, case_id: str) -> list[tuple[str, str, str]]:
    return [
        (e["type"].rsplit(".", 1)[1], e["data"]["clock"], e["data"]["target"])
        for e in sla_events(db)
        if e["data"]["case_id"] == case_id
    ]


def load_official_2026(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(
            CalendarYear(year=2026, source="chinesecalendar", loaded_by="test", loaded_at=datetime.now(UTC))
        )
        uow.session.flush()
        for day in official_days(2026):
            uow.session.add(CalendarDay(day=day.day, year=2026, kind=day.kind, name=day.name))
        uow.commit()


# Warning and breach, once ------------------------------------------------------------------------


def test_a_warning_at_the_share_then_a_breach_each_once_however_often_the_job_runs(db):
    case_id = new_case(db, park("2026-11-16 09:00"))  # urgent: first response within 60, warn at 48
    assert run(db, park("2026-11-16 09:47")) == 0
    assert run(db, park("2026-11-16 09:48")) == 1
    assert run(db, park("2026-11-16 09:50")) == 0
    assert kinds(db, case_id) == [("sla_warning", "tenant", "first_response")]
    assert run(db, park("2026-11-16 10:00")) == 1
    assert run(db, park("2026-11-16 10:00")) == 0
    assert run(db, park("2026-11-16 11:00")) == 0
    assert kinds(db, case_id) == [
        ("sla_warning", "tenant", "first_response"),
        ("sla_breached", "tenant", "first_response"),
    ]
    with db.reading() as session:
        clock = session.execute(
            select(SlaClock).where(SlaClock.case_id == case_id, SlaClock.target == "first_response")
        ).scalar_one()
        assert clock.warned_at == park("2026-11-16 09:48")
        assert clock.breached_at == park("2026-11-16 10:00")
        notices = session.execute(select(SlaNotice.kind).where(SlaNotice.clock_id == clock.id)).scalars().all()
        assert sorted(notices) == ["breach", "warning"]


def test_the_events_keep_the_contract_and_say_what_was_due_when(db):
    case_id = new_case(db, park("2026-11-16 11:30"))
    run(db, park("2026-11-16 14:05"))
    [breach] = sla_events(db)
    validate(breach["type"], 1, breach["data"])
    data = breach["data"]
    assert data["case_id"] == case_id
    assert (data["clock"], data["target"], data["target_minutes"]) == ("tenant", "first_response", 60)
    assert data["used_minutes"] == 65
    assert data["due_at"] == "2026-11-16T06:00:00Z"  # 14:00 in the park: the lunch break does not count
    assert data["priority"] == "urgent"
    assert breach["subject"] == f"cases/{case_id}"


def test_a_clock_already_past_its_target_gets_the_breach_not_a_late_warning(db):
    case_id = new_case(db, park("2026-11-16 09:00"))
    assert run(db, park("2026-11-16 15:00")) == 1
    assert kinds(db, case_id) == [("sla_breached", "tenant", "first_response")]


def test_a_breach_escalates_the_case_writes_the_trail_and_tells_the_desk(db):
    case_id = new_case(db, park("2026-11-16 09:00"), priority="normal")  # 240 minutes
    assert run(db, park("2026-11-16 14:31")) == 1
    with db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.priority == "high"
        [line] = session.execute(
            select(CaseTransition).where(CaseTransition.case_id == case_id, CaseTransition.action == "escalate")
        ).scalars()
        assert line.actor == "system:consulting"
        assert (line.from_status, line.to_status) == ("submitted", "submitted")
        assert line.details["clock"] == "tenant" and line.details["target"] == "first_response"
        assert (line.details["priority_from"], line.details["priority_to"]) == ("normal", "high")
        assert line.details["target_minutes"] == 240
        [note] = session.execute(select(Message).where(Message.case_id == case_id)).scalars()
        assert (note.visibility, note.author, note.author_side) == ("desk", "system:consulting", "park")
        assert "first response" in note.body and "240" in note.body
    [event] = sla_events(db)
    assert event["data"]["priority"] == "high"
    # The running clocks keep the targets they started with: the escalation moves none.
    with db.reading() as session:
        targets = session.execute(select(SlaClock.target_minutes).where(SlaClock.case_id == case_id)).scalars()
        assert sorted(targets) == [240, 7200]


def test_an_urgent_case_stays_urgent_and_each_missed_target_escalates_once(db):
    case_id = new_case(db, park("2026-11-16 09:00"), priority="high")  # first response 120
    run(db, park("2026-11-17 09:00"))
    run(db, park("2026-11-17 09:00"))
    assert escalations(db, case_id) == [("high", "urgent")]
    assert kinds(db, case_id) == [("sla_breached", "tenant", "first_response")]
    run(db, park("2026-12-31 09:00"))  # then the resolution target is missed: one step, from urgent
    assert escalations(db, case_id) == [("high", "urgent"), ("urgent", "urgent")]
    assert sorted(kinds(db, case_id)) == [
        ("sla_breached", "tenant", "first_response"),
        ("sla_breached", "tenant", "resolution"),
    ]


def escalations(db: Database, case_id: str) -> list[tuple[str, str]]:
    with db.reading() as session:
        lines = session.execute(
            select(CaseTransition.details)
            .where(CaseTransition.case_id == case_id, CaseTransition.action == "escalate")
            .order_by(CaseTransition.id)
        ).scalars()
        return [(d["priority_from"], d["priority_to"]) for d in lines]


def test_met_stopped_and_closed_clocks_are_left_alone(db):
    met = new_case(db, park("2026-11-16 09:00"))
    move(db, met, "triage", "triaged", park("2026-11-16 09:30"))
    cancelled = new_case(db, park("2026-11-16 09:00"))
    move(db, cancelled, "cancel", "cancelled", park("2026-11-16 09:30"))
    run(db, park("2026-11-16 10:30"))
    assert kinds(db, met) == [] and kinds(db, cancelled) == []


# Business time ---------------------------------------------------------------------------------


def test_friday_evening_is_not_breached_over_the_weekend_and_is_on_monday_morning(db):
    load_official_2026(db)
    case_id = new_case(db, park("2026-11-13 17:30"))  # Friday, urgent: 60 minutes
    assert run(db, park("2026-11-14 12:00")) == 0  # Saturday
    assert run(db, park("2026-11-15 23:00")) == 0  # Sunday
    assert run(db, park("2026-11-16 09:17")) == 0  # 47 minutes used
    assert kinds(db, case_id) == []
    assert run(db, park("2026-11-16 09:18")) == 1
    assert run(db, park("2026-11-16 09:31")) == 1
    assert kinds(db, case_id) == [
        ("sla_warning", "tenant", "first_response"),
        ("sla_breached", "tenant", "first_response"),
    ]


def test_a_make_up_saturday_counts(db):
    load_official_2026(db)
    case_id = new_case(db, park("2026-10-09 17:30"))  # Friday before the make-up Saturday of National Day
    run(db, park("2026-10-10 09:31"))
    assert kinds(db, case_id)[-1] == ("sla_breached", "tenant", "first_response")


def test_national_day_does_not_count(db):
    load_official_2026(db)
    case_id = new_case(db, park("2026-09-30 17:30"))  # Wednesday; 1-7 October are holidays
    assert run(db, park("2026-10-05 10:00")) == 0  # a Monday, but a holiday
    assert run(db, park("2026-10-08 09:29")) == 1  # the warning
    assert kinds(db, case_id) == [("sla_warning", "tenant", "first_response")]
    run(db, park("2026-10-08 09:31"))
    [_, breach] = sla_events(db)
    assert breach["data"]["due_at"] == "2026-10-08T01:30:00Z"


def test_without_the_official_days_the_weekly_hours_alone_count(db):
    case_id = new_case(db, park("2026-09-30 17:30"))
    run(db, park("2026-10-01 09:31"))  # no holidays held: 1 October is a Thursday like any
    assert kinds(db, case_id)[-1] == ("sla_breached", "tenant", "first_response")


# Pauses ----------------------------------------------------------------------------------------


def test_a_paused_case_does_not_warn_while_paused_and_its_clock_stands_still(db):
    case_id = new_case(db, park("2026-11-16 09:00"), priority="normal")
    move(db, case_id, "triage", "triaged", park("2026-11-16 09:05"))
    move(db, case_id, "assign", "assigned", park("2026-11-16 09:10"), firm_org_id=LAW)  # firm first response 480
    move(db, case_id, "accept", "accepted", park("2026-11-16 09:20"))
    move(db, case_id, "start", "in_progress", park("2026-11-16 09:30"))
    # The tenant's resolution target (normal): 7200 minutes, warning at 5760; the firm's 6720,
    # warning at 5376. Paused after 4680 minutes of the tenant's; unpaused, both would warn by
    # 11 December.
    move(db, case_id, "wait", "waiting_on_tenant", park("2026-11-30 13:30"))
    assert run(db, park("2026-12-11 17:00")) == 0
    assert kinds(db, case_id) == []
    move(db, case_id, "resume", "in_progress", park("2026-12-14 09:00"))
    assert run(db, park("2026-12-14 09:00")) == 0
    assert run(db, park("2026-12-17 09:00")) == 2  # 4680 + 3 days of 450 minutes = 6030
    assert kinds(db, case_id) == [("sla_warning", "tenant", "resolution"), ("sla_warning", "firm", "resolution")]


def test_a_case_paused_with_its_share_already_reached_warns_only_once_it_resumes(db):
    case_id = new_case(db, park("2026-11-16 09:00"))  # urgent: 60, warning at 48
    move(db, case_id, "wait", "waiting_on_tenant", park("2026-11-16 09:50"))
    assert run(db, park("2026-11-16 11:00")) == 0
    move(db, case_id, "resume", "in_progress", park("2026-11-16 14:00"))
    assert run(db, park("2026-11-16 14:00")) == 1
    assert kinds(db, case_id) == [("sla_warning", "tenant", "first_response")]
    assert run(db, park("2026-11-16 14:09")) == 0
    assert run(db, park("2026-11-16 14:10")) == 1  # 50 + 10 minutes: breached


def test_the_job_reads_the_clocks_in_batches_with_a_few_queries_each(db, monkeypatch):
    from sqlalchemy import event

    from services.consulting.handlers import sla
    from shared.audit import SEAL_OPTION

    monkeypatch.setattr(sla, "BATCH", 4)
    cases = [new_case(db, park("2026-11-16 09:00")) for _ in range(9)]  # 18 clocks, 9 due
    statements: list[str] = []

    def listener(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if conn.get_execution_options().get(SEAL_OPTION):
            return  # the audit lines' seal after each commit (shared/audit.py), not the job's reading
        statements.append(sql.split(maxsplit=1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert run(db, park("2026-11-16 10:30")) == 9
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert all(kinds(db, c) == [("sla_breached", "tenant", "first_response")] for c in cases)
    # The calendar (3 reads), then per batch of 4 clocks its clocks with their cases and its
    # pauses (2 reads), and for the clocks due both again with their cases held (2 reads);
    # 5 batches and the empty one that ends the loop; the categories' names for the events, once
    # (handlers/common.category_names): never a read per clock.
    assert statements.count("SELECT") <= 3 + 4 * 5 + 1 + 1, statements


# One run's work ---------------------------------------------------------------------------------


def test_a_case_failing_to_escalate_leaves_the_others_escalated(db, monkeypatch):
    """Each case escalates in its own savepoint: one that fails is rolled back alone (no notice,
    no line, no event) and the next run tries it again."""
    failing = new_case(db, park("2026-11-16 09:00"), priority="normal")
    fine = new_case(db, park("2026-11-16 09:00"), priority="normal")
    real = sla_handlers._escalate

    def escalate(uow: Any, case: Case, clock: SlaClock, now: datetime) -> None:
        real(uow, case, clock, now)
        if case.id == failing:
            uow.session.flush()
            raise RuntimeError("the case could not be escalated")

    monkeypatch.setattr(sla_handlers, "_escalate", escalate)
    assert run(db, park("2026-11-17 09:00")) == 1
    assert [e["data"]["case_id"] for e in sla_events(db)] == [fine]
    with db.reading() as session:
        assert session.get(Case, failing).priority == "normal"
        assert session.get(Case, fine).priority == "high"
        lines = session.execute(select(CaseTransition.case_id).where(CaseTransition.action == "escalate")).scalars()
        assert list(lines) == [fine]
        assert session.execute(select(Message.case_id)).scalars().all() == [fine]
    monkeypatch.setattr(sla_handlers, "_escalate", real)
    assert run(db, park("2026-11-17 09:05")) == 1
    assert sorted(e["data"]["case_id"] for e in sla_events(db)) == sorted([failing, fine])


def test_a_run_publishes_at_most_its_share_and_the_next_run_the_rest(db, monkeypatch):
    monkeypatch.setattr(sla_handlers, "PER_RUN", 2)
    cases = [new_case(db, park("2026-11-16 09:00"), priority="normal") for _ in range(3)]
    assert run(db, park("2026-11-17 09:00")) == 2
    assert run(db, park("2026-11-17 09:05")) == 1
    assert run(db, park("2026-11-17 09:10")) == 0
    assert sorted(e["data"]["case_id"] for e in sla_events(db)) == sorted(cases)


def test_the_desk_note_carries_its_notice_for_the_readers_language(db):
    case_id = new_case(db, park("2026-11-16 09:00"), priority="normal")
    run(db, park("2026-11-16 14:31"))
    with db.reading() as session:
        [note] = session.execute(select(Message).where(Message.case_id == case_id)).scalars()
        assert note.notice == {
            "kind": "sla_breached",
            "clock": "tenant",
            "target": "first_response",
            "target_minutes": 240,
        }
        assert note.body == ("SLA missed: the park's first response to the tenant was due within 240 business minutes.")


def test_a_missed_firm_target_leaves_the_priority_the_tenant_reads(db):
    """The firm's commitment is between the park and the firm: its breach is the desk's (line,
    note, event) and does not move the case's priority, which the tenant reads."""
    case_id = new_case(db, park("2026-11-16 09:00"), priority="high")
    move(db, case_id, "triage", "triaged", park("2026-11-16 09:10"))
    move(db, case_id, "assign", "assigned", park("2026-11-16 09:20"), firm_org_id=LAW)  # firm first response 240
    assert run(db, park("2026-11-16 16:00")) == 1  # 160 minutes before lunch, 150 after
    assert kinds(db, case_id) == [("sla_breached", "firm", "first_response")]
    with db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.priority == "high"
        assert case.updated_at == park("2026-11-16 09:20")
        [line] = session.execute(
            select(CaseTransition).where(CaseTransition.case_id == case_id, CaseTransition.action == "escalate")
        ).scalars()
        assert line.details["clock"] == "firm" and line.details["firm_org_id"] == LAW
        assert (line.details["priority_from"], line.details["priority_to"]) == ("high", "high")
        [note] = session.execute(select(Message).where(Message.case_id == case_id)).scalars()
        assert note.visibility == "desk" and note.notice["clock"] == "firm"
