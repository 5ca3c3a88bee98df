"""An application's documents against its product's checklist, one document to download, its
patents with the pledge registration's pre-check, its valuation and pledge."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.finance.models import Application, Document, Patent, Product, Review, directory
from services.finance.queries.applications import visible_application
from services.finance.rules import ip_pledge
from shared.clock import PARK_TZ, as_utc, utcnow
from shared.directory import organisations
from shared.errors import NotFound, RuleViolation
from shared.i18n import _
from shared.principal import Principal


def park_day(moment: datetime) -> date:
    """The park's calendar day of ``moment`` (Asia/Shanghai: from 16:00 UTC the UTC day is the
    park's yesterday)."""
    return as_utc(moment).astimezone(PARK_TZ).date()


def checklist(product: Product) -> list[dict[str, Any]]:
    """The product's document checklist: ``[{"type", "name", "name_zh", "required"}]``."""
    return [dict(item) for item in product.checklist or []]


def asked_types(review: Review) -> tuple[str, ...]:
    """The document types a partner's open request for information names."""
    requested = review.requested or {}
    types = requested.get("document_types") or ()
    return tuple(t for t in types if isinstance(t, str))


def load_document(session: Session, application: Application, document_id: str) -> Document:
    """The application's document ``document_id`` (404 otherwise)."""
    document = session.get(Document, document_id)
    if document is None or document.application_id != application.id:
        raise NotFound(_("There is no document {id}.", id=document_id), code="not-found")
    return document


def document_view(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "application_id": document.application_id,
        "doc_type": document.doc_type,
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "uploaded_by": document.uploaded_by,
        "uploaded_by_name": document.uploaded_by_name,
        "uploaded_at": document.uploaded_at,
        "review_id": document.review_id,
        "url": f"/api/v1/finance/applications/{document.application_id}/documents/{document.id}",
    }


def applicant_names(session: Any, application: Application) -> tuple[str, ...]:
    """The names the applying organisation is registered under (Chinese and English), from the
    directory; the id when the directory does not hold it yet."""
    row = organisations(session, directory, [application.org_id]).get(application.org_id)
    if row is None:
        return (application.applicant_name or application.org_id,)
    return tuple(n for n in (row.get("name_zh"), row.get("name")) if n)


def rule_patent(patent: Patent) -> ip_pledge.Patent:
    return ip_pledge.Patent(
        number=patent.number,
        title=patent.title,
        holder=patent.holder,
        granted_on=patent.granted_on,
        expires_on=patent.expires_on or date.min,
        fees_paid_until=patent.fees_paid_until,
        pledges=tuple(f"#{i}" for i in range(1, (patent.existing_pledges or 0) + 1)),
    )


def patent_failures(
    session: Any, application: Application, patent: Patent, *, today: date
) -> list[ip_pledge.PatentFailure]:
    """Every reason the registration would refuse ``patent`` for this application: the holder is
    compared with each name the applicant is registered under (one match is enough)."""
    best: list[ip_pledge.PatentFailure] | None = None
    for name in applicant_names(session, application):
        found = ip_pledge.check_patents(
            [rule_patent(patent)],
            applicant=name,
            loan_start=today,
            term_months=application.term_months,
            today=today,
        )
        if best is None or len(found) < len(best):
            best = found
    return best or []


def patent_view(session: Any, application: Application, patent: Patent, *, today: date) -> dict[str, Any]:
    failures = patent_failures(session, application, patent, today=today)
    return {
        "id": patent.id,
        "number": patent.number,
        "title": patent.title,
        "holder": patent.holder,
        "granted_on": patent.granted_on,
        "expires_on": patent.expires_on,
        "fees_paid_until": patent.fees_paid_until,
        "existing_pledges": patent.existing_pledges,
        "check": {"ok": not failures, "failures": [failure_view(f) for f in failures]},
    }


def failure_view(failure: ip_pledge.PatentFailure) -> dict[str, Any]:
    return {"code": failure.code, "message": failure.message, "patent": failure.patent}


def listed_patents(session: Any, application: Application) -> list[Patent]:
    """The application's patents, by number."""
    return list(session.scalars(select(Patent).where(Patent.application_id == application.id).order_by(Patent.number)))


def valuation_view(application: Application) -> dict[str, Any]:
    """The application's valuation and pledge as :class:`..api.schemas.documents.PledgeSchema` shows them."""
    return {
        "application_id": application.id,
        "amount": application.amount,
        "valuation_amount": application.valuation_amount,
        "valuation_by": application.valuation_by,
        "loan_to_value": application.loan_to_value,
        "pledge_number": application.pledge_number,
        "pledge_registered_on": application.pledge_registered_on,
        "pledge_released_on": application.pledge_released_on,
        "version": application.version,
    }


def application(session: Session, actor: Principal, application_id: str) -> Application:
    """The application if ``actor`` reads it (the ``read`` right: the tenant, a partner it is
    routed to, staff); 404 for anyone else."""
    return visible_application(session, actor, application_id)


def documents(session: Session, actor: Principal, application_id: str) -> dict[str, Any]:
    """The documents, oldest first, and the checklist: each type with ``required``, ``present``
    and how many documents are of it; ``missing`` the required types without one; ``requested``
    the types partners' open requests ask for."""
    found = application(session, actor, application_id)
    product = session.get(Product, found.product_id)
    rows = list(
        session.scalars(
            select(Document).where(Document.application_id == found.id).order_by(Document.uploaded_at, Document.id)
        )
    )
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.doc_type] = counts.get(row.doc_type, 0) + 1
    items = checklist(product) if product else []
    listed = [
        {
            "type": item["type"],
            "name": item.get("name"),
            "name_zh": item.get("name_zh"),
            "required": bool(item.get("required")),
            "present": counts.get(item["type"], 0) > 0,
            "count": counts.get(item["type"], 0),
        }
        for item in items
    ]
    requested = sorted({t for r in found.reviews if r.status == "info_requested" for t in asked_types(r)})
    return {
        "items": [document_view(row) for row in rows],
        "checklist": listed,
        "missing": [c["type"] for c in listed if c["required"] and not c["present"]],
        "requested": requested,
        "complete": all(c["present"] for c in listed if c["required"]),
    }


def document(session: Session, actor: Principal, application_id: str, document_id: str) -> Document:
    """One document's row, for whoever reads the application (404 otherwise)."""
    return load_document(session, application(session, actor, application_id), document_id)


def patents(session: Session, actor: Principal, application_id: str) -> dict[str, Any]:
    """The patents with each one's pre-check, and ``failures``: all of them together (none
    listed is ``rule/patent-none``); ``ok`` when the registration would refuse none."""
    found = application(session, actor, application_id)
    today = park_day(utcnow())
    items = [patent_view(session, found, p, today=today) for p in listed_patents(session, found)]
    failures = [f for item in items for f in item["check"]["failures"]]
    if not items:
        try:
            ip_pledge.check_patents([], applicant="", loan_start=today, term_months=found.term_months, today=today)
        except RuleViolation as none:
            failures = [{"code": none.code, "message": none.detail, "patent": None}]
    return {"items": items, "failures": failures, "ok": not failures}


def valuation(session: Session, actor: Principal, application_id: str) -> dict[str, Any]:
    """The valuation and the pledge of an application the actor reads."""
    return valuation_view(application(session, actor, application_id))
