"""An application's documents, the patents of an IP-pledge application, their valuation and the
pledge's registration. Nothing here commits.

Decisions (docs/FINANCE.md, "Documents, patents and pledges"):
- documents are uploaded by the tenant (the ``edit`` right) while the application is a draft, of
  a type of the product's checklist; later only to answer a partner's request for information
  (a review in ``info_requested``): then of the checklist's types or one the partner asked for,
  linked to that review (``review_id``). Their type is told by their bytes, as consulting's
  attachments (:mod:`shared.files.kinds`), at most :data:`MAX_DOCUMENT_BYTES` each;
- a document is deleted only in a draft (what partners read stays);
- patents are listed and removed in a draft of an IP-pledge application; each is answered with
  the pledge registration's pre-check (:func:`services.finance.rules.ip_pledge.check_patents`);
- the desk asks for a valuation (handlers/valuations.py); the desk or the accepted
  partner records its amount, and the loan-to-value ratio is computed from the application's
  amount; the pledge's registration is recorded after acceptance and released at closing
  (:func:`release_pledge`, called by the closing handler).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.finance.commands.documents import (
    AddPatent,
    DeleteDocument,
    DeletePatent,
    RecordPledge,
    RecordValuation,
    UploadDocument,
)
from services.finance.handlers.common import SYSTEM, load_application, new_id, record
from services.finance.models import Application, Document, DocumentBlob, Patent, Product, Review, directory
from services.finance.permissions import RIGHTS
from services.finance.queries.documents import (
    asked_types,
    checklist,
    document_view,
    load_document,
    park_day,
    patent_view,
    valuation_view,
)
from services.finance.rules import ip_pledge
from services.finance.rules.ip_pledge import parse_patent_number
from services.finance.rules.money import parse_amount
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.directory import organisations
from shared.errors import Conflict, NotFound, RuleViolation, check_version
from shared.files.kinds import MiB, accept_file
from shared.files.store import FileStore, new_key, store_named
from shared.i18n import _
from shared.principal import Principal
from shared.settings import Settings

MAX_DOCUMENT_BYTES = 20 * MiB
"""The largest document: scanned statements run larger than a message's files."""
IP_PLEDGE = "ip_pledge_loan"
APPRAISER_KINDS = ("ip_agency",)
"""Organisation kinds that may appraise patents."""
AFTER_ACCEPTANCE = ("accepted", "contract_signed", "disbursing", "disbursed")
ENDED = ("closed", "withdrawn")


def _asking(application: Application) -> list[Review]:
    return [r for r in application.reviews if r.status == "info_requested"]


def _product(uow: UnitOfWork, application: Application) -> Product:
    product = uow.session.get(Product, application.product_id)
    assert product is not None  # a foreign key
    return product


def upload_document(cmd: UploadDocument, *, uow: UnitOfWork, store: FileStore) -> dict[str, Any]:
    """Keep the file as a document of the application (the ``edit`` right). 409
    ``rule/documents-closed`` unless a draft or answering a partner's request; 422
    ``rule/document-type`` for a type neither the checklist nor a request names,
    ``rule/document-review`` for a ``review_id`` that is no open request; the file's own refusals
    (``rule/attachment-type``, ``-empty``, ``-too-large``)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "edit", application)
    product = _product(uow, application)
    listed = [item["type"] for item in checklist(product)]
    review: Review | None = None
    if application.status == "draft":
        allowed = set(listed)
    else:
        asking = _asking(application)
        if not asking:
            raise Conflict(
                _("Documents are added to a draft, or to answer a partner's request for information."),
                code="rule/documents-closed",
            )
        if cmd.review_id is not None:
            review = next((r for r in asking if r.id == cmd.review_id), None)
            if review is None:
                raise RuleViolation(
                    _("No partner's request for information {id} is open on this application.", id=cmd.review_id),
                    code="rule/document-review",
                    field="review_id",
                )
            candidates = [review]
        else:
            candidates = [r for r in asking if cmd.doc_type in asked_types(r)] or asking
            review = candidates[0]
        allowed = set(listed) | {t for r in candidates for t in asked_types(r)}
    if cmd.doc_type not in allowed:
        raise RuleViolation(
            _(
                "{type} is not a document this application takes; it takes: {types}.",
                type=cmd.doc_type,
                types=", ".join(sorted(allowed)) or "-",
            ),
            code="rule/document-type",
            field="doc_type",
            allowed=sorted(allowed),
        )
    accepted = accept_file(cmd.file.name, cmd.file.data, max_bytes=MAX_DOCUMENT_BYTES)
    now = utcnow()
    key = new_key()
    store.put(uow.session, key, cmd.file.data)
    document = Document(
        id=new_id(),
        application_id=application.id,
        doc_type=cmd.doc_type,
        filename=accepted.filename,
        content_type=accepted.content_type,
        size=accepted.size,
        sha256=accepted.sha256,
        storage=store.name,
        storage_key=key,
        uploaded_by=cmd.actor.subject,
        uploaded_by_name=cmd.actor.name or None,
        uploaded_at=now,
        review_id=review.id if review else None,
    )
    uow.session.add(document)
    record(
        uow,
        application,
        "add_document",
        from_status=application.status,
        actor=cmd.actor,
        at=now,
        partner_org_id=review.partner_org_id if review else None,
        document_id=document.id,
        doc_type=cmd.doc_type,
    )
    uow.session.flush()
    return document_view(document)


def delete_document(cmd: DeleteDocument, *, uow: UnitOfWork, settings: Settings) -> None:
    """Remove a document of a draft (the ``edit`` right); 409 ``rule/documents-closed`` later."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "edit", application)
    document = load_document(uow.session, application, cmd.document_id)
    if application.status != "draft":
        raise Conflict(
            _("Documents are removed only from a draft: the partners read what was submitted."),
            code="rule/documents-closed",
        )
    store_named(document.storage, settings.finance_files, settings.var_dir, DocumentBlob).delete(
        uow.session, document.storage_key
    )
    uow.session.delete(document)
    record(
        uow,
        application,
        "remove_document",
        from_status=application.status,
        actor=cmd.actor,
        at=utcnow(),
        document_id=document.id,
        doc_type=document.doc_type,
    )


# Patents --------------------------------------------------------------------------------------


def _ip_pledge(application: Application) -> None:
    if application.product_kind != IP_PLEDGE:
        raise Conflict(_("Only an IP-pledge loan lists patents."), code="rule/not-ip-pledge")


def _draft(application: Application) -> None:
    if application.status != "draft":
        raise Conflict(_("Patents are listed and removed in a draft only."), code="rule/patents-closed")


def add_patent(cmd: AddPatent, *, uow: UnitOfWork) -> dict[str, Any]:
    """List a patent on a draft IP-pledge application (the ``edit`` right); 409
    ``rule/not-ip-pledge``, ``rule/patents-closed``, ``rule/patent-duplicate``; 422
    ``rule/patent-number-format``, ``rule/patent-check-digit``. Answers the patent with its
    pre-check (its failures do not refuse it: the tenant sees them before submitting)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "edit", application)
    _ip_pledge(application)
    _draft(application)
    number = parse_patent_number(cmd.fields["number"])
    listed = uow.session.scalars(
        select(Patent.number).where(Patent.application_id == application.id, Patent.number == number)
    ).first()
    if listed is not None:
        raise Conflict(_("Patent {number} is listed already.", number=number), code="rule/patent-duplicate")
    f = cmd.fields
    patent = Patent(
        id=new_id(),
        application_id=application.id,
        number=number,
        title=f["title"],
        holder=f["holder"],
        granted_on=f.get("granted_on"),
        expires_on=f["expires_on"],
        fees_paid_until=f.get("fees_paid_until"),
        existing_pledges=f.get("existing_pledges") or 0,
    )
    uow.session.add(patent)
    now = utcnow()
    record(uow, application, "add_patent", from_status=application.status, actor=cmd.actor, at=now, number=number)
    uow.session.flush()
    return patent_view(uow.session, application, patent, today=park_day(now))


def delete_patent(cmd: DeletePatent, *, uow: UnitOfWork) -> None:
    """Remove a patent from a draft IP-pledge application (the ``edit`` right)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "edit", application)
    patent = uow.session.get(Patent, cmd.patent_id)
    if patent is None or patent.application_id != application.id:
        raise NotFound(_("There is no patent {id}.", id=cmd.patent_id), code="not-found")
    _draft(application)
    uow.session.delete(patent)
    record(
        uow,
        application,
        "remove_patent",
        from_status=application.status,
        actor=cmd.actor,
        at=utcnow(),
        number=patent.number,
    )


# Valuation and pledge -------------------------------------------------------------------------


def _check_appraiser(uow: UnitOfWork, org_id: str | None) -> None:
    if org_id is None:
        return
    row = organisations(uow.session, directory, [org_id]).get(org_id)
    if row is None or row.get("kind") not in APPRAISER_KINDS or row.get("status") != "active":
        raise RuleViolation(
            _("{id} is not an IP appraisal firm of the park's directory.", id=org_id),
            code="rule/appraiser",
            field="appraiser_org_id",
        )


def record_valuation(cmd: RecordValuation, *, uow: UnitOfWork) -> dict[str, Any]:
    """The patents' appraised value (the ``record_valuation`` right: the desk, or the accepted
    partner), with the loan-to-value ratio of the application's amount; under ``If-Match``. 409
    ``rule/not-ip-pledge``, ``rule/valuation-state``; 422 ``rule/amount-*``,
    ``rule/valuation-positive``, ``rule/appraiser``."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "record_valuation", application)
    check_version(application.version, cmd.expected_versions)
    _ip_pledge(application)
    if application.status == "draft" or application.status in ENDED:
        raise Conflict(
            _("A valuation is recorded for a submitted application that has not ended."),
            code="rule/valuation-state",
        )
    amount = parse_amount(cmd.amount, where="amount")
    ratio = ip_pledge.loan_to_value(application.amount, amount)
    _check_appraiser(uow, cmd.appraiser_org_id)
    now = utcnow()
    previous = application.valuation_amount
    application.valuation_amount = amount
    application.valuation_by = cmd.appraiser_org_id or cmd.actor.org_id or None
    application.loan_to_value = ratio
    application.updated_at = now
    record(
        uow,
        application,
        "record_valuation",
        from_status=application.status,
        actor=cmd.actor,
        at=now,
        amount=f"{amount:.2f}",
        previous=f"{previous:.2f}" if previous is not None else None,
        loan_to_value=f"{ratio:.2f}",
    )
    uow.session.flush()
    return valuation_view(application)


def record_pledge(cmd: RecordPledge, *, uow: UnitOfWork) -> dict[str, Any]:
    """The pledge's registration (the ``record_pledge`` right: the accepted partner or staff),
    after acceptance; under ``If-Match``. 409 ``rule/not-ip-pledge``, ``rule/pledge-state``
    (not accepted yet, or ended), ``rule/pledge-released``; 422 ``rule/pledge-date`` (in the
    future)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "record_pledge", application)
    check_version(application.version, cmd.expected_versions)
    _ip_pledge(application)
    if application.status not in AFTER_ACCEPTANCE:
        raise Conflict(
            _("A pledge is registered after an offer was accepted, before the application closes."),
            code="rule/pledge-state",
        )
    if application.pledge_released_on is not None:
        raise Conflict(_("The pledge was released already."), code="rule/pledge-released")
    now = utcnow()
    if cmd.registered_on > park_day(now):
        raise RuleViolation(
            _("A pledge's registration date is not in the future."), code="rule/pledge-date", field="registered_on"
        )
    number = cmd.number.strip()
    application.pledge_number = number
    application.pledge_registered_on = cmd.registered_on
    application.updated_at = now
    record(
        uow,
        application,
        "record_pledge",
        from_status=application.status,
        actor=cmd.actor,
        at=now,
        number=number,
        registered_on=cmd.registered_on.isoformat(),
    )
    uow.session.flush()
    return valuation_view(application)


def release_pledge(uow: UnitOfWork, application: Application, at: datetime, *, actor: Principal | None = None) -> bool:
    """Release the application's registered pledge on ``at``'s park day (closing calls it, in its
    unit of work); one audit line. False, and nothing written, when no pledge is registered or
    it was released already."""
    if application.pledge_number is None or application.pledge_released_on is not None:
        return False
    application.pledge_released_on = park_day(at)
    application.updated_at = at
    record(
        uow,
        application,
        "release_pledge",
        from_status=application.status,
        actor=actor or SYSTEM,
        at=at,
        number=application.pledge_number,
    )
    return True
