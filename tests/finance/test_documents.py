"""An application's documents over HTTP: upload (typed by content, the checklist's types, a
partner's request), the checklist beside them, download, deletion in a draft; who may and who
may not (another tenant, a partner it is not routed to); bad input refused with nothing written."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from services.finance.models import Application, ApplicationTransition, Document, DocumentBlob, Review
from shared.db import Database
from tests.booking.conftest import BANK, ORG_A
from tests.finance.conftest import BANK2, BUREAU, Products

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
HTML = b"<html><script>alert(1)</script></html>"

_KINDS = {Products.loan: "guaranteed_loan", Products.subsidy: "subsidy", Products.ip_loan: "ip_pledge_loan"}


def make_application(
    db: Database,
    product: str = Products.loan,
    *,
    status: str = "draft",
    org_id: str = ORG_A,
    applicant: str = "user:alice",
    amount: str = "1000000.00",
    term_months: int = 12,
    reviews: tuple[tuple[str, str, dict[str, Any] | None], ...] = (),
    accepted_partner: str | None = None,
) -> str:
    """An application written straight into the tables (the applications' API is another
    module's), with ``reviews`` as (partner, review status, requested)."""
    now = datetime.now(UTC)
    application_id = str(uuid.uuid4())
    with db.unit_of_work() as uow:
        uow.session.add(
            Application(
                id=application_id,
                number=f"F-2026-{uuid.uuid4().int % 100000:05d}",
                org_id=org_id,
                applicant=applicant,
                applicant_name="Alice Wang",
                product_id=product,
                product_kind=_KINDS[product],
                status=status,
                amount=Decimal(amount),
                currency="CNY",
                term_months=term_months,
                purpose="",
                answers={},
                accepted_partner_org_id=accepted_partner,
                created_at=now,
                updated_at=now,
            )
        )
        uow.session.flush()
        for partner, review_status, requested in reviews:
            uow.session.add(
                Review(
                    id=str(uuid.uuid4()),
                    application_id=application_id,
                    partner_org_id=partner,
                    status=review_status,
                    requested=requested,
                    routed_by="user:desk",
                    routed_at=now,
                    updated_at=now,
                )
            )
        uow.commit()
    return application_id


def review_of(db: Database, application_id: str, partner: str) -> str:
    with db.reading() as session:
        return session.scalars(
            select(Review.id).where(Review.application_id == application_id, Review.partner_org_id == partner)
        ).one()


def upload(
    api: Any,
    application_id: str,
    doc_type: str | None = "business_licence",
    files: list[tuple[bytes, str]] | None = None,
    user: str = "alice",
    **fields: str,
) -> Any:
    items: list[tuple[str, Any]] = [] if doc_type is None else [("doc_type", doc_type)]
    items += list(fields.items())
    sent = [(PDF, "营业执照 2026.pdf")] if files is None else files
    items += [("file", FileStorage(io.BytesIO(content), filename=name)) for content, name in sent]
    boundary, body = encode_multipart(MultiDict(items))
    return api.client.post(
        f"/api/v1/finance/applications/{application_id}/documents",
        data=body,
        headers={**api.headers(user), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


def code_of(answer: Any) -> str:
    """A problem's code: what its ``type`` names after ``/problems/`` (``rule/document-type``)."""
    return str(answer.get_json()["type"].split("/problems/", 1)[1])


def count_documents(db: Database) -> tuple[int, int, int]:
    """Documents, blobs and audit lines: a refused request leaves all three as they were."""
    with db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Document)) or 0,
            session.scalar(select(func.count()).select_from(DocumentBlob)) or 0,
            session.scalar(select(func.count()).select_from(ApplicationTransition)) or 0,
        )


def test_a_draft_takes_the_checklist_documents_and_shows_what_is_missing(api, db):
    application_id = make_application(db)
    answer = upload(api, application_id, "business_licence", [(PDF, "营业执照 2026.pdf")], user="bob")
    assert answer.status_code == 201, answer.get_json()
    document = answer.get_json()
    assert document["doc_type"] == "business_licence"
    assert document["filename"] == "营业执照 2026.pdf"
    assert document["content_type"] == "application/pdf"
    assert document["size"] == len(PDF)
    assert document["review_id"] is None
    assert answer.headers["Location"] == document["url"]

    listing = api.get(f"/applications/{application_id}/documents").get_json()
    assert [d["id"] for d in listing["items"]] == [document["id"]]
    by_type = {c["type"]: c for c in listing["checklist"]}
    assert by_type["business_licence"]["present"] is True
    assert by_type["financial_statements"] == {
        "type": "financial_statements",
        "name": "Financial statements",
        "name_zh": "财务报表",
        "required": True,
        "present": False,
        "count": 0,
    }
    assert listing["missing"] == ["financial_statements"]
    assert listing["complete"] is False

    statements = upload(api, application_id, "financial_statements", [(b"year,revenue\n2025,12000000\n", "fs.csv")])
    assert statements.status_code == 201
    assert statements.get_json()["content_type"].startswith("text/csv")
    listing = api.get(f"/applications/{application_id}/documents").get_json()
    assert listing["missing"] == [] and listing["complete"] is True

    download = api.get(f"/applications/{application_id}/documents/{document['id']}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.content_type == "application/pdf"
    assert "attachment;" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    again = api.get(
        f"/applications/{application_id}/documents/{document['id']}",
        headers={"If-None-Match": f'"{document["sha256"]}"'},
    )
    assert again.status_code == 304


def test_a_file_is_typed_by_its_bytes_not_its_name(api, db):
    application_id = make_application(db)
    answer = upload(api, application_id, "business_plan", [(PNG, "plan.pdf")])
    assert answer.status_code == 201
    assert answer.get_json()["content_type"] == "image/png"
    assert answer.get_json()["filename"] == "plan.png"


def test_bad_uploads_are_refused_with_their_code_and_nothing_is_written(api, db):
    application_id = make_application(db)
    before = count_documents(db)
    cases = [
        (upload(api, application_id, "tax_certificate"), 422, "rule/document-type"),
        (upload(api, application_id, "business_licence", [(HTML, "licence.pdf")]), 422, "rule/attachment-type"),
        (upload(api, application_id, "business_licence", [(b"", "empty.pdf")]), 422, "rule/attachment-empty"),
        (upload(api, application_id, "business_licence", [(PDF, "a.pdf"), (PDF, "b.pdf")]), 422, "validation-failed"),
        (upload(api, application_id, "business_licence", []), 422, "validation-failed"),
        (upload(api, application_id, None), 422, "validation-failed"),
        (upload(api, application_id, "business_licence", colour="blue"), 422, "validation-failed"),
        (
            api.post(f"/applications/{application_id}/documents", {"doc_type": "business_licence"}),
            415,
            "unsupported-media-type",
        ),
    ]
    for answer, status, code in cases:
        assert answer.status_code == status, answer.get_json()
        assert answer.content_type == "application/problem+json"
        if code:
            assert code_of(answer) == code
    refused = cases[0][0].get_json()
    assert refused["allowed"] == ["business_licence", "business_plan", "financial_statements"]
    assert "tax_certificate" in refused["detail"]
    assert count_documents(db) == before


def test_a_document_over_the_limit_is_refused(api, db):
    application_id = make_application(db)
    big = PDF + b"0" * (20 * 1024 * 1024)
    answer = upload(api, application_id, "business_licence", [(big, "big.pdf")])
    assert answer.status_code == 422
    assert code_of(answer) == "rule/attachment-too-large"
    assert answer.get_json()["limit"] == 20 * 1024 * 1024
    beyond = upload(api, application_id, "business_licence", [(big + b"0" * (1024 * 1024), "bigger.pdf")])
    assert beyond.status_code == 413
    assert code_of(beyond) == "payload-too-large"


def test_after_submission_documents_come_only_as_answers_to_a_partners_request(api, db):
    asked = {"document_types": ["tax_certificate"], "questions": "Your tax certificate, please."}
    application_id = make_application(
        db, status="routed", reviews=((BANK, "info_requested", asked), (BANK2, "under_review", None))
    )
    bank_review = review_of(db, application_id, BANK)

    answer = upload(api, application_id, "tax_certificate", [(PDF, "tax.pdf")])
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["review_id"] == bank_review
    assert api.get(f"/applications/{application_id}/documents").get_json()["requested"] == ["tax_certificate"]
    # A checklist type goes to the same request.
    assert upload(api, application_id, "business_plan").get_json()["review_id"] == bank_review

    wrong_review = upload(api, application_id, "tax_certificate", review_id=review_of(db, application_id, BANK2))
    assert wrong_review.status_code == 422
    assert code_of(wrong_review) == "rule/document-review"
    unasked = upload(api, application_id, "audit_report")
    assert unasked.status_code == 422
    assert code_of(unasked) == "rule/document-type"

    submitted = make_application(db, status="submitted")
    closed = upload(api, submitted, "business_licence")
    assert closed.status_code == 409
    assert code_of(closed) == "rule/documents-closed"
    quiet = make_application(db, status="routed", reviews=((BANK, "under_review", None),))
    assert code_of(upload(api, quiet, "business_licence")) == "rule/documents-closed"


def test_who_reads_and_who_uploads(api, db):
    application_id = make_application(db, status="routed", reviews=((BANK, "info_requested", None),))
    document = upload(api, application_id).get_json()
    path = f"/applications/{application_id}/documents"
    for user in ("alice", "bob", "bank", "bank2", "desk", "admin"):
        assert api.get(path, user=user).status_code == 200, user
        assert api.get(f"{path}/{document['id']}", user=user).data == PDF, user
    for user in ("carol", "dave", "banker", "guarantor", "bureau", "lawyer"):
        for answer in (api.get(path, user=user), api.get(f"{path}/{document['id']}", user=user)):
            assert answer.status_code == 404, user
            assert code_of(answer) == "not-found"
    # Another tenant is told there is no such application; partners and staff never upload.
    assert upload(api, application_id, user="carol").status_code == 404
    for user in ("bank", "desk", "admin"):
        refused = upload(api, application_id, user=user)
        assert refused.status_code == 403, user
        assert code_of(refused) == "forbidden"
    assert api.get(f"{path}/{uuid.uuid4()}").status_code == 404
    other = make_application(db)
    assert api.get(f"/applications/{other}/documents/{document['id']}").status_code == 404


def test_a_draft_document_is_deleted_and_a_submitted_one_stays(api, db):
    application_id = make_application(db)
    document = upload(api, application_id).get_json()
    path = f"/applications/{application_id}/documents/{document['id']}"
    assert api.delete(path, user="carol").status_code == 404
    assert api.delete(path, user="desk").status_code == 403
    assert api.delete(path, user="bob").status_code == 204
    assert api.get(path).status_code == 404
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(DocumentBlob)) == 0
        actions = session.scalars(
            select(ApplicationTransition.action).where(ApplicationTransition.application_id == application_id)
        ).all()
    assert actions == ["add_document", "remove_document"]

    kept = upload(api, application_id).get_json()
    with db.unit_of_work() as uow:
        application = uow.session.get(Application, application_id)
        assert application is not None
        application.status = "submitted"
        uow.commit()
    refused = api.delete(f"/applications/{application_id}/documents/{kept['id']}", user="alice")
    assert refused.status_code == 409
    assert code_of(refused) == "rule/documents-closed"
    assert api.get(f"/applications/{application_id}/documents/{kept['id']}").data == PDF


def test_refusals_read_in_chinese(api, db):
    application_id = make_application(db, status="submitted")
    refused = api.client.post(
        f"/api/v1/finance/applications/{application_id}/documents",
        data={"doc_type": "business_licence", "file": (io.BytesIO(PDF), "a.pdf")},
        headers={**api.headers("alice"), "Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 409
    assert code_of(refused) == "rule/documents-closed"
    assert refused.get_json()["detail"] == "文件只能添加到草稿中，或用于答复合作方的补充材料要求。"


def test_a_subsidys_documents_are_the_bureaus_to_read_never_a_banks(api, db):
    application_id = make_application(db, Products.subsidy, status="routed", reviews=((BUREAU, "under_review", None),))
    with db.unit_of_work() as uow:
        application = uow.session.get(Application, application_id)
        assert application is not None
        application.status = "draft"
        uow.commit()
    document = upload(api, application_id).get_json()
    with db.unit_of_work() as uow:
        application = uow.session.get(Application, application_id)
        assert application is not None
        application.status = "routed"
        uow.commit()
    path = f"/applications/{application_id}/documents"
    for user in ("bureau", "bureau2"):
        assert api.get(f"{path}/{document['id']}", user=user).data == PDF
    for user in ("bank", "banker", "guarantor"):
        assert api.get(path, user=user).status_code == 404, user
        assert api.get(f"{path}/{document['id']}", user=user).status_code == 404, user
    # The subsidy's checklist is the business licence only.
    assert api.get(path, user="bureau").get_json()["missing"] == []


def test_a_form_part_without_a_name_is_a_422_naming_it(api, db):
    """A part with no name is an unknown field like any other, never a 500."""
    application_id = make_application(db)
    body = (
        b"--x\r\nContent-Disposition: form-data\r\n\r\nno name\r\n"
        b'--x\r\nContent-Disposition: form-data; name="doc_type"\r\n\r\nbusiness_licence\r\n--x--\r\n'
    )
    answer = api.client.post(
        f"/api/v1/finance/applications/{application_id}/documents",
        data=body,
        content_type="multipart/form-data; boundary=x",
        headers=api.headers("alice"),
    )
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["errors"]["(unnamed part)"] == ["Unknown field."]
    assert count_documents(db)[0] == 0
