"""Valuations asked of consulting: the desk's request, consulting's answers, the unanswered job
(handlers/valuations.py). The answers are delivered to the consumers as the inbox would."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from services.finance.handlers.valuations import (
    on_valuation_completed,
    on_valuation_failed,
    on_valuation_opened,
    unanswered_valuations,
)
from services.finance.models import Application, ValuationRequest
from shared.clock import utcnow
from shared.db import Database
from shared.events.envelope import Event
from tests.booking.conftest import BANK
from tests.finance.conftest import outbox
from tests.finance.test_documents import code_of
from tests.finance.test_patents import submitted_with_patent, version_of

APPRAISER = "org-ipagent"


def request(api: Any, application_id: str) -> Any:
    return api.post(
        f"/applications/{application_id}/valuation-request",
        {},
        user="desk",
        **{"If-Match": version_of(api, application_id)},
    )


def deliver(db: Database, handler: Any, type_: str, data: dict[str, Any]) -> None:
    with db.unit_of_work(correlationid="test") as uow:
        handler(Event(type=type_, source="consulting", data=data), uow=uow)
        uow.commit()


def answer(request_id: str, application_id: str, **more: Any) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "application_id": application_id,
        "org_id": "org-a",
        "case_id": "00000000-0000-4000-8000-0000000000c1",
        "case_number": "C-2026-00042",
        "appraiser_org_id": APPRAISER,
        **more,
    }


def valuation_of(api: Any, application_id: str, user: str = "desk") -> dict[str, Any]:
    body = api.get(f"/applications/{application_id}", user=user).get_json()
    return body["valuation"]


def test_a_request_is_a_row_named_in_the_event_and_one_is_open_at_a_time(api, db):
    application_id = submitted_with_patent(db, status="pre_review")
    assert valuation_of(api, application_id)["actions"] == ["request_valuation", "record_valuation"]
    assert valuation_of(api, application_id, user="alice") is None  # the tenant has nothing to do yet
    first = request(api, application_id)
    assert first.status_code == 200, first.get_json()
    (event,) = outbox(db, "finance.ip_valuation")
    shown = valuation_of(api, application_id)
    assert shown["status"] == "requested" and shown["request_id"] == event["data"]["request_id"]
    assert event["data"]["application_number"]
    assert shown["actions"] == ["record_valuation"]
    again = request(api, application_id)
    assert again.status_code == 409 and code_of(again) == "rule/valuation-open"
    assert len(outbox(db, "finance.ip_valuation")) == 1
    with db.reading() as session:
        (row,) = session.query(ValuationRequest).all()
        assert row.status == "requested" and row.requested_by == "user:desk" and row.correlation_id


def test_a_valuation_is_recorded_and_the_application_in_pre_review_is_routed(api, db):
    application_id = submitted_with_patent(db, status="pre_review", amount="1000000.00")
    assert request(api, application_id).status_code == 200
    request_id = outbox(db, "finance.ip_valuation")[0]["data"]["request_id"]
    deliver(db, on_valuation_opened, "consulting.valuation.opened", answer(request_id, application_id))
    assert valuation_of(api, application_id)["status"] == "opened"
    assert valuation_of(api, application_id)["case_number"] == "C-2026-00042"
    completed = answer(
        request_id,
        application_id,
        amount="2500000.00",
        currency="CNY",
        report_name="report.pdf",
        report_attachment_id="00000000-0000-4000-8000-0000000000d1",
    )
    deliver(db, on_valuation_completed, "consulting.valuation.completed", completed)
    deliver(db, on_valuation_completed, "consulting.valuation.completed", completed)  # twice: once
    body = api.get(f"/applications/{application_id}", user="desk").get_json()
    assert body["status"] == "routed" and body["partner_org_ids"] == [BANK]
    assert body["valuation"]["status"] == "valued" and body["valuation"]["amount"] == "2500000.00"
    assert body["valuation"]["report_name"] == "report.pdf"
    with db.reading() as session:
        application = session.get(Application, application_id)
        assert application is not None
        assert str(application.valuation_amount) == "2500000.00" and application.valuation_by == APPRAISER
        assert application.loan_to_value == Decimal("40.00")
    assert len(outbox(db, "finance.application.routed")) == 1


def test_a_failed_valuation_is_shown_and_the_desk_asks_again(api, db):
    application_id = submitted_with_patent(db, status="pre_review")
    assert request(api, application_id).status_code == 200
    request_id = outbox(db, "finance.ip_valuation")[0]["data"]["request_id"]
    failed = answer(request_id, application_id, failure="cancelled", reason="The tenant no longer needs it.")
    deliver(db, on_valuation_failed, "consulting.valuation.failed", failed)
    shown = valuation_of(api, application_id)
    assert shown["status"] == "failed" and shown["failure"] == "cancelled"
    assert shown["reason"] == "The tenant no longer needs it."
    assert shown["actions"] == ["request_valuation", "record_valuation"]
    zh = api.get(f"/applications/{application_id}", user="desk", headers={"Accept-Language": "zh"}).get_json()
    assert zh["valuation"]["failure_label"] != "cancelled"
    assert request(api, application_id).status_code == 200
    assert valuation_of(api, application_id)["status"] == "requested"
    with db.reading() as session:
        application = session.get(Application, application_id)
        assert application is not None and application.status == "pre_review"


def test_requests_are_refused_outside_the_states_and_to_others(api, db):
    draft = submitted_with_patent(db)
    assert code_of(request(api, draft)) == "rule/valuation-state"
    accepted = submitted_with_patent(db, status="accepted", accepted_partner=BANK)
    assert code_of(request(api, accepted)) == "rule/valuation-state"
    application_id = submitted_with_patent(db, status="pre_review")
    path = f"/applications/{application_id}/valuation-request"
    assert code_of(api.post(path, {}, user="alice", **{"If-Match": "*"})) == "forbidden"
    assert outbox(db, "finance.ip_valuation") == []


def test_an_unanswered_request_is_marked_no_answer(api, db):
    application_id = submitted_with_patent(db, status="pre_review")
    assert request(api, application_id).status_code == 200
    job = unanswered_valuations(30)
    with db.unit_of_work() as uow:
        assert job(uow=uow, now=utcnow() + timedelta(minutes=10)) == 0
        assert job(uow=uow, now=utcnow() + timedelta(minutes=31)) == 1
        uow.commit()
    shown = valuation_of(api, application_id)
    assert shown["status"] == "no_answer" and "request_valuation" in shown["actions"]


def test_a_late_opening_reopens_an_unanswered_request_unless_the_desk_asked_again(api, db):
    application_id = submitted_with_patent(db, status="pre_review")
    assert request(api, application_id).status_code == 200
    first = outbox(db, "finance.ip_valuation")[0]["data"]["request_id"]
    with db.unit_of_work() as uow:
        unanswered_valuations(30)(uow=uow, now=utcnow() + timedelta(minutes=31))
        uow.commit()
    assert request(api, application_id).status_code == 200  # the desk asks again
    deliver(db, on_valuation_opened, "consulting.valuation.opened", answer(first, application_id))
    with db.reading() as session:
        statuses = {r.id: r.status for r in session.query(ValuationRequest).all()}
    assert statuses[first] == "no_answer" and sorted(statuses.values()) == ["no_answer", "requested"]
