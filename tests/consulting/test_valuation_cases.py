"""Valuation cases opened for finance (handlers/valuations.py): one case per request, routed to
the IP appraisal firm, the firm's valuation before its solution, and finance told of the close,
the cancellation, or a decline by every serving firm, once each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.consulting.handlers.valuations import VALUATION_ITEM, on_ip_valuation_requested
from services.consulting.models import Case, ServiceItem
from shared.db import Database
from shared.events.envelope import Event
from tests.booking.conftest import ORG_A
from tests.consulting.conftest import IPA, SLA_POLICY, Catalogue, outbox
from tests.consulting.test_attachments import PDF, upload
from tests.consulting.test_messages import make_case

APPLICATION = "00000000-0000-4000-8000-0000000000f1"
VALUATION_ITEM_ID = "00000000-0000-4000-8000-00000000c0f1"


def add_valuation_item(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(
            ServiceItem(
                id=VALUATION_ITEM_ID,
                category_code=Catalogue.ip,
                code=VALUATION_ITEM,
                name="IP valuation",
                name_zh="知识产权评估",
                intake_fields=[],
                fee_guidance="",
                fee_guidance_zh="",
                quote_required=False,
                sla_policy=SLA_POLICY,
                version=1,
                updated_at=datetime.now(UTC),
            )
        )
        uow.commit()


def requested(db: Database, request_id: str | None = None, **more: Any) -> str:
    """Deliver ``finance.ip_valuation.requested`` as the inbox would; the request id."""
    request_id = request_id or str(uuid.uuid4())
    data = {
        "application_id": APPLICATION,
        "request_id": request_id,
        "application_number": "F-2026-00042",
        "org_id": ORG_A,
        "patent_numbers": ["ZL202010566088.9"],
        "appraiser_org_id": None,
        "requested_by": "user:desk",
        "requested_at": "2026-11-30T01:00:00Z",
        **more,
    }
    with db.unit_of_work(correlationid="saga-1") as uow:
        on_ip_valuation_requested(Event(type="finance.ip_valuation.requested", source="finance", data=data), uow=uow)
        uow.commit()
    return request_id


def case_of(db: Database, request_id: str) -> Case:
    with db.reading() as session:
        case = session.scalars(select(Case).where(Case.origin_ref == request_id)).one()
        session.expunge(case)
        return case


def act(api: Any, user: str, case_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
    etag = api.get(f"/cases/{case_id}", user=user).headers["ETag"]
    return api.post(f"/cases/{case_id}/{action}", body or {}, user=user, **{"If-Match": etag})


def code_of(answer: Any) -> str:
    return str(answer.get_json()["type"].split("/problems/", 1)[1])


def test_a_request_opens_one_case_routed_to_the_appraisal_firm(api, db):
    add_valuation_item(db)
    request_id = requested(db)
    requested(db, request_id)  # the same request again: the same case
    case = case_of(db, request_id)
    assert case.origin == "finance" and case.origin_subject == APPLICATION
    assert case.status == "assigned" and case.firm_org_id == IPA and case.org_id == ORG_A
    assert "F-2026-00042" in case.subject and "ZL202010566088.9" in case.description
    (opened,) = outbox(db, "consulting.valuation")
    assert opened["type"] == "consulting.valuation.opened"
    assert opened["data"]["case_number"] == case.number and opened["data"]["appraiser_org_id"] == IPA
    assert opened["data"]["request_id"] == request_id
    assert len(outbox(db, "consulting.case.submitted")) == 1
    assert api.get(f"/cases/{case.id}", user="alice").status_code == 200  # the tenant's admin reads it


def test_no_item_no_case(db):
    request_id = requested(db)
    with db.reading() as session:
        assert session.scalars(select(Case).where(Case.origin_ref == request_id)).first() is None
    assert outbox(db, "consulting.valuation") == []


def test_the_firm_records_the_valuation_before_its_solution_and_finance_hears_the_close(api, db):
    add_valuation_item(db)
    case = case_of(db, requested(db))
    assert act(api, "ipagent", case.id, "accept").status_code == 200
    assert act(api, "ipagent", case.id, "start").status_code == 200
    early = act(api, "ipagent", case.id, "propose-solution", {"solution": "Valued."})
    assert early.status_code == 409 and code_of(early) == "rule/valuation-missing"
    report = upload(api, case.id, "ipagent", [(PDF, "report.pdf")]).get_json()["attachments"][0]
    other = make_case(db, status="in_progress", firm=IPA, item=Catalogue.patent)
    foreign = upload(api, other, "ipagent", [(PDF, "other.pdf")]).get_json()["attachments"][0]
    path = f"/cases/{case.id}/valuation"

    def record(body: dict[str, Any], user: str = "ipagent") -> Any:
        etag = api.get(f"/cases/{case.id}", user="ipagent").headers["ETag"]
        return api.post(path, body, user=user, **{"If-Match": etag})

    good = {"amount": "2600000.00", "currency": "CNY", "report_attachment_id": report["id"]}
    assert record(good, user="alice").status_code == 403
    for amount in ("0", "-5", "12.345", "abc"):
        refused = record({**good, "amount": amount})
        assert refused.status_code == 422 and code_of(refused) == "rule/valuation-amount", amount
    assert code_of(record({**good, "report_attachment_id": foreign["id"]})) == "rule/valuation-report"
    assert record({**good, "currency": "USD"}).status_code == 422
    assert case_of(db, case.origin_ref or "").valuation_amount is None
    answer = record(good)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["amount"] == "2600000.00" and answer.get_json()["report_name"] == "report.pdf"
    not_valuation = api.post(f"/cases/{other}/valuation", good, user="ipagent", **{"If-Match": "*"})
    assert not_valuation.status_code == 409 and code_of(not_valuation) == "rule/not-valuation"
    assert act(api, "ipagent", case.id, "propose-solution", {"solution": "Valued at 2.6 million."}).status_code == 200
    assert outbox(db, "consulting.valuation.completed") == []
    assert act(api, "alice", case.id, "accept-solution").status_code == 200
    (completed,) = outbox(db, "consulting.valuation.completed")
    data = completed["data"]
    assert Decimal(data["amount"]) == Decimal("2600000.00") and data["currency"] == "CNY"
    assert data["report_attachment_id"] == report["id"] and data["report_name"] == "report.pdf"
    assert data["application_id"] == APPLICATION and data["case_id"] == case.id


def test_a_cancelled_case_fails_the_valuation_once(api, db):
    add_valuation_item(db)
    case = case_of(db, requested(db))
    assert act(api, "desk", case.id, "cancel", {"reason": "Asked by mistake."}).status_code == 200
    assert act(api, "desk", case.id, "cancel", {"reason": "Again."}).status_code == 409
    (failed,) = outbox(db, "consulting.valuation.failed")
    assert failed["data"]["failure"] == "cancelled" and failed["data"]["reason"] == "Asked by mistake."


def test_a_decline_by_every_serving_firm_fails_the_valuation(api, db):
    add_valuation_item(db)
    case = case_of(db, requested(db))
    answer = act(api, "ipagent", case.id, "decline", {"reason": "Conflict of interest."})
    assert answer.status_code == 200, answer.get_json()
    after = case_of(db, case.origin_ref or "")
    assert after.status == "cancelled" and after.declined_by == [IPA]
    (failed,) = outbox(db, "consulting.valuation.failed")
    assert failed["data"]["failure"] == "declined_by_all"


def test_the_closing_step_carries_the_sagas_correlation_id(api: Any, db: Database) -> None:
    """Journey 2 is one saga: consulting.valuation.completed is published under finance's
    request's correlation id, not the tenant's acceptance's."""
    add_valuation_item(db)
    case = case_of(db, requested(db))
    assert act(api, "ipagent", case.id, "accept").status_code == 200
    assert act(api, "ipagent", case.id, "start").status_code == 200
    report = upload(api, case.id, "ipagent", [(PDF, "report.pdf")]).get_json()["attachments"][0]
    etag = api.get(f"/cases/{case.id}", user="ipagent").headers["ETag"]
    recorded = api.post(
        f"/cases/{case.id}/valuation",
        {"amount": "100.00", "currency": "CNY", "report_attachment_id": report["id"]},
        user="ipagent",
        **{"If-Match": etag},
    )
    assert recorded.status_code == 200, recorded.get_json()
    assert act(api, "ipagent", case.id, "propose-solution", {"solution": "Valued."}).status_code == 200
    etag = api.get(f"/cases/{case.id}", user="alice").headers["ETag"]
    accepted = api.post(
        f"/cases/{case.id}/accept-solution", {}, user="alice", **{"If-Match": etag, "X-Request-ID": "alice-accept"}
    )
    assert accepted.status_code == 200, accepted.get_json()
    (completed,) = outbox(db, "consulting.valuation.completed")
    assert completed["correlationid"] == "saga-1"
    (closed,) = outbox(db, "consulting.case.closed")
    assert closed["correlationid"] == "alice-accept"
