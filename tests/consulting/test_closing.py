"""The automatic close: a proposed solution left unanswered for 7 calendar days closes the case,
once, as the system, with a ``closed`` event that says it was automatic."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from services.consulting.handlers.closing import close_unanswered
from services.consulting.models import Case
from shared.db import Database
from shared.events.contracts import validate
from tests.booking.conftest import Api
from tests.consulting.conftest import outbox
from tests.consulting.test_cases_support import case_in


def proposed_at(db: Database, case_id: str) -> datetime:
    with db.reading() as session:
        moment = session.scalar(select(Case.solution_proposed_at).where(Case.id == case_id))
        assert moment is not None
        return moment


def run(db: Database, now: datetime) -> int:
    with db.unit_of_work() as uow:
        closed = close_unanswered(uow=uow, now=now)
        uow.commit()
    return closed


def test_an_unanswered_solution_closes_after_seven_days_once(api: Api, db: Database) -> None:
    case = case_in(api, "solution_proposed")
    answered = case_in(api, "solution_proposed")
    api.post(
        f"/cases/{answered['id']}/reject-solution",
        {"reason": "Not yet."},
        user="bob",
        **{"If-Match": f'"{answered["version"]}"'},
    )
    due = proposed_at(db, case["id"]) + timedelta(days=7)
    assert run(db, due - timedelta(seconds=1)) == 0
    assert run(db, due) == 1
    closed = api.get(f"/cases/{case['id']}", user="bob").json
    assert closed["status"] == "closed" and closed["actions"] == ["rate"]
    assert api.get(f"/cases/{answered['id']}", user="bob").json["status"] == "in_progress"
    line = api.get(f"/cases/{case['id']}/history", user="bob").json["items"][-1]
    assert (line["action"], line["actor"], line["from_status"], line["to_status"]) == (
        "auto_close",
        "system:consulting",
        "solution_proposed",
        "closed",
    )
    assert line["action_label"] == "Closed without an answer to the solution"
    event = outbox(db)[-1]
    assert event["type"] == "consulting.case.closed"
    assert event["data"]["automatic"] is True and event["data"]["previous_status"] == "solution_proposed"
    validate(event["type"], 1, event["data"])
    events = len(outbox(db))
    assert run(db, due + timedelta(days=30)) == 0
    assert len(outbox(db)) == events


def test_a_case_accepted_by_the_tenant_closes_not_automatically(api: Api, db: Database) -> None:
    case_in(api, "closed")
    event = outbox(db)[-1]
    assert event["type"] == "consulting.case.closed" and event["data"]["automatic"] is False
    assert run(db, datetime.now().astimezone() + timedelta(days=30)) == 0
