"""The names finance shows for its codes, in the park's two languages, registered as labels.

Importing this module registers every kind of label below (``rules/__init__`` does). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.i18n import Message, Text, _, label, register_labels

PRODUCT_KIND = "finance-product-kind"
REPAYMENT_METHOD = "finance-repayment-method"
FEE_KIND = "finance-fee-kind"
FEE_BASIS = "finance-fee-basis"
FEE_TIMING = "finance-fee-timing"
WINDOW_STATE = "finance-window-state"
APPLICATION_STATUS = "finance-application-status"
APPLICATION_STATUS_FOR_TENANT = "finance-application-status-tenant"
APPLICATION_ACTION = "finance-application-action"
REVIEW_STATUS = "finance-review-status"
OFFER_STATUS = "finance-offer-status"
DECLINE_REASON = "finance-decline-reason"
DECISION_KIND = "finance-decision-kind"
SYSTEM_REASON = "finance-system-reason"

ANOTHER_OFFER_ACCEPTED = "Another offer was accepted."
"""The reason finance stores on the offers and reviews an acceptance ends (shown by :func:`reason_shown`)."""

LABELS: Mapping[str, Mapping[str, Message]] = {
    PRODUCT_KIND: {  # rules/products.py: PRODUCT_KINDS
        "subsidy": _("Government subsidy"),
        "guaranteed_loan": _("Guaranteed bank loan"),
        "guide_fund": _("Government guide fund"),
        "venture_capital": _("Venture capital introduction"),
        "leasing": _("Financial leasing"),
        "ip_pledge_loan": _("IP-pledge loan"),
    },
    REPAYMENT_METHOD: {  # rules/cost.py: REPAYMENT_METHODS
        "equal_instalments": _("Equal monthly instalments"),
        "equal_principal": _("Equal principal repayments"),
        "interest_only": _("Interest monthly, principal at the end"),
        "bullet": _("Principal and interest at the end"),
    },
    FEE_KIND: {  # rules/cost.py: FEE_KINDS
        "guarantee": _("Guarantee fee"),
        "service": _("Service fee"),
        "arrangement": _("Arrangement fee"),
    },
    FEE_BASIS: {  # rules/cost.py: FEE_BASES
        "flat": _("Fixed amount"),
        "percent": _("Percent of the principal"),
        "percent_per_year": _("Percent of the principal per year"),
    },
    FEE_TIMING: {  # rules/cost.py: FEE_TIMINGS
        "upfront": _("Paid up front"),
        "monthly": _("Paid monthly"),
    },
    WINDOW_STATE: {  # rules/products.py: WINDOW_STATES
        "not_open": _("Not open yet"),
        "open": _("Open"),
        "grace": _("Closed, drafts begun in time may still be submitted"),
        "closed": _("Closed for applications"),
    },
    # rules/lifecycle.py (G2) -----------------------------------------------------------------
    APPLICATION_STATUS: {  # shared/events/finance.py: APPLICATION_STATUSES, as staff and partners read them
        "draft": _("Draft"),
        "submitted": _("Submitted"),
        "pre_review": _("In the desk's pre-review"),
        "routed": _("Routed to partners"),
        "accepted": _("Offer accepted"),
        "contract_signed": _("Contract signed"),
        "disbursing": _("Being disbursed"),
        "disbursed": _("Disbursed"),
        "closed": _("Closed"),
        "withdrawn": _("Withdrawn"),
    },
    APPLICATION_STATUS_FOR_TENANT: {
        "draft": _("Draft"),
        "submitted": _("Submitted"),
        "pre_review": _("Being checked by the park"),
        "routed": _("With the financing partners"),
        "accepted": _("Offer accepted"),
        "contract_signed": _("Contract signed"),
        "disbursing": _("Being paid out"),
        "disbursed": _("Paid out"),
        "closed": _("Closed"),
        "withdrawn": _("Withdrawn"),
    },
    APPLICATION_ACTION: {  # rules/lifecycle.py: the actions of the three machines
        "draft": _("Drafted"),
        "edit": _("Edited"),
        "submit": _("Submitted"),
        "start_pre_review": _("Pre-review started"),
        "route": _("Routed to partners"),
        "turn_down": _("Turned down by the park"),
        "accept_offer": _("Offer accepted"),
        "approve": _("Subsidy approved"),
        "sign_contract": _("Contract signed"),
        "disburse": _("Tranche disbursed"),
        "complete_disbursement": _("Disbursed in full"),
        "close": _("Closed"),
        "withdraw": _("Withdrawn by the tenant"),
        "start_review": _("Review started by the partner"),
        "request_info": _("Information requested"),
        "provide_info": _("Information provided"),
        "make_offer": _("Offer made"),
        "decline": _("Declined by the partner"),
        "cancel": _("Review ended"),
        "reconsider": _("Review resumed after the offer lapsed"),
        "add_document": _("Document uploaded"),
        "remove_document": _("Document removed"),
        "add_patent": _("Patent listed"),
        "remove_patent": _("Patent removed"),
        "request_valuation": _("Valuation requested"),
        "record_valuation": _("Valuation recorded"),
        "record_pledge": _("Pledge registered"),
        "release_pledge": _("Pledge released"),
        "record_disbursement": _("Tranche recorded, awaiting approval"),
    },
    REVIEW_STATUS: {  # shared/events/finance.py: REVIEW_STATUSES
        "routed": _("Routed, not yet reviewed"),
        "under_review": _("Under review"),
        "info_requested": _("Information requested"),
        "offer_made": _("Offer made"),
        "approved": _("Subsidy approved"),
        "declined": _("Declined"),
        "cancelled": _("Ended before a decision"),
    },
    OFFER_STATUS: {  # shared/events/finance.py: OFFER_STATUSES
        "made": _("Made"),
        "accepted": _("Accepted"),
        "withdrawn": _("Withdrawn"),
        "expired": _("Expired"),
        "invalidated": _("No longer valid: the application was edited"),
        "declined": _("Declined by the tenant"),
    },
    DECLINE_REASON: {  # shared/events/finance.py: DECLINE_REASONS
        "credit_history": _("Credit history"),
        "insufficient_revenue": _("Revenue too low"),
        "insufficient_collateral": _("Not enough collateral"),
        "outside_risk_appetite": _("Outside the partner's risk appetite"),
        "ineligible": _("Not eligible for the product"),
        "incomplete_information": _("Information incomplete"),
        "budget_exhausted": _("Budget exhausted"),
        "other": _("Other reason"),
    },
    DECISION_KIND: {  # rules/decisions.py: DECISION_KINDS
        "offer_made": _("Offer made"),
        "offer_accepted": _("Offer accepted"),
        "subsidy_approved": _("Subsidy approved"),
        "declined": _("Declined"),
        "disbursement_recorded": _("Disbursement recorded"),
        "disbursement_approved": _("Disbursement approved"),
    },
    SYSTEM_REASON: {  # the reasons finance itself gives, stored in English, read in the reader's language
        ANOTHER_OFFER_ACCEPTED: _("Another offer was accepted."),
    },
}
"""Every kind of code finance shows, with its names: registered here once, each kind whole."""

for _kind, _names in LABELS.items():
    register_labels(_kind, _names)


def reason_shown(stored: str | None) -> Text | None:
    """A stored reason as a person reads it: one finance gave itself (:data:`ANOTHER_OFFER_ACCEPTED`)
    in the reader's language, a person's own words as they wrote them."""
    return None if stored is None else label(SYSTEM_REASON, stored)


def application_status_name(status: str, *, for_tenant: bool = False) -> Text:
    """The name of an application's ``status`` for a tenant (``for_tenant``: what they wait for,
    without the desk's inner steps) or for the park's staff and the partners."""
    return label(APPLICATION_STATUS_FOR_TENANT if for_tenant else APPLICATION_STATUS, status)
