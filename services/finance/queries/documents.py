"""An application's documents against its product's checklist, one document to download, its
patents with the pledge registration's pre-check, its valuation and pledge."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.finance.handlers.documents import (
    asked_types,
    checklist,
    document_view,
    failure_view,
    listed_patents,
    load_document,
    park_day,
    patent_view,
    valuation_view,
)
from services.finance.models import Application, Document, Product
from services.finance.queries.applications import visible_application
from services.finance.rules import ip_pledge
from shared.clock import utcnow
from shared.errors import RuleViolation
from shared.principal import Principal


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


__all__ = ["document", "documents", "failure_view", "patents", "valuation"]
