"""A late answer to a valuation request the job gave up on never replaces the valuation of a newer
request the desk made meanwhile, once that one is valued (handlers/valuations.py,
``_superseded``). Found by the state machine (tests/finance/test_stateful.py): an IP-pledge loan
whose first request went unanswered was asked again and valued, and consulting's late
``completed`` for the first request then recorded its amount over the newer one's."""

from __future__ import annotations

from sqlalchemy import select

from services.finance.handlers.valuations import on_valuation_completed, on_valuation_opened
from services.finance.models import ApplicationTransition
from tests.finance.test_valuations import answer, deliver
from tests.finance.test_valuations_late_answers import CASE, given_up_and_asked_again, rows

REPORT = "00000000-0000-4000-8000-0000000000d1"
LATE_CASE = "00000000-0000-4000-8000-0000000000c2"


def completed(request_id: str, application_id: str, amount: str, **more: str) -> dict[str, object]:
    return answer(
        request_id,
        application_id,
        amount=amount,
        currency="CNY",
        report_name="report.pdf",
        report_attachment_id=REPORT,
        **more,
    )


def valuation_lines(db, application_id: str) -> list[str | None]:
    with db.reading() as session:
        query = select(ApplicationTransition.details).where(
            ApplicationTransition.application_id == application_id,
            ApplicationTransition.action == "record_valuation",
        )
        return [details.get("request_id") for details in session.scalars(query.order_by(ApplicationTransition.id))]


def test_a_late_answer_to_a_given_up_request_does_not_replace_a_newer_valuation(api, db):
    application_id, first, second = given_up_and_asked_again(api, db)
    newer = completed(second, application_id, "2500000.00")
    deliver(db, on_valuation_completed, "consulting.valuation.completed", newer)
    late = completed(first, application_id, "900000.00", case_id=LATE_CASE, case_number="C-2026-00079")
    deliver(db, on_valuation_opened, "consulting.valuation.opened", late)
    deliver(db, on_valuation_completed, "consulting.valuation.completed", late)

    application, requests = rows(db, application_id)
    assert str(application.valuation_amount) == "2500000.00"
    assert requests[second].status == "valued" and requests[second].case_id == CASE
    assert requests[first].status == "no_answer" and requests[first].amount is None
    assert (requests[first].case_id, requests[first].case_number) == (LATE_CASE, "C-2026-00079")
    assert valuation_lines(db, application_id) == [second]
    body = api.get(f"/applications/{application_id}", user="desk").get_json()
    assert body["valuation"]["request_id"] == second and body["valuation"]["amount"] == "2500000.00"
