"""Valuation cases: consulting's side of finance's IP valuation (``finance.ip_valuation.requested``).
Nothing here commits.

Decisions (docs/CONSULTING.md, "Valuations"):
- a request opens one case on the tenant's behalf (``origin`` finance, ``origin_ref`` the request
  id: the same request twice gives one case) in the catalogue's IP valuation item
  (:data:`VALUATION_ITEM`), submitted by the system, triaged at once and routed by the category's
  rule (or handed to the appraisal firm finance named, when it serves the category);
  ``consulting.case.submitted`` and ``consulting.valuation.opened`` are published;
- the firm assigned records the valuation (``POST /cases/{id}/valuation``: amount, CNY, a report
  attached to one of the case's messages) while the case is accepted or in progress; a solution is
  proposed on a valuation case only once it is recorded (409 ``rule/valuation-missing``);
- the case's close (the tenant accepts the solution, or the automatic close) publishes
  ``consulting.valuation.completed``; its cancellation ``consulting.valuation.failed``
  (``cancelled``); a decline that leaves no serving firm that has not declined cancels the case
  as the system, and publishes ``failed`` (``declined_by_all``, no reason: the failure says it);
  the case keeps the code :data:`~services.consulting.rules.names.DECLINED_BY_ALL` as its reason
  (no English text), shown to each reader in their language. A case closes or is cancelled once,
  so each is published once. The cancel releases the rooms of the case's meetings
  (:func:`..transitions.transition`), whoever cancels.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from services.consulting.commands.valuations import RecordCaseValuation
from services.consulting.handlers import sla
from services.consulting.handlers.common import SYSTEM, load_case, new_id, record, utc_text
from services.consulting.handlers.routing import assign_by_system, eligible_firms, route_case
from services.consulting.handlers.transitions import publish_case, transition
from services.consulting.models import Attachment, Case, CaseCounter, ServiceItem
from services.consulting.permissions import RIGHTS
from services.consulting.rules.names import DECLINED_BY_ALL
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, RuleViolation, check_version
from shared.events.envelope import Event
from shared.i18n import _
from shared.yearly_numbers import next_yearly_number

ORIGIN = "finance"
VALUATION_ITEM = "ip_valuation"
"""The catalogue item a valuation case is opened in (seed.py: in the IP category)."""
RECORDABLE = ("accepted", "in_progress")
MAX_AMOUNT = Decimal("999999999999.99")


def _valuation_payload(case: Case, request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "application_id": case.origin_subject,
        "org_id": case.org_id,
        "case_id": case.id,
        "case_number": case.number,
        "appraiser_org_id": case.firm_org_id,
    }


def _publish(uow: UnitOfWork, case: Case, event: str, **extra: Any) -> None:
    """Publish a step of the valuation saga under its correlation id (finance's request's), whoever
    closes or cancels the case."""
    data = {**_valuation_payload(case, str(case.origin_ref)), **extra}
    with uow.correlated(case.correlation_id):
        uow.publish(event, data, subject=f"cases/{case.id}", orgid=case.org_id)


def on_ip_valuation_requested(event: Event, *, uow: UnitOfWork) -> None:
    """Open the valuation case of finance's request (once per ``request_id``). A request without
    an id (an older finance) or a catalogue without the valuation item opens nothing: finance
    marks the request unanswered in time."""
    data = event.data
    request_id = data.get("request_id")
    if not request_id:
        return
    request_id = str(request_id)
    existing = uow.session.scalars(select(Case).where(Case.origin == ORIGIN, Case.origin_ref == request_id)).first()
    if existing is not None:
        return
    item = uow.session.scalars(select(ServiceItem).where(ServiceItem.code == VALUATION_ITEM)).first()
    if item is None or not item.active:
        return
    now = utcnow()
    number = data.get("application_number") or str(data["application_id"])
    patents = list(data["patent_numbers"])
    case = Case(
        id=new_id(),
        number=next_yearly_number(uow.session, CaseCounter, "C", now),
        org_id=data["org_id"],
        submitted_by=SYSTEM.subject,
        submitted_by_name=SYSTEM.name,
        category_code=item.category_code,
        item_id=item.id,
        subject=f"IP valuation for financing application {number}"[:200],
        description=(
            f"Finance asks for a valuation of the patents pledged by IP-pledge application {number}: "
            f"{', '.join(patents)}. Record the amount and attach the appraisal report before proposing the solution."
        ),
        answers={"application_number": number, "patent_numbers": patents},
        quote_required=False,
        priority="normal",
        status="submitted",
        firm_org_id=None,
        declined_by=[],
        submitted_at=now,
        updated_at=now,
        origin=ORIGIN,
        origin_ref=request_id,
        origin_subject=str(data["application_id"]),
        correlation_id=uow.context.get("correlationid"),
    )
    uow.session.add(case)
    uow.session.flush()
    record(uow, case, "submit", from_status=None, actor=SYSTEM, at=now, origin=ORIGIN, request_id=request_id)
    uow.session.flush()
    sla.on_submitted(uow, case, item, now)
    publish_case(uow, case, "consulting.case.submitted", previous_status=None, at=now, reason=None)
    transition(uow, case, "triage", actor=SYSTEM, at=now)
    firm = data.get("appraiser_org_id")
    if firm and firm in eligible_firms(uow, case):
        assign_by_system(uow, case, firm, at=now, asked_by=ORIGIN)
    else:
        route_case(uow, case, now=now)
    _publish(uow, case, "consulting.valuation.opened")


def after_transition(uow: UnitOfWork, case: Case, action: str, *, at: datetime) -> None:
    """Called by :func:`..transitions.transition` for a case of finance's: refuse a solution
    without the valuation; tell finance of the close (completed) or the cancellation (failed);
    cancel a case every serving firm declined."""
    if action == "propose_solution" and (case.valuation_amount is None or case.valuation_report_id is None):
        raise Conflict(
            _("Record the valuation (amount and report) before proposing the solution."),
            code="rule/valuation-missing",
        )
    if action in ("accept_solution", "auto_close"):
        report = uow.session.get(Attachment, case.valuation_report_id) if case.valuation_report_id else None
        _publish(
            uow,
            case,
            "consulting.valuation.completed",
            amount=f"{case.valuation_amount:.2f}",
            currency=case.valuation_currency or "CNY",
            report_name=report.filename if report is not None else "report",
            report_attachment_id=case.valuation_report_id,
        )
    elif action == "cancel":
        declined_by_all = bool(case.declined_by) and not eligible_firms(uow, case)
        _publish(
            uow,
            case,
            "consulting.valuation.failed",
            failure="declined_by_all" if declined_by_all else "cancelled",
            reason=None if case.reason == DECLINED_BY_ALL else case.reason,
        )
    elif action == "decline" and not eligible_firms(uow, case):
        transition(
            uow,
            case,
            "cancel",
            actor=SYSTEM,
            at=at,
            changes={"reason": DECLINED_BY_ALL},
            details={"declined_by": list(case.declined_by or [])},
        )


def _amount(text: str) -> Decimal:
    try:
        amount = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise RuleViolation(
            _("A valuation is an amount of more than zero yuan, with at most two decimal places."),
            code="rule/valuation-amount",
            field="amount",
        )
    return amount


def record_case_valuation(cmd: RecordCaseValuation, *, uow: UnitOfWork) -> dict[str, Any]:
    """The assigned firm records the valuation of a valuation case (the ``record_valuation``
    right), while it is accepted or in progress; again replaces it. 409 ``rule/not-valuation``,
    ``rule/valuation-state``; 422 ``rule/valuation-amount``, ``rule/valuation-report`` (no
    attachment of this case)."""
    case = load_case(uow, cmd.actor, cmd.case_id, for_update=True)
    RIGHTS.require(cmd.actor, "record_valuation", case)
    check_version(case.version, cmd.expected_versions)
    if case.origin != ORIGIN:
        raise Conflict(_("Only a valuation case records a valuation."), code="rule/not-valuation")
    if case.status not in RECORDABLE:
        raise Conflict(
            _("A valuation is recorded once the case is accepted, before the solution is proposed."),
            code="rule/valuation-state",
        )
    amount = _amount(cmd.amount)
    report = uow.session.get(Attachment, cmd.report_attachment_id)
    if report is None or report.case_id != case.id:
        raise RuleViolation(
            _("Attach the report to a message of this case first, then name that attachment."),
            code="rule/valuation-report",
            field="report_attachment_id",
        )
    now = utcnow()
    case.valuation_amount = amount
    case.valuation_currency = cmd.currency
    case.valuation_report_id = report.id
    case.updated_at = now
    uow.session.flush()
    record(
        uow,
        case,
        "record_valuation",
        from_status=case.status,
        actor=cmd.actor,
        at=now,
        amount=f"{amount:.2f}",
        report_attachment_id=report.id,
    )
    uow.session.flush()
    return valuation_of(case, report)


def valuation_of(case: Case, report: Attachment | None) -> dict[str, Any]:
    """A valuation case's valuation as ``POST /cases/{id}/valuation`` answers it."""
    return {
        "case_id": case.id,
        "case_number": case.number,
        "origin": case.origin,
        "application_id": case.origin_subject,
        "amount": case.valuation_amount,
        "currency": case.valuation_currency,
        "report_attachment_id": case.valuation_report_id,
        "report_name": report.filename if report is not None else None,
        "version": case.version,
        "recorded_at": utc_text(case.updated_at),
    }
