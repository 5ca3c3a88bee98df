"""Valuations asked of consulting: the desk's request (a :class:`ValuationRequest` row and
``finance.ip_valuation.requested``), consulting's answers (``consulting.valuation.*``), and the
worker's job that marks a request nobody answered. Nothing here commits.

Decisions (docs/FINANCE.md, "Valuations"):
- a valuation is requested by the desk (the ``request_valuation`` right) for an IP-pledge
  application listing patents, before an offer is accepted: ``submitted``, ``pre_review`` or
  ``routed`` (:data:`REQUESTABLE`); one open request (``requested`` or ``opened``) per application
  (409 ``rule/valuation-open``); a failed or unanswered one is followed by a new request;
- the request's id is the ``request_id`` consulting answers to, its correlation id the request's;
- ``consulting.valuation.opened`` → ``opened`` (the case's number); ``completed`` → ``valued``:
  the application records the amount, the appraisal firm and the loan-to-value ratio, and an
  application in ``pre_review`` moves on: it is routed to every provider of its product (the
  system routes, as the desk would); ``failed`` → ``failed`` with the reason, for the desk to ask
  again or record a valuation by hand (``PUT /applications/{id}/valuation``);
- answers are taken once: an answer to a request answered already (``valued``, ``failed``)
  changes nothing; one to a request the job gave up on (``no_answer``) is taken after all while
  no newer request of the application is open or valued; once the desk asked again (a newer
  request open, or valued already), it only records the case's number on the old request
  (:func:`_superseded`): a late answer never replaces a newer request's valuation;
- :func:`unanswered_valuations`: a request still ``requested`` after ``minutes`` becomes
  ``no_answer``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.finance.commands.documents import RequestValuation
from services.finance.handlers.common import SYSTEM, load_application, new_id, record, utc_text
from services.finance.handlers.documents import _check_appraiser, _ip_pledge
from services.finance.handlers.transitions import transition
from services.finance.models import Application, ProductProvider, Review, ValuationRequest
from services.finance.permissions import RIGHTS
from services.finance.queries.documents import listed_patents, valuation_view
from services.finance.queries.valuations import OPEN_REQUEST, REQUESTABLE
from services.finance.rules import ip_pledge
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, RuleViolation, check_version
from shared.events.envelope import Event
from shared.i18n import _

DEFAULT_ANSWER_MINUTES = 30
"""How long consulting has to open a case before a request is ``no_answer``."""


def open_request(uow: UnitOfWork, application_id: str) -> ValuationRequest | None:
    return uow.session.scalars(
        select(ValuationRequest).where(
            ValuationRequest.application_id == application_id, ValuationRequest.status.in_(OPEN_REQUEST)
        )
    ).first()


def request_valuation(cmd: RequestValuation, *, uow: UnitOfWork) -> dict[str, Any]:
    """The desk asks an appraisal firm to value the patents (the ``request_valuation`` right):
    a request ``requested`` and ``finance.ip_valuation.requested`` naming it. 409
    ``rule/not-ip-pledge``, ``rule/valuation-state`` (not submitted, or an offer accepted, or
    ended), ``rule/valuation-open`` (a request waits for its answer); 422 ``rule/patent-none``,
    ``rule/appraiser`` (not an IP agency of the directory)."""
    application = load_application(uow, cmd.actor, cmd.application_id, for_update=True)
    RIGHTS.require(cmd.actor, "request_valuation", application)
    check_version(application.version, cmd.expected_versions)
    _ip_pledge(application)
    if application.status not in REQUESTABLE:
        raise Conflict(
            _("A valuation is requested for a submitted application before an offer is accepted."),
            code="rule/valuation-state",
        )
    waiting = open_request(uow, application.id)
    if waiting is not None:
        raise Conflict(
            _("A valuation was requested already and waits for its answer."),
            code="rule/valuation-open",
            request_id=waiting.id,
        )
    patents = listed_patents(uow.session, application)
    if not patents:
        raise RuleViolation(_("An IP-pledge loan lists at least one patent."), code="rule/patent-none")
    _check_appraiser(uow, cmd.appraiser_org_id)
    now = utcnow()
    request = ValuationRequest(
        id=new_id(),
        application_id=application.id,
        status="requested",
        appraiser_org_id=cmd.appraiser_org_id,
        correlation_id=uow.context.get("correlationid"),
        requested_by=cmd.actor.subject,
        requested_at=now,
    )
    uow.session.add(request)
    numbers = [p.number for p in patents]
    record(
        uow,
        application,
        "request_valuation",
        from_status=application.status,
        actor=cmd.actor,
        at=now,
        appraiser_org_id=cmd.appraiser_org_id,
        patent_numbers=numbers,
        request_id=request.id,
    )
    application.updated_at = now
    uow.session.flush()
    uow.publish(
        "finance.ip_valuation.requested",
        {
            "application_id": application.id,
            "request_id": request.id,
            "application_number": application.number,
            "org_id": application.org_id,
            "patent_numbers": numbers,
            "appraiser_org_id": cmd.appraiser_org_id,
            "requested_by": cmd.actor.subject,
            "requested_at": utc_text(now),
        },
        subject=f"applications/{application.id}",
        orgid=application.org_id,
    )
    return valuation_view(application)


# Consulting's answers -------------------------------------------------------------------------


def _request_of(uow: UnitOfWork, event: Event) -> ValuationRequest | None:
    """The request ``event`` answers, locked; None when finance never made it (ignored)."""
    return uow.session.get(ValuationRequest, str(event.data["request_id"]), with_for_update=True)


def _case(request: ValuationRequest, data: dict[str, Any]) -> None:
    request.case_id = str(data["case_id"])
    request.case_number = data["case_number"]
    if data.get("appraiser_org_id"):
        request.appraiser_org_id = data["appraiser_org_id"]


def _superseded(uow: UnitOfWork, request: ValuationRequest) -> bool:
    """A request the job gave up on (``no_answer``) after which the desk asked again: a newer
    request of the application is open, or was valued already, so a late answer to this one must
    not act (it would take the newer request's place, or replace its valuation)."""
    if request.status != "no_answer":
        return False
    if open_request(uow, request.application_id) is not None:  # necessarily newer: one is open at a time
        return True
    valued_since = uow.session.scalars(
        select(ValuationRequest.id).where(
            ValuationRequest.application_id == request.application_id,
            ValuationRequest.status == "valued",
            ValuationRequest.requested_at > request.requested_at,
        )
    ).first()
    return valued_since is not None


def on_valuation_opened(event: Event, *, uow: UnitOfWork) -> None:
    """``consulting.valuation.opened``: the request is ``opened`` (its case's number); a request
    the job gave up on (``no_answer``) is opened after all, unless the desk asked again meanwhile
    (one open request per application; a newer one valued stays the application's)."""
    request = _request_of(uow, event)
    if request is None:
        return
    _case(request, event.data)
    if request.status in ("requested", "no_answer") and not _superseded(uow, request):
        request.status = "opened"
    uow.session.flush()


def _final_answer_to(uow: UnitOfWork, event: Event) -> ValuationRequest | None:
    """The request a ``completed`` or ``failed`` answers, when it may still take it: None for an
    unknown request, one answered already (once only), or one given up on while a newer request
    is open or valued (then only the case's number is recorded on it)."""
    request = _request_of(uow, event)
    if request is None or request.status in ("valued", "failed"):
        return None
    if _superseded(uow, request):
        _case(request, event.data)
        uow.session.flush()
        return None
    return request


def on_valuation_completed(event: Event, *, uow: UnitOfWork) -> None:
    """``consulting.valuation.completed``: the request is ``valued``; the application records the
    valuation (amount, appraisal firm, loan-to-value) and, in ``pre_review``, is routed to its
    product's providers. Once: a request valued or failed already changes nothing; a request given
    up on while a newer one is open or valued records the case's number only."""
    request = _final_answer_to(uow, event)
    if request is None:
        return
    data = event.data
    now = utcnow()
    _case(request, data)
    amount = Decimal(str(data["amount"]))
    request.status = "valued"
    request.amount = amount
    request.currency = data["currency"]
    request.report_name = data["report_name"]
    request.report_attachment_id = str(data["report_attachment_id"])
    request.answered_at = now
    application = uow.session.get(Application, request.application_id, with_for_update=True)
    assert application is not None  # a foreign key
    if application.status in ("draft", "closed", "withdrawn"):
        uow.session.flush()
        return
    previous = application.valuation_amount
    application.valuation_amount = amount
    application.valuation_by = request.appraiser_org_id
    application.loan_to_value = ip_pledge.loan_to_value(application.amount, amount)
    application.updated_at = now
    record(
        uow,
        application,
        "record_valuation",
        from_status=application.status,
        actor=SYSTEM,
        at=now,
        amount=f"{amount:.2f}",
        previous=f"{previous:.2f}" if previous is not None else None,
        loan_to_value=f"{application.loan_to_value:.2f}",
        request_id=request.id,
        case_number=request.case_number,
    )
    uow.session.flush()
    if application.status == "pre_review":
        _route_to_providers(uow, application, now)


def _route_to_providers(uow: UnitOfWork, application: Application, now: datetime) -> None:
    """Route a valued application in pre-review to every provider of its product, as the desk's
    ``route`` would (nothing when the product has none: the desk routes it)."""
    providers = list(
        uow.session.scalars(
            select(ProductProvider.partner_org_id)
            .where(ProductProvider.product_id == application.product_id)
            .order_by(ProductProvider.partner_org_id)
        )
    )
    added = [p for p in providers if p not in set(application.partner_org_ids)]
    if not added:
        return
    for partner in added:
        application.reviews.append(
            Review(
                id=new_id(),
                application_id=application.id,
                partner_org_id=partner,
                status="routed",
                routed_by=SYSTEM.subject,
                routed_at=now,
                updated_at=now,
            )
        )
    transition(
        uow,
        application,
        "route",
        actor=SYSTEM,
        at=now,
        details={"added_partner_org_ids": added, "after": "valuation"},
        event_extra={"added_partner_org_ids": added},
    )


def on_valuation_failed(event: Event, *, uow: UnitOfWork) -> None:
    """``consulting.valuation.failed``: the request is ``failed`` with the reason (the case was
    cancelled, or every appraisal firm declined it); the desk asks again or records by hand. A
    request given up on while a newer one is open or valued records the case's number only."""
    request = _final_answer_to(uow, event)
    if request is None:
        return
    data = event.data
    now = utcnow()
    _case(request, data)
    request.status = "failed"
    request.reason = failure_text(data["failure"], data.get("reason"))
    request.answered_at = now
    uow.session.flush()


def failure_text(failure: str, reason: str | None) -> str:
    """What a failed request keeps: the failure's code (``VALUATION_FAILURES``), then the reason."""
    return f"{failure}: {reason.strip()}" if reason and reason.strip() else failure


# The worker's job -----------------------------------------------------------------------------


def unanswered_valuations(minutes: float = DEFAULT_ANSWER_MINUTES) -> Callable[..., int]:
    """The job: requests still ``requested`` ``minutes`` after they were made become ``no_answer``
    (consulting opened no case); returns how many. Idempotent."""

    def unanswered_valuations(*, uow: UnitOfWork, now: datetime | None = None) -> int:
        moment = now or utcnow()
        rows = list(
            uow.session.scalars(
                select(ValuationRequest)
                .where(
                    ValuationRequest.status == "requested",
                    ValuationRequest.requested_at <= moment - timedelta(minutes=minutes),
                )
                .order_by(ValuationRequest.requested_at)
                .limit(100)
                .with_for_update(skip_locked=True)
            )
        )
        for request in rows:
            request.status = "no_answer"
            request.answered_at = moment
        uow.session.flush()
        return len(rows)

    return unanswered_valuations
