"""Contracts of consulting's events (``consulting.case.*``).

``consulting.case.<verb>`` carries one case as a consumer needs it (notify writing to the tenant
or the firm, finance invoicing an accepted quote, reports): the case's id, the tenant's
organisation and who submitted it, the category (its code and, optional since they were added,
its English and Chinese names) and service item, the firm assigned (null before one is), its
status and priority, times in UTC and, where the change had one, the reason. The subject and
description stay in consulting: a tenant's request may be confidential, and a
consumer that needs more asks consulting's API with its own rights.

Quotes add the quote (``quoted``, ``quote_accepted``): a fee in CNY, a decimal string with two
places. The SLA events (``sla_warning``, ``sla_breached``) add which clock (the tenant's, the
park's promise; or the firm's, its commitment once assigned), which target (first response or
resolution), the target and the time used in business minutes, and when it is or was due. The
worker's breach detection publishes each (case, clock, target, kind) once.

Statuses, priorities, clocks and targets are defined here once: what other services read is what
consulting stores.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.booking import UtcDateTime
from shared.events.contracts import Contract, register

CASE_STATUSES = (
    "submitted",
    "triaged",
    "assigned",
    "accepted",
    "in_progress",
    "waiting_on_tenant",
    "solution_proposed",
    "closed",
    "cancelled",
)
"""Every state of a case (services/consulting/rules/lifecycle.py moves between them). A reopened
case is ``in_progress`` again: reopening is an event, not a state."""
PRIORITIES = ("low", "normal", "high", "urgent")
QUOTE_STATUSES = ("proposed", "accepted", "rejected", "superseded")
SLA_CLOCKS = ("tenant", "firm")
"""The tenant's clock (the park's promise, from submission) and the firm's (from assignment)."""
SLA_TARGETS = ("first_response", "resolution")
CURRENCY = "CNY"


class CaseV1(Schema):
    """One case after the change the event names. Times are UTC."""

    case_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CASE_STATUSES))
    previous_status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CASE_STATUSES))
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    submitted_by = fields.String(required=True, validate=validate.Length(min=1, max=120))
    category = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"description": "the category's code"}
    )
    category_name = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "the category's English name (optional: absent from earlier events)"},
    )
    category_name_zh = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "the category's Chinese name (optional: absent from earlier events)"},
    )
    item_id = fields.UUID(required=True, metadata={"description": "the service item of the catalogue"})
    firm_org_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the firm assigned; null before one is, and after it declined"},
    )
    previous_firm_org_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "declined and assigned only: the firm that held the case before the change "
            "(the firm that declined; the firm replaced by a reassignment; null when none did)"
        },
    )
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    submitted_at = UtcDateTime(required=True)
    changed_at = UtcDateTime(required=True, metadata={"description": "when the change the event names happened"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class CaseClosedV1(CaseV1):
    """A closed case: the tenant accepted the solution, or nobody answered it in time."""

    automatic = fields.Boolean(
        load_default=False, metadata={"description": "closed by the worker, the solution left unanswered"}
    )


class QuoteV1(Schema):
    """A firm's quote on a case."""

    quote_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(QUOTE_STATUSES))
    fee = fields.Decimal(required=True, as_string=True, places=2, validate=validate.Range(min=0, min_inclusive=False))
    currency = fields.String(required=True, validate=validate.OneOf((CURRENCY,)))
    proposed_by = fields.String(required=True, validate=validate.Length(min=1, max=120))
    proposed_at = UtcDateTime(required=True)


class CaseQuotedV1(CaseV1):
    """A case and the quote the change is about (proposed, or accepted by the tenant)."""

    quote = fields.Nested(QuoteV1, required=True)


class CaseSlaV1(CaseV1):
    """A case whose SLA target is near (``sla_warning``) or passed (``sla_breached``)."""

    clock = fields.String(required=True, validate=validate.OneOf(SLA_CLOCKS))
    target = fields.String(required=True, validate=validate.OneOf(SLA_TARGETS))
    target_minutes = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata={"description": "in business minutes"}
    )
    used_minutes = fields.Integer(
        required=True, validate=validate.Range(min=0), metadata={"description": "business minutes used so far"}
    )
    due_at = UtcDateTime(required=True)


def _case(verb: str, description: str, schema: type[Schema] = CaseV1) -> Contract:
    return register(Contract(f"consulting.case.{verb}", 1, schema, description))


CASE_SUBMITTED = _case("submitted", "A tenant submitted a case; it waits for the desk's triage.")
CASE_TRIAGED = _case("triaged", "Desk staff triaged a case; it waits to be assigned to a firm.")
CASE_ASSIGNED = _case(
    "assigned",
    "A case was assigned to a firm (firm_org_id), by the desk or the routing rule; "
    "previous_firm_org_id names the firm it replaced (null when none).",
)
CASE_ACCEPTED = _case("accepted", "The firm assigned accepted a case.")
CASE_DECLINED = _case(
    "declined",
    "The firm assigned declined a case (reason); it is back with the desk, triaged, with no firm "
    "(firm_org_id null, previous_firm_org_id the firm that declined; previous_status assigned).",
)
CASE_QUOTED = _case("quoted", "The firm proposed a fee for a case (quote).", CaseQuotedV1)
CASE_QUOTE_ACCEPTED = _case("quote_accepted", "The tenant accepted a firm's quote (quote).", CaseQuotedV1)
CASE_WAITING = _case("waiting", "A case waits on the tenant (reason: what is asked); the SLA clocks pause.")
CASE_SOLUTION_PROPOSED = _case("solution_proposed", "The firm proposed a solution; the tenant accepts or rejects it.")
CASE_CLOSED = _case(
    "closed",
    "A case closed: the tenant accepted the solution, or did not answer it in time (automatic).",
    CaseClosedV1,
)
CASE_REOPENED = _case("reopened", "The tenant rejected the solution (reason); the case is in progress again.")
CASE_CANCELLED = _case("cancelled", "A case was cancelled before work started (previous_status says where).")
CASE_SLA_WARNING = _case("sla_warning", "An SLA target of a case is near (clock, target).", CaseSlaV1)
CASE_SLA_BREACHED = _case("sla_breached", "An SLA target of a case was missed (clock, target).", CaseSlaV1)


VALUATION_FAILURES = ("cancelled", "declined_by_all")
"""Why a valuation case ended without a valuation: cancelled, or every appraisal firm declined."""


class ValuationV1(Schema):
    """Consulting's answer to ``finance.ip_valuation.requested`` (``request_id``): the case it
    opened, and later the valuation or why there is none."""

    request_id = fields.UUID(required=True)
    application_id = fields.UUID(required=True)
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    case_id = fields.UUID(required=True)
    case_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    appraiser_org_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


class ValuationCompletedV1(ValuationV1):
    amount = fields.Decimal(
        required=True, as_string=True, places=2, validate=validate.Range(min=0, min_inclusive=False)
    )
    currency = fields.String(required=True, validate=validate.OneOf((CURRENCY,)))
    report_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    report_attachment_id = fields.UUID(
        required=True, metadata={"description": "the report, readable by the tenant through consulting's API"}
    )


class ValuationFailedV1(ValuationV1):
    failure = fields.String(required=True, validate=validate.OneOf(VALUATION_FAILURES))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


VALUATION_OPENED = register(
    Contract(
        "consulting.valuation.opened",
        1,
        ValuationV1,
        "Consulting opened a valuation case for finance's request (case_number; the firm once routed).",
    )
)
VALUATION_COMPLETED = register(
    Contract(
        "consulting.valuation.completed",
        1,
        ValuationCompletedV1,
        "The appraisal firm closed a valuation case with an amount and a report.",
    )
)
VALUATION_FAILED = register(
    Contract(
        "consulting.valuation.failed",
        1,
        ValuationFailedV1,
        "A valuation case ended without a valuation: cancelled, or declined by every appraisal firm.",
    )
)
