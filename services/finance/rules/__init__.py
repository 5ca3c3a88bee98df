"""Finance's pure rules: no Flask, kombu or session. Every broken rule raises
:class:`shared.errors.RuleViolation` (or :class:`shared.errors.Conflict`) whose ``code`` names it
and whose detail is a marked text (:mod:`shared.i18n`), answered in the reader's language; checks
that must name every failure at once answer a list of :class:`~.eligibility.Failure` instead.
Importing the package registers the labels of finance's codes (:mod:`.names`)."""

from services.finance.rules import names
from services.finance.rules.cost import (
    FEE_BASES,
    FEE_KINDS,
    FEE_TIMINGS,
    MAX_RATE,
    MAX_TERM_MONTHS,
    REPAYMENT_METHODS,
    AllInCost,
    Fee,
    Instalment,
    Offer,
    all_in_cost,
    check_fee,
    check_method,
    check_rate,
    check_term,
    offer,
    parse_percent,
)
from services.finance.rules.eligibility import (
    EligibilityRules,
    Failure,
    Profile,
    check_eligibility,
    check_rules,
    years_in_park,
)
from services.finance.rules.money import CURRENCY, MAX_AMOUNT, Money, format_amount, parse_amount
from services.finance.rules.products import (
    PRODUCT_KINDS,
    WINDOW_STATES,
    ProductTerms,
    Window,
    check_request,
    check_terms,
    check_window,
    request_failures,
    window_state,
)

__all__ = [
    "CURRENCY",
    "FEE_BASES",
    "FEE_KINDS",
    "FEE_TIMINGS",
    "MAX_AMOUNT",
    "MAX_RATE",
    "MAX_TERM_MONTHS",
    "PRODUCT_KINDS",
    "REPAYMENT_METHODS",
    "WINDOW_STATES",
    "AllInCost",
    "EligibilityRules",
    "Failure",
    "Fee",
    "Instalment",
    "Money",
    "Offer",
    "ProductTerms",
    "Profile",
    "Window",
    "all_in_cost",
    "check_eligibility",
    "check_fee",
    "check_method",
    "check_rate",
    "check_request",
    "check_rules",
    "check_term",
    "check_terms",
    "check_window",
    "format_amount",
    "names",
    "offer",
    "parse_amount",
    "parse_percent",
    "request_failures",
    "window_state",
    "years_in_park",
]
