"""Each partner's review of an application routed to it (rules/lifecycle.py's review machine):
the partner starts it, asks the tenant for documents or answers (the review pauses, remembering
where it was), declines with a reason code; the tenant answers a request (the review resumes
where it was). Offers are :mod:`.offers`'.

Every step is taken under ``If-Match`` on the review's version, writes one audit line (subject
``review``) and publishes the step's event (``REVIEW_EVENT_OF_ACTION``: ``info_requested``,
``info_provided``, ``declined``); the application itself does not move, so the event's
``previous_status`` is its status now. A decline keeps an immutable decision record. Nothing
here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.finance.commands.reviews import ActOnReview
from services.finance.handlers.common import load_application, record, record_decision, utc_text
from services.finance.handlers.transitions import publish_application
from services.finance.models import Application, ApplicationTransition, Document, Review
from services.finance.permissions import RIGHTS
from services.finance.queries.reviews import review_answer
from services.finance.rules.lifecycle import (
    REVIEW_EVENT_OF_ACTION,
    check_decline,
    check_reason,
    next_review_status,
)
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, RuleViolation, check_version
from shared.i18n import _
from shared.principal import Principal

PARTNER_STEPS = frozenset({"start_review", "request_info", "decline", "make_offer", "approve"})
"""Steps only the review's own partner takes (the rights' row says "a routed partner"; which
review is the partner's is this module's check)."""

REASON_LIMIT = 2000
"""The events' ``reason`` is at most this long (shared/events/finance.py)."""


def check_in_review(application: Application) -> None:
    """Partners review an application only while it is ``routed`` (after acceptance, withdrawal
    or the desk's no, their reviews are over): 409 ``rule/application-not-in-review``."""
    if application.status != "routed":
        raise Conflict(
            _("Partners review an application only while it is routed to them; this one is no longer."),
            code="rule/application-not-in-review",
            application_status=application.status,
        )


def find_review(application: Application, actor: Principal, partner_org_id: str | None) -> Review:
    """The review of ``partner_org_id`` on ``application``. A partner sees only its own review:
    another partner's is a 404 for it, as one that does not exist. Without a partner (the short
    paths ``/applications/{id}/request-info|provide-info``): a partner's own review; for anyone
    else the one review waiting on the tenant's answer (409 ``rule/no-info-request`` when none
    does, 422 ``rule/partner-required`` naming them when several do)."""
    if partner_org_id is None:
        if actor.is_partner:
            partner_org_id = actor.org_id
        else:
            asking = [r.partner_org_id for r in application.reviews if r.status == "info_requested"]
            if not asking:
                raise Conflict(
                    _("No partner is waiting for information on this application."), code="rule/no-info-request"
                )
            if len(asking) > 1:
                raise RuleViolation(
                    _("Several partners asked for information: answer each at its review's own path."),
                    code="rule/partner-required",
                    partner_org_ids=asking,
                )
            partner_org_id = asking[0]
    for review in application.reviews:
        if review.partner_org_id == partner_org_id and not (actor.is_partner and actor.org_id != partner_org_id):
            return review
    raise NotFound(_("The application has no review by partner {partner}.", partner=partner_org_id), code="not-found")


def review_line(
    uow: UnitOfWork,
    application: Application,
    review: Review,
    action: str,
    *,
    from_status: str,
    actor: Principal,
    at: datetime,
    reason: str | None = None,
    **details: Any,
) -> None:
    """One audit line: ``action`` moved ``review`` from ``from_status`` to its status now."""
    record(
        uow,
        application,
        action,
        subject="review",
        from_status=from_status,
        to_status=review.status,
        actor=actor,
        at=at,
        partner_org_id=review.partner_org_id,
        reason=reason,
        **details,
    )


def move_review(review: Review, action: str, at: datetime) -> str:
    """Move ``review`` by ``action`` (409 ``rule/state-transition`` if its state does not allow
    it); returns the state it was in."""
    before = review.status
    review.status = next_review_status(before, action)
    review.updated_at = at
    return before


def act_on_review(cmd: ActOnReview, *, uow: UnitOfWork) -> dict[str, Any]:
    """Take one step of partner ``cmd.partner_org_id``'s review of the application; returns the
    review as the API shows it. 404 for an application the actor may not see, or a review that
    is not theirs to see; 403 by the rights' row (a partner's step by the tenant, a tenant's by
    a partner, another partner's review); 409 ``rule/application-not-in-review`` or
    ``rule/state-transition``; 412 on a stale ``If-Match``; 422 for a request that says nothing
    (``rule/reason-required``), a decline without its code (``rule/decline-reason``), an answer
    missing what was asked (``rule/info-incomplete``)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, cmd.action, application)
    review = find_review(application, cmd.actor, cmd.partner_org_id)
    check_in_review(application)
    next_review_status(review.status, cmd.action)  # the state first: a 409 whatever If-Match says
    check_version(review.version, cmd.expected_versions)
    now = cmd.at or utcnow()
    note = cmd.note.strip() if cmd.note and cmd.note.strip() else None
    if cmd.action == "request_info":
        _request_info(uow, application, review, cmd, note=note, at=now)
    elif cmd.action == "provide_info":
        _provide_info(uow, application, review, cmd, note=note, at=now)
    elif cmd.action == "decline":
        _decline(uow, application, review, cmd, note=note, at=now)
    elif cmd.action == "start_review":
        before = move_review(review, "start_review", now)
        uow.session.flush()
        review_line(uow, application, review, "start_review", from_status=before, actor=cmd.actor, at=now)
    else:
        raise ValueError(f"not a review step: {cmd.action!r}")
    uow.session.flush()
    return review_answer(uow.session, cmd.actor, application, review)


def _request_info(
    uow: UnitOfWork, application: Application, review: Review, cmd: ActOnReview, *, note: str | None, at: datetime
) -> None:
    asked = [*cmd.document_types, *cmd.questions]
    check_reason("request_info", "\n".join(asked))
    before = move_review(review, "request_info", at)
    review.resume_status = before
    review.requested = {
        "document_types": list(dict.fromkeys(cmd.document_types)),
        "questions": list(cmd.questions),
        "note": note,
        "requested_by": cmd.actor.subject,
        "requested_at": utc_text(at),
        "answers": None,
        "answer_note": None,
        "answered_at": None,
        "document_ids": [],
    }
    uow.session.flush()
    summary = _summary(cmd.questions, note)
    review_line(
        uow,
        application,
        review,
        "request_info",
        from_status=before,
        actor=cmd.actor,
        at=at,
        reason=summary,
        document_types=list(cmd.document_types),
        questions=list(cmd.questions),
    )
    _publish(uow, application, review, "request_info", at, reason=summary, document_types=list(cmd.document_types))


def _provide_info(
    uow: UnitOfWork, application: Application, review: Review, cmd: ActOnReview, *, note: str | None, at: datetime
) -> None:
    requested = dict(review.requested or {})
    asked_at = _asked_at(uow, review)
    documents = list(
        uow.session.scalars(
            select(Document)
            .where(Document.application_id == application.id, Document.uploaded_at >= asked_at)
            .order_by(Document.uploaded_at, Document.id)
        )
    )
    missing = [t for t in requested.get("document_types") or () if t not in {d.doc_type for d in documents}]
    answers = [a.strip() for a in cmd.answers if a and a.strip()]
    unanswered = bool(requested.get("questions")) and not answers
    if missing or unanswered:
        raise RuleViolation(
            _(
                "Answer the partner's request in full: upload the documents asked for ({documents}) and answer "
                "its questions.",
                documents=", ".join(missing) or "-",
            ),
            code="rule/info-incomplete",
            missing_document_types=missing,
            answers_missing=unanswered,
        )
    before = review.status
    # The request paused the review: it resumes in the state it was in, not a fixed one.
    review.status = review.resume_status or next_review_status(before, "provide_info")
    review.resume_status = None
    review.updated_at = at
    for document in documents:
        if document.review_id is None:
            document.review_id = review.id
    review.requested = {
        **requested,
        "answers": answers,
        "answer_note": note,
        "answered_at": utc_text(at),
        "document_ids": [d.id for d in documents],
    }
    uow.session.flush()
    provided = list(dict.fromkeys(d.doc_type for d in documents))
    review_line(
        uow,
        application,
        review,
        "provide_info",
        from_status=before,
        actor=cmd.actor,
        at=at,
        reason=note,
        answers=answers,
        document_ids=[d.id for d in documents],
    )
    _publish(uow, application, review, "provide_info", at, reason=_summary(answers, note), document_types=provided)


def _decline(
    uow: UnitOfWork, application: Application, review: Review, cmd: ActOnReview, *, note: str | None, at: datetime
) -> None:
    code = check_decline(cmd.reason_code, note)
    before = move_review(review, "decline", at)
    review.decline_reason = code
    review.reason = note
    review.resume_status = None
    uow.session.flush()
    review_line(
        uow, application, review, "decline", from_status=before, actor=cmd.actor, at=at, reason=note, reason_code=code
    )
    record_decision(
        uow,
        application,
        "declined",
        actor=cmd.actor,
        at=at,
        basis={"partner_org_id": review.partner_org_id, "reason_code": code, "reason": note},
    )
    _publish(uow, application, review, "decline", at, reason=note, reason_code=code)


def _asked_at(uow: UnitOfWork, review: Review) -> datetime:
    """When the open request was made: its audit line (the review's ``requested`` keeps it as
    text; the line keeps it as the store's time, comparable with the documents')."""
    at = uow.session.scalar(
        select(ApplicationTransition.at)
        .where(
            ApplicationTransition.application_id == review.application_id,
            ApplicationTransition.subject == "review",
            ApplicationTransition.partner_org_id == review.partner_org_id,
            ApplicationTransition.action == "request_info",
        )
        .order_by(ApplicationTransition.id.desc())
        .limit(1)
    )
    return at if at is not None else review.updated_at


def _summary(lines: tuple[str, ...] | list[str], note: str | None) -> str | None:
    """What an event's ``reason`` says of a request or an answer: the note, then the lines."""
    text = "\n".join(part for part in (note, *lines) if part)
    return text[:REASON_LIMIT] or None


def _publish(
    uow: UnitOfWork, application: Application, review: Review, action: str, at: datetime, **extra: Any
) -> None:
    event = REVIEW_EVENT_OF_ACTION[action]
    if event is None:
        return
    reason = extra.pop("reason", None)
    # A review's step moves no state of the application: the status before it is its status now.
    publish_application(
        uow,
        application,
        event,
        previous_status=application.status,
        at=at,
        partner_org_id=review.partner_org_id,
        reason=reason,
        **extra,
    )
