"""A late answer to a valuation request the job gave up on (``no_answer``) after the desk asked
again: it records the case on the old request and nothing else (handlers/valuations.py)."""

from __future__ import annotations

from datetime import timedelta

from services.finance.handlers.valuations import (
    on_valuation_completed,
    on_valuation_failed,
    unanswered_valuations,
)
from services.finance.models import Application, ValuationRequest
from shared.clock import utcnow
from tests.finance.conftest import outbox
from tests.finance.test_patents import submitted_with_patent
from tests.finance.test_valuations import answer, deliver, request

CASE = "00000000-0000-4000-8000-0000000000c1"


def given_up_and_asked_again(api, db) -> tuple[str, str, str]:
    application_id = submitted_with_patent(db, status="pre_review", amount="1000000.00")
    assert request(api, application_id).status_code == 200
    first = outbox(db, "finance.ip_valuation")[0]["data"]["request_id"]
    with db.unit_of_work() as uow:
        assert unanswered_valuations(30)(uow=uow, now=utcnow() + timedelta(minutes=31)) == 1
        uow.commit()
    assert request(api, application_id).status_code == 200  # the desk asks again
    second = outbox(db, "finance.ip_valuation")[1]["data"]["request_id"]
    return application_id, first, second


def rows(db, application_id: str) -> tuple[Application, dict[str, ValuationRequest]]:
    with db.reading() as session:
        application = session.get(Application, application_id)
        requests = {r.id: r for r in session.query(ValuationRequest).all()}
        session.expunge_all()
    assert application is not None
    return application, requests


def test_a_late_completed_for_a_given_up_request_records_its_case_only(api, db):
    application_id, first, second = given_up_and_asked_again(api, db)
    completed = answer(
        first,
        application_id,
        case_id=CASE,
        case_number="C-2026-00077",
        amount="2500000.00",
        currency="CNY",
        report_name="r.pdf",
        report_attachment_id="00000000-0000-4000-8000-0000000000d1",
    )
    deliver(db, on_valuation_completed, "consulting.valuation.completed", completed)
    application, requests = rows(db, application_id)
    assert application.status == "pre_review" and application.valuation_amount is None
    assert requests[first].status == "no_answer" and requests[first].amount is None
    assert (requests[first].case_id, requests[first].case_number) == (CASE, "C-2026-00077")
    assert requests[second].status == "requested"
    assert outbox(db, "finance.application.routed") == []
    body = api.get(f"/applications/{application_id}", user="desk").get_json()
    assert body["status"] == "pre_review" and body["valuation"]["request_id"] == second


def test_a_late_failed_for_a_given_up_request_records_its_case_only(api, db):
    application_id, first, second = given_up_and_asked_again(api, db)
    failed = answer(first, application_id, case_id=CASE, case_number="C-2026-00078", failure="cancelled", reason="x")
    deliver(db, on_valuation_failed, "consulting.valuation.failed", failed)
    _application, requests = rows(db, application_id)
    assert requests[first].status == "no_answer" and requests[first].reason is None
    assert requests[first].case_number == "C-2026-00078"
    assert requests[second].status == "requested"


def test_a_late_completed_with_nothing_newer_open_is_taken(api, db):
    application_id = submitted_with_patent(db, status="pre_review", amount="1000000.00")
    assert request(api, application_id).status_code == 200
    first = outbox(db, "finance.ip_valuation")[0]["data"]["request_id"]
    with db.unit_of_work() as uow:
        assert unanswered_valuations(30)(uow=uow, now=utcnow() + timedelta(minutes=31)) == 1
        uow.commit()
    completed = answer(
        first,
        application_id,
        amount="2500000.00",
        currency="CNY",
        report_name="r.pdf",
        report_attachment_id="00000000-0000-4000-8000-0000000000d1",
    )
    deliver(db, on_valuation_completed, "consulting.valuation.completed", completed)
    application, requests = rows(db, application_id)
    assert requests[first].status == "valued" and str(application.valuation_amount) == "2500000.00"
