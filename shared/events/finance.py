"""Contracts of finance's events (``finance.application.*``, ``finance.ip_valuation.requested``).

``finance.application.<verb>`` carries one financing application as a consumer needs it (notify
writing to the tenant or a partner, reports, the integration that passes a valuation to
consulting): the application's id, the tenant's organisation and who applied, the product and its
kind, the amount asked for (a decimal string with two places, and its currency) and the term, its
status and the one before, the partners it is routed to, times in UTC and, where the change had
one, the reason. The company profile and the documents stay in finance: they are the tenant's
confidential data, and a consumer that needs more asks finance's API with its own rights.

The partner events name the partner the change is about (``partner_org_id``): information
requested and provided, an offer made, a declined review (with a reason code of
:data:`DECLINE_REASONS`), an offer accepted or withdrawn. Offers carry their terms (amount, rate,
term, fees, conditions, expiry; a subsidy's approval only its amount). A disbursement carries its
tranche, the total paid so far and the two people of the maker-checker rule.

Statuses, reasons and kinds are defined here once: what other services read is what finance stores.
Money is always a decimal string plus its currency, never a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from shared.events.booking import UtcDateTime
from shared.events.contracts import Contract, register

APPLICATION_STATUSES = (
    "draft",
    "submitted",
    "pre_review",
    "routed",
    "accepted",
    "contract_signed",
    "disbursing",
    "disbursed",
    "closed",
    "withdrawn",
)
"""Every state of an application (services/finance/rules/lifecycle.py moves between them).
``accepted``: the tenant accepted an offer (or, for a subsidy, the bureau approved an amount).
``closed`` ends an application that was paid out, or that the desk turned down (``reason``)."""
REVIEW_STATUSES = ("routed", "under_review", "info_requested", "offer_made", "approved", "declined", "cancelled")
"""Every state of one partner's review of an application. ``approved``: a government bureau
approved a subsidy's amount; ``cancelled``: the application was withdrawn, or another partner's
offer accepted, before this review ended."""
OFFER_STATUSES = ("made", "accepted", "withdrawn", "expired", "invalidated", "declined")
"""Every state of an offer: ``withdrawn`` when the tenant accepted another or the partner took it
back; ``invalidated`` when the tenant edited the application after it was made; ``declined`` by
the tenant."""
OFFER_KINDS = ("offer", "approval")
"""A partner's offer (amount, rate, term, fees, conditions, expiry) or a bureau's approval of a
subsidy (an amount)."""
DECLINE_REASONS = (
    "credit_history",
    "insufficient_revenue",
    "insufficient_collateral",
    "outside_risk_appetite",
    "ineligible",
    "incomplete_information",
    "budget_exhausted",
    "other",
)
"""Why a partner declines an application (``other`` says why in words)."""
PRODUCT_KINDS = ("subsidy", "guaranteed_loan", "guide_fund", "venture_capital", "leasing", "ip_pledge_loan")
FEE_KINDS = ("guarantee", "service", "arrangement")
CURRENCY = "CNY"


class DecimalString(fields.Decimal):
    """A decimal written as a string ("500000.00"), never a JSON number: a float has already lost
    the fen a consumer would add up."""

    default_error_messages = {"not_string": 'A decimal is written as a string, such as "500000.00".'}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("not_string")
        return super()._deserialize(value, attr, data, **kwargs)


def _money(**kwargs: Any) -> DecimalString:
    return DecimalString(as_string=True, places=2, validate=validate.Range(min=0), **kwargs)


_ORG = validate.Length(min=1, max=64)


class ApplicationV1(Schema):
    """One application after the change the event names. Times are UTC."""

    application_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(APPLICATION_STATUSES))
    previous_status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(APPLICATION_STATUSES))
    org_id = fields.String(required=True, validate=_ORG)
    applicant = fields.String(
        required=True, validate=validate.Length(min=1, max=120), metadata={"description": "who drafted it"}
    )
    product_id = fields.UUID(required=True)
    product_kind = fields.String(required=True, validate=validate.OneOf(PRODUCT_KINDS))
    amount = _money(required=True, metadata={"description": "the amount asked for"})
    currency = fields.String(required=True, validate=validate.OneOf((CURRENCY,)))
    term_months = fields.Integer(required=True, validate=validate.Range(min=1, max=360))
    partner_org_ids = fields.List(
        fields.String(validate=_ORG),
        load_default=list,
        metadata={"description": "the partners the application is routed to"},
    )
    partner_org_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=_ORG,
        metadata={"description": "the partner the change is about (partner events); null otherwise"},
    )
    submitted_at = UtcDateTime(load_default=None, allow_none=True)
    changed_at = UtcDateTime(required=True, metadata={"description": "when the change the event names happened"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class FeeV1(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(FEE_KINDS))
    amount = _money(required=True)
    currency = fields.String(required=True, validate=validate.OneOf((CURRENCY,)))


class OfferV1(Schema):
    """A partner's offer, or a bureau's approval of a subsidy (``kind``: rate, term, fees and
    expiry are null for an approval)."""

    offer_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(OFFER_KINDS))
    status = fields.String(required=True, validate=validate.OneOf(OFFER_STATUSES))
    partner_org_id = fields.String(required=True, validate=_ORG)
    amount = _money(required=True)
    currency = fields.String(required=True, validate=validate.OneOf((CURRENCY,)))
    annual_rate = DecimalString(
        as_string=True,
        places=4,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "nominal, percent a year"},
    )
    all_in_rate = DecimalString(
        as_string=True,
        places=2,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0),
        metadata={"description": "the all-in annualised cost (IRR method), percent a year"},
    )
    term_months = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=360))
    fees = fields.List(fields.Nested(FeeV1), load_default=list)
    conditions = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    expires_at = UtcDateTime(load_default=None, allow_none=True)
    made_by = fields.String(required=True, validate=validate.Length(min=1, max=120))
    made_at = UtcDateTime(required=True)


class ApplicationRoutedV1(ApplicationV1):
    added_partner_org_ids = fields.List(
        fields.String(validate=_ORG),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "the partners this routing added"},
    )


class ApplicationInfoV1(ApplicationV1):
    """Information requested by a partner (``reason``: what is needed) or provided by the tenant."""

    partner_org_id = fields.String(required=True, validate=_ORG)
    document_types = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        metadata={"description": "the document types asked for or provided"},
    )


class ApplicationDeclinedV1(ApplicationV1):
    partner_org_id = fields.String(required=True, validate=_ORG)
    reason_code = fields.String(required=True, validate=validate.OneOf(DECLINE_REASONS))


class ApplicationOfferV1(ApplicationV1):
    partner_org_id = fields.String(required=True, validate=_ORG)
    offer = fields.Nested(OfferV1, required=True)


class ApplicationContractV1(ApplicationV1):
    partner_org_id = fields.String(required=True, validate=_ORG)
    contract_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    signed_on = fields.Date(required=True)


class TrancheV1(Schema):
    disbursement_id = fields.UUID(required=True)
    number = fields.Integer(required=True, validate=validate.Range(min=1), metadata={"description": "1 for the first"})
    amount = _money(required=True)
    currency = fields.String(required=True, validate=validate.OneOf((CURRENCY,)))
    disbursed_total = _money(required=True, metadata={"description": "paid so far, this tranche included"})
    final = fields.Boolean(required=True, metadata={"description": "the accepted amount is paid in full"})
    recorded_by = fields.String(required=True, validate=validate.Length(min=1, max=120))
    approved_by = fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "a second person, never recorded_by"},
    )
    disbursed_on = fields.Date(required=True)


class ApplicationDisbursedV1(ApplicationV1):
    partner_org_id = fields.String(required=True, validate=_ORG)
    tranche = fields.Nested(TrancheV1, required=True)


class IpValuationRequestedV1(Schema):
    """The park asks an IP appraisal firm to value the patents an IP-pledge application pledges."""

    application_id = fields.UUID(required=True)
    request_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "finance's valuation request: consulting answers to it, one case each"},
    )
    application_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    org_id = fields.String(required=True, validate=_ORG)
    patent_numbers = fields.List(
        fields.String(validate=validate.Regexp(r"^ZL(\d{12}|\d{8})\.[0-9X]$")),
        required=True,
        validate=validate.Length(min=1),
    )
    appraiser_org_id = fields.String(load_default=None, allow_none=True, validate=_ORG)
    requested_by = fields.String(required=True, validate=validate.Length(min=1, max=120))
    requested_at = UtcDateTime(required=True)


def _application(verb: str, description: str, schema: type[Schema] = ApplicationV1) -> Contract:
    return register(Contract(f"finance.application.{verb}", 1, schema, description))


APPLICATION_SUBMITTED = _application("submitted", "A tenant submitted an application; it waits for the desk.")
APPLICATION_ROUTED = _application(
    "routed",
    "The desk routed an application to partners (added_partner_org_ids; partner_org_ids all of them).",
    ApplicationRoutedV1,
)
APPLICATION_INFO_REQUESTED = _application(
    "info_requested",
    "A partner asked the tenant for documents or answers (reason, document_types).",
    ApplicationInfoV1,
)
APPLICATION_INFO_PROVIDED = _application(
    "info_provided", "The tenant answered a partner's request; its review resumes.", ApplicationInfoV1
)
APPLICATION_OFFER_MADE = _application("offer_made", "A partner made an offer (offer).", ApplicationOfferV1)
APPLICATION_DECLINED = _application(
    "declined", "A partner declined an application (reason_code, reason).", ApplicationDeclinedV1
)
APPLICATION_OFFER_ACCEPTED = _application(
    "offer_accepted",
    "The tenant accepted an offer, or a bureau approved a subsidy's amount (offer, kind approval).",
    ApplicationOfferV1,
)
APPLICATION_OFFER_WITHDRAWN = _application(
    "offer_withdrawn",
    "An offer was withdrawn: the tenant accepted another, or its partner took it back (offer).",
    ApplicationOfferV1,
)
APPLICATION_CONTRACT_SIGNED = _application(
    "contract_signed", "The tenant and the partner signed the contract.", ApplicationContractV1
)
APPLICATION_DISBURSED = _application(
    "disbursed", "A tranche was paid out, recorded by one person and approved by another.", ApplicationDisbursedV1
)
APPLICATION_WITHDRAWN = _application("withdrawn", "The tenant withdrew an application before accepting an offer.")
APPLICATION_CLOSED = _application(
    "closed", "An application closed: paid out in full, or turned down by the desk (reason)."
)
IP_VALUATION_REQUESTED = register(
    Contract(
        "finance.ip_valuation.requested",
        1,
        IpValuationRequestedV1,
        "The park asks an IP appraisal firm to value an IP-pledge application's patents.",
    )
)
