"""An IP-pledge application's valuation requests as their readers see them: the latest one on the
application (``valuation``), with what the desk may do about it (``actions``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.finance.models import Application, ValuationRequest
from services.finance.permissions import RIGHTS
from shared.i18n import Text, _, label, register_labels
from shared.principal import Principal

REQUESTABLE = ("submitted", "pre_review", "routed")
"""States in which the desk asks for a valuation (handlers/valuations.py keeps the rule)."""
OPEN_REQUEST = ("requested", "opened")
VALUATION_STATUS = "finance-valuation-status"
VALUATION_FAILURE = "finance-valuation-failure"
register_labels(
    VALUATION_STATUS,
    {
        "requested": _("Valuation requested"),
        "opened": _("Being valued"),
        "valued": _("Valued"),
        "failed": _("Valuation failed"),
        "no_answer": _("No answer from consulting"),
    },
)
register_labels(
    VALUATION_FAILURE,
    {
        "cancelled": _("The valuation case was cancelled"),
        "declined_by_all": _("Every appraisal firm declined the valuation"),
    },
)


def latest_requests(session: Session, application_ids: Iterable[str]) -> dict[str, ValuationRequest]:
    """The latest valuation request of each of ``application_ids`` that has one, in one query."""
    ids = list(set(application_ids))
    if not ids:
        return {}
    latest: dict[str, ValuationRequest] = {}
    rows = session.scalars(
        select(ValuationRequest)
        .where(ValuationRequest.application_id.in_(ids))
        .order_by(ValuationRequest.requested_at, ValuationRequest.id)
    )
    for row in rows:
        latest[row.application_id] = row
    return latest


def valuation_actions(actor: Principal, application: Application, request: ValuationRequest | None) -> list[str]:
    """What ``actor`` may do about the valuation now: ``request_valuation`` (a new request: none
    open, the application in a state that takes one) and ``record_valuation`` (by hand)."""
    if application.product_kind != "ip_pledge_loan":
        return []
    actions = []
    waiting = request is not None and request.status in OPEN_REQUEST
    if application.status in REQUESTABLE and not waiting and RIGHTS.allows(actor, "request_valuation", application):
        actions.append("request_valuation")
    if application.status not in ("draft", "closed", "withdrawn") and RIGHTS.allows(
        actor, "record_valuation", application
    ):
        actions.append("record_valuation")
    return actions


def failure_of(request: ValuationRequest) -> tuple[str | None, str | None]:
    """A failed request's failure code and reason (handlers/valuations.py writes ``code: reason``)."""
    if request.status != "failed" or not request.reason:
        return None, None
    code, _sep, reason = request.reason.partition(": ")
    return code, reason or None


def valuation_view(
    actor: Principal, application: Application, request: ValuationRequest | None
) -> dict[str, Any] | None:
    """The application's latest valuation request (None: none was made), for the detail."""
    if application.product_kind != "ip_pledge_loan":
        return None
    actions = valuation_actions(actor, application, request)
    if request is None:
        return {"status": None, "actions": actions} if actions else None
    failure, reason = failure_of(request)
    failure_label: Text | None = label(VALUATION_FAILURE, failure) if failure else None
    return {
        "request_id": request.id,
        "status": request.status,
        "status_label": label(VALUATION_STATUS, request.status),
        "case_id": request.case_id,
        "case_number": request.case_number,
        "appraiser_org_id": request.appraiser_org_id,
        "amount": request.amount,
        "currency": request.currency,
        "report_name": request.report_name,
        "report_attachment_id": request.report_attachment_id,
        "failure": failure,
        "failure_label": failure_label,
        "reason": reason,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at,
        "answered_at": request.answered_at,
        "actions": actions,
    }
