"""The names finance shows for its codes, in the park's two languages, registered as labels.

Importing this module registers every kind of label below (``rules/__init__`` does). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.i18n import Message, _, register_labels

PRODUCT_KIND = "finance-product-kind"
REPAYMENT_METHOD = "finance-repayment-method"
FEE_KIND = "finance-fee-kind"
FEE_BASIS = "finance-fee-basis"
FEE_TIMING = "finance-fee-timing"
WINDOW_STATE = "finance-window-state"

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
        "closed": _("Closed"),
    },
}
"""Every kind of code finance shows, with its names: registered here once, each kind whole."""

for _kind, _names in LABELS.items():
    register_labels(_kind, _names)
