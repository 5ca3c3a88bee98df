"""A financing product's terms and whether a request fits them. Pure.

A product (:class:`ProductTerms`, from JSON by :func:`check_terms`) has a kind
(:data:`PRODUCT_KINDS`), an amount range in yuan, a term range in months, a nominal annual rate
range in percent, its fees (:func:`.cost.check_fee`), and for a subsidy call an application
window (:class:`Window`: opening, closing, a grace period in days). Refusals of the terms (422):
``rule/product-kind``, ``rule/amount-range``, ``rule/term-range``, ``rule/rate-range`` (a minimum
above its maximum), ``rule/window-order`` (closing not after opening), ``rule/window-grace``
(grace not 0–:data:`MAX_GRACE_DAYS` days), ``rule/window-invalid`` (a time without its offset),
and the ``rule/amount-*``, ``rule/term-invalid``, ``rule/rate-*`` and ``rule/fee-*`` of the values.

The window's state at a moment (:func:`window_state`) is read in park time (Asia/Shanghai):
``not_open`` before the opening, ``open`` until the closing, ``grace`` for the grace days after it
(the same wall-clock time ``grace_days`` park days later), then ``closed``. In the grace period only
an application drafted before the closing may still be submitted (a tenant who began in time and
was finishing the paperwork); nothing new starts.

:func:`request_failures` answers every way a request (amount, term, when) does not fit, as
:class:`.eligibility.Failure`: ``rule/amount-out-of-range``, ``rule/term-out-of-range``,
``rule/window-not-open``, ``rule/window-closed``; :func:`check_request` raises the first as a
:class:`~shared.errors.RuleViolation` carrying all of them in ``failures``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.finance.rules.cost import Fee, check_fee, check_rate, check_term
from services.finance.rules.eligibility import EligibilityRules, Failure, check_rules
from services.finance.rules.money import format_amount, parse_amount
from shared.clock import PARK_TZ
from shared.errors import RuleViolation
from shared.i18n import _

PRODUCT_KINDS = ("subsidy", "guaranteed_loan", "guide_fund", "venture_capital", "leasing", "ip_pledge_loan")
WINDOW_STATES = ("not_open", "open", "grace", "closed")
MAX_GRACE_DAYS = 90
"""A quarter: a call's paperwork never runs longer after its closing."""


@dataclass(frozen=True)
class Window:
    """A subsidy call's application window: aware datetimes, ``opens_at`` before ``closes_at``."""

    opens_at: datetime
    closes_at: datetime
    grace_days: int = 0

    @property
    def grace_ends_at(self) -> datetime:
        """``grace_days`` park days after the closing, at the same park wall-clock time."""
        closing = self.closes_at.astimezone(PARK_TZ)
        return (closing.replace(tzinfo=None) + timedelta(days=self.grace_days)).replace(tzinfo=PARK_TZ)


def check_window(opens_at: Any, closes_at: Any, grace_days: Any = 0) -> Window:
    """A :class:`Window` of checked parts (the ``rule/window-*`` of the module)."""
    for where, moment in (("opens_at", opens_at), ("closes_at", closes_at)):
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            raise RuleViolation(
                _("{where}: a time with its offset, such as 2026-03-01T09:00:00+08:00.", where=where),
                code="rule/window-invalid",
                where=where,
            )
    if closes_at <= opens_at:
        raise RuleViolation(_("A window closes after it opens."), code="rule/window-order", where="closes_at")
    if isinstance(grace_days, bool) or not isinstance(grace_days, int) or not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise RuleViolation(
            _("grace_days: a whole number of days from 0 to {limit}.", limit=MAX_GRACE_DAYS),
            code="rule/window-grace",
            where="grace_days",
        )
    return Window(opens_at, closes_at, grace_days)


def window_state(window: Window, now: datetime) -> str:
    """One of :data:`WINDOW_STATES` at ``now`` (an aware datetime; a naive one is a bug: ValueError)."""
    if now.utcoffset() is None:
        raise ValueError("window_state needs an aware datetime")
    if now < window.opens_at:
        return "not_open"
    if now < window.closes_at:
        return "open"
    if now < window.grace_ends_at:
        return "grace"
    return "closed"


@dataclass(frozen=True)
class ProductTerms:
    """What a product offers: ranges (yuan with two places, months, percent), fees, window, eligibility."""

    kind: str
    amount_min: Decimal
    amount_max: Decimal
    term_min: int
    term_max: int
    rate_min: Decimal
    rate_max: Decimal
    fees: tuple[Fee, ...] = ()
    window: Window | None = None
    eligibility: EligibilityRules = EligibilityRules()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "amount": {"min": format_amount(self.amount_min), "max": format_amount(self.amount_max), "currency": "CNY"},
            "term_months": {"min": self.term_min, "max": self.term_max},
            "rate": {"min": str(self.rate_min), "max": str(self.rate_max)},
            "fees": [fee.to_json() for fee in self.fees],
            "eligibility": self.eligibility.to_json(),
        }


def check_terms(
    kind: Any,
    *,
    amount_min: Any,
    amount_max: Any,
    term_min: Any,
    term_max: Any,
    rate_min: Any,
    rate_max: Any,
    fees: Iterable[Any] = (),
    window: Window | None = None,
    eligibility: Any = None,
) -> ProductTerms:
    """A product's terms, each value checked, each range ``min <= max`` (module docstring)."""
    if kind not in PRODUCT_KINDS:
        raise RuleViolation(
            _("kind: a product is a subsidy, guaranteed_loan, guide_fund, venture_capital, leasing or ip_pledge_loan."),
            code="rule/product-kind",
            where="kind",
        )
    low, high = parse_amount(amount_min, where="amount_min"), parse_amount(amount_max, where="amount_max")
    if low > high:
        raise _range_refusal("amount", "rule/amount-range")
    shortest, longest = check_term(term_min, where="term_min"), check_term(term_max, where="term_max")
    if shortest > longest:
        raise _range_refusal("term", "rule/term-range")
    cheapest, dearest = check_rate(rate_min, where="rate_min"), check_rate(rate_max, where="rate_max")
    if cheapest > dearest:
        raise _range_refusal("rate", "rule/rate-range")
    return ProductTerms(
        str(kind),
        low,
        high,
        shortest,
        longest,
        cheapest,
        dearest,
        tuple(check_fee(fee, where=f"fees[{index}]") for index, fee in enumerate(fees)),
        window,
        check_rules(eligibility),
    )


def _range_refusal(what: str, code: str) -> RuleViolation:
    return RuleViolation(_("{what}_min is above {what}_max.", what=what), code=code, where=f"{what}_min")


def request_failures(
    product: ProductTerms, amount: Decimal, term_months: int, now: datetime, *, drafted_at: datetime | None = None
) -> list[Failure]:
    """Every way a request for ``amount`` yuan over ``term_months`` at ``now`` does not fit
    ``product`` (empty when it fits); ``drafted_at``: when the application was begun, which
    lets it be submitted in the window's grace period."""
    failures: list[Failure] = []
    if not product.amount_min <= amount <= product.amount_max:
        failures.append(
            Failure(
                "rule/amount-out-of-range",
                _(
                    "This product is for amounts from {min} to {max} yuan; {amount} yuan is outside.",
                    min=format_amount(product.amount_min),
                    max=format_amount(product.amount_max),
                    amount=format_amount(amount),
                ),
                "amount",
            )
        )
    if not product.term_min <= term_months <= product.term_max:
        failures.append(
            Failure(
                "rule/term-out-of-range",
                _(
                    "This product runs from {min} to {max} months; {term} months is outside.",
                    min=product.term_min,
                    max=product.term_max,
                    term=term_months,
                ),
                "term_months",
            )
        )
    if product.window is not None:
        failure = _window_failure(product.window, now, drafted_at)
        if failure is not None:
            failures.append(failure)
    return failures


def _window_failure(window: Window, now: datetime, drafted_at: datetime | None) -> Failure | None:
    state = window_state(window, now)
    opens = window.opens_at.astimezone(PARK_TZ).strftime("%Y-%m-%d %H:%M")
    closes = window.closes_at.astimezone(PARK_TZ).strftime("%Y-%m-%d %H:%M")
    if state == "not_open":
        return Failure(
            "rule/window-not-open", _("This call opens for applications at {opens} (park time).", opens=opens), "window"
        )
    in_time = drafted_at is not None and drafted_at < window.closes_at
    if state == "closed" or (state == "grace" and not in_time):
        closed = _("This call closed for applications at {closes} (park time).", closes=closes)
        return Failure("rule/window-closed", closed, "window")
    return None


def check_request(
    product: ProductTerms, amount: Decimal, term_months: int, now: datetime, *, drafted_at: datetime | None = None
) -> None:
    """:func:`request_failures` as a refusal (422): the first failure's code and detail, and the
    code and field of each in ``failures`` (a problem's extras are JSON as they are; a caller that
    shows every detail renders :func:`request_failures` itself); nothing when the request fits."""
    failures = request_failures(product, amount, term_months, now, drafted_at=drafted_at)
    if failures:
        first = failures[0]
        listed = [{"code": failure.code, "field": failure.field} for failure in failures]
        raise RuleViolation(first.detail, code=first.code, where=first.field, failures=listed)
