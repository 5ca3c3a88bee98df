"""The all-in annual cost of a financing offer: the annualised rate of every cash flow of the
borrower (the principal received, each instalment of principal and interest, each fee), found by
the internal-rate-of-return method, as the People's Bank of China has required lenders to show
since 2021 (PBoC announcement 〔2021〕 No. 3). Pure; :class:`~decimal.Decimal` throughout.

The convention (docs/FINANCE.md, "The all-in annual cost"): the month is the period; the IRR ``i``
per month solves ``Σ CF_k / (1 + i)^k = 0`` over the borrower's cash flows (``CF_0`` the principal
less every up-front fee, ``CF_k`` minus what is paid at the end of month ``k``), and the annual
rate shown is ``12 × i`` (the nominal convention of the notice and of its worked example, the
"monthly fee of 1%" loan that costs 21.46% a year, not the effective ``(1 + i)^12 − 1``). It is
answered in percent with two places, rounded half up; the effective rate is answered beside it.

The schedule (per month, amounts in fen, rounded half up; the last month clears what rounding left):

- ``equal_instalments`` (等额本息): one payment ``P·r/(1 − (1 + r)^−n)``, ``r`` the nominal rate / 12;
- ``equal_principal`` (等额本金): ``P/n`` of principal a month, interest on the balance;
- ``interest_only`` (先息后本): interest each month, the principal with the last;
- ``bullet`` (到期一次还本付息): principal and simple interest ``P·r·n`` at the end.

Fees (:class:`Fee`): a ``flat`` amount, a ``percent`` of the principal, or a ``percent_per_year``
of the principal (a guarantee fee's usual price), paid ``upfront`` (deducted from what is paid out,
or paid at signing: the same cash flow) or ``monthly`` with each instalment; an up-front
``percent_per_year`` fee covers the whole term (``P × rate × n / 12``).

Refusals (422): ``rule/term-invalid`` (not 1–360 months), ``rule/rate-invalid`` (not a decimal
percent with at most 4 places), ``rule/rate-cap`` (below 0 or above :data:`MAX_RATE`),
``rule/repayment-method``, ``rule/fee-kind``, ``rule/fee-basis``, ``rule/fee-timing``,
``rule/fee-invalid``, ``rule/fee-negative``, ``rule/fee-too-large``, ``rule/fees-exceed-principal``
(up-front fees that leave nothing to receive), and the ``rule/amount-*`` of :mod:`.money`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from services.finance.rules.money import CENT, MAX_AMOUNT, format_amount, parse_amount, to_fen
from shared.errors import RuleViolation
from shared.i18n import _

REPAYMENT_METHODS = ("equal_instalments", "equal_principal", "interest_only", "bullet")
FEE_KINDS = ("guarantee", "service", "arrangement")
FEE_BASES = ("flat", "percent", "percent_per_year")
FEE_TIMINGS = ("upfront", "monthly")
FEE_BASES_OF_KIND = {
    "guarantee": ("percent_per_year", "percent", "flat"),
    "service": FEE_BASES,
    "arrangement": ("flat", "percent"),
}
"""An arrangement fee is a one-off price (flat or a percent of the principal); the others may be any."""
FEE_TIMINGS_OF_KIND = {"guarantee": FEE_TIMINGS, "service": FEE_TIMINGS, "arrangement": ("upfront",)}

MIN_TERM_MONTHS = 1
MAX_TERM_MONTHS = 360
"""Thirty years: the longest term a Chinese bank lends for (a mortgage); anything longer is a typo."""
MAX_RATE = Decimal(36)
"""The highest nominal annual rate (percent) an offer may state. 36% is the line above which
Chinese courts never protect interest and regulators treat lending as usurious (整治办函〔2017〕141号);
the 4×LPR cap of the Supreme People's Court (2020) binds private lending, not the licensed banks,
lessors and funds the park works with, and moves with the LPR each month, so it is no fixed bound of
input. The all-in cost itself may exceed 36% once fees count: showing that is its purpose."""
MAX_FEE_PERCENT = Decimal(100)
RATE_PLACES = 4
PERIODS_PER_YEAR = 12

PRECISION = 40
"""Digits of the decimal context the IRR is solved in: far beyond the 1e-12 it converges to."""
TOLERANCE = Decimal("1e-12")
"""The bisection stops when the monthly rate is known within this (the brief asked 1e-10)."""
MAX_ITERATIONS = 200
"""Bisection halves the bracket each step: 1 → 1e-12 takes 40; the bound only guards the loop."""
MAX_MONTHLY_RATE = Decimal(2) ** 20
"""The bracket's growth stops here (a million times the money a month): beyond is no loan."""
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_PERCENT_PLACES = Decimal("0.01")
_PLAIN_PERCENT = re.compile(r"[+-]?[0-9]{1,6}(?:\.[0-9]+)?")


def parse_percent(value: Any, *, where: str = "rate", places: int = RATE_PLACES) -> Decimal:
    """A percent (``"4.35"`` is 4.35%) from a decimal string, an int or a Decimal, with at most
    ``places`` decimals; a float, NaN, Infinity, an exponent or more places is ``rule/rate-invalid``.
    Bounds are the caller's."""
    rate: Decimal | None = None
    if isinstance(value, str) and len(value) <= 20 and _PLAIN_PERCENT.fullmatch(value):
        rate = Decimal(value)
    elif isinstance(value, Decimal) and value.is_finite() and abs(value) < 10**6:
        rate = value
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**6:
        rate = Decimal(value)
    if rate is None or rate != rate.quantize(Decimal(1).scaleb(-places)):
        raise RuleViolation(
            _(
                '{where}: a percent as a decimal string with at most {places} decimal places, such as "4.35".',
                where=where,
                places=places,
            ),
            code="rule/rate-invalid",
            where=where,
        )
    return rate


def check_rate(value: Any, *, where: str = "rate") -> Decimal:
    """A nominal annual rate in percent: :func:`parse_percent`, from 0 to :data:`MAX_RATE` (``rule/rate-cap``)."""
    rate = parse_percent(value, where=where)
    if not Decimal(0) <= rate <= MAX_RATE:
        raise RuleViolation(
            _("{where}: a yearly rate from 0% to {cap}%.", where=where, cap=MAX_RATE),
            code="rule/rate-cap",
            where=where,
        )
    return rate


def check_term(value: Any, *, where: str = "term_months") -> int:
    """A term: a whole number of months from 1 to 360 (``rule/term-invalid``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_TERM_MONTHS <= value <= MAX_TERM_MONTHS:
        raise RuleViolation(
            _("{where}: a term is a whole number of months from 1 to 360.", where=where),
            code="rule/term-invalid",
            where=where,
        )
    return value


def check_method(value: Any, *, where: str = "repayment_method") -> str:
    """One of :data:`REPAYMENT_METHODS` (``rule/repayment-method``)."""
    if value not in REPAYMENT_METHODS:
        raise RuleViolation(
            _(
                "{where}: a repayment method is equal_instalments, equal_principal, interest_only or bullet.",
                where=where,
            ),
            code="rule/repayment-method",
            where=where,
        )
    return str(value)


@dataclass(frozen=True)
class Fee:
    """A fee of an offer or a product: its kind, how its size is given (``basis``), the size
    (yuan for ``flat``, percent otherwise) and when it is paid. Build it with :func:`check_fee`."""

    kind: str
    basis: str
    value: Decimal
    timing: str

    def per_payment(self, principal: Decimal, term_months: int) -> Decimal:
        """What one payment of this fee is, in fen: the whole fee when up front, a month's when monthly."""
        if self.basis == "flat":
            return self.value
        share = self.value / _HUNDRED
        if self.basis == "percent":
            return to_fen(principal * share)
        # percent_per_year: a month's share, or the whole term's when paid up front
        months = term_months if self.timing == "upfront" else 1
        return to_fen(principal * share * months / PERIODS_PER_YEAR)

    def to_json(self) -> dict[str, str]:
        value = format_amount(self.value) if self.basis == "flat" else str(self.value)
        return {"kind": self.kind, "basis": self.basis, "value": value, "timing": self.timing}


def check_fee(raw: Any, *, where: str = "fee") -> Fee:
    """A fee from its JSON (``{"kind", "basis", "value", "timing"}``) or a :class:`Fee`, checked:
    kind, basis and timing among those allowed for the kind (``rule/fee-kind``,
    ``rule/fee-basis``, ``rule/fee-timing``); the value an amount of yuan (``flat``) or a percent
    with at most 4 places (``rule/fee-invalid``), zero or more (``rule/fee-negative``), a percent
    at most 100 and an amount at most :data:`~.money.MAX_AMOUNT` (``rule/fee-too-large``)."""
    if isinstance(raw, Fee):
        raw = {"kind": raw.kind, "basis": raw.basis, "value": raw.value, "timing": raw.timing}
    if not isinstance(raw, dict) or set(raw) != {"kind", "basis", "value", "timing"}:
        raise RuleViolation(
            _("{where}: a fee is an object with kind, basis, value and timing.", where=where),
            code="rule/fee-invalid",
            where=where,
        )
    kind, basis, timing = raw["kind"], raw["basis"], raw["timing"]
    if kind not in FEE_KINDS:
        raise RuleViolation(
            _("{where}: a fee's kind is guarantee, service or arrangement.", where=where),
            code="rule/fee-kind",
            where=f"{where}.kind",
        )
    if basis not in FEE_BASES_OF_KIND[kind]:
        raise RuleViolation(
            _("{where}: this kind of fee cannot be given as {basis}.", where=where, basis=str(basis)),
            code="rule/fee-basis",
            where=f"{where}.basis",
        )
    if timing not in FEE_TIMINGS_OF_KIND[kind]:
        raise RuleViolation(
            _("{where}: this kind of fee cannot be paid {timing}.", where=where, timing=str(timing)),
            code="rule/fee-timing",
            where=f"{where}.timing",
        )
    return Fee(kind, basis, _fee_value(raw["value"], basis, f"{where}.value"), timing)


def _fee_value(value: Any, basis: str, where: str) -> Decimal:
    try:
        if basis == "flat":
            amount = parse_amount(value, where=where, allow_zero=True)
        else:
            amount = parse_percent(value, where=where)
    except RuleViolation as refused:
        code = {"rule/amount-negative": "rule/fee-negative", "rule/amount-too-large": "rule/fee-too-large"}
        raise RuleViolation(refused.detail, code=code.get(refused.code, "rule/fee-invalid"), where=where) from None
    if amount < 0:
        raise RuleViolation(_("{where}: a fee of zero or more.", where=where), code="rule/fee-negative", where=where)
    if basis != "flat" and amount > MAX_FEE_PERCENT:
        raise RuleViolation(
            _("{where}: a fee of at most 100% of the principal.", where=where), code="rule/fee-too-large", where=where
        )
    return amount


@dataclass(frozen=True)
class Offer:
    """What the all-in cost is computed of: ``principal`` in yuan (two places), the term, the
    nominal annual rate in percent, the repayment method and the fees. Build it with :func:`offer`."""

    principal: Decimal
    term_months: int
    annual_rate: Decimal
    method: str
    fees: tuple[Fee, ...] = ()


def offer(principal: Any, term_months: Any, annual_rate: Any, method: Any, fees: Iterable[Any] = ()) -> Offer:
    """An :class:`Offer` of checked parts (the refusals of the module), fees named ``fees[0]``…"""
    return Offer(
        parse_amount(principal, where="principal"),
        check_term(term_months),
        check_rate(annual_rate, where="annual_rate"),
        check_method(method),
        tuple(check_fee(fee, where=f"fees[{index}]") for index, fee in enumerate(fees)),
    )


@dataclass(frozen=True)
class Instalment:
    """Month ``month``'s payment: principal, interest and fees (fen), and the balance left after it."""

    month: int
    principal: Decimal
    interest: Decimal
    fees: Decimal
    balance: Decimal

    @property
    def payment(self) -> Decimal:
        return self.principal + self.interest + self.fees

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "principal": format_amount(self.principal),
            "interest": format_amount(self.interest),
            "fees": format_amount(self.fees),
            "payment": format_amount(self.payment),
            "balance": format_amount(self.balance),
        }


@dataclass(frozen=True)
class AllInCost:
    """The answer of :func:`all_in_cost`: the annual rate in percent with two places (nominal,
    ``12 × monthly IRR``), the effective annual rate beside it, the monthly IRR as solved,
    what the borrower receives at the start, the schedule, and the totals (yuan, fen)."""

    annual_rate: Decimal
    effective_annual_rate: Decimal
    monthly_rate: Decimal
    received: Decimal
    upfront_fees: Decimal
    schedule: tuple[Instalment, ...]

    @property
    def total_interest(self) -> Decimal:
        return sum((row.interest for row in self.schedule), Decimal("0.00"))

    @property
    def total_fees(self) -> Decimal:
        return self.upfront_fees + sum((row.fees for row in self.schedule), Decimal("0.00"))

    @property
    def total_cost(self) -> Decimal:
        """Interest and every fee: what the money costs beyond the principal."""
        return self.total_interest + self.total_fees

    @property
    def cash_flows(self) -> tuple[Decimal, ...]:
        """The borrower's cash flows, month 0 first: received positive, payments negative."""
        return (self.received, *(-row.payment for row in self.schedule))

    def to_json(self) -> dict[str, Any]:
        return {
            "annual_rate": f"{self.annual_rate:.2f}",
            "effective_annual_rate": f"{self.effective_annual_rate:.2f}",
            "received": format_amount(self.received),
            "total_interest": format_amount(self.total_interest),
            "total_fees": format_amount(self.total_fees),
            "total_cost": format_amount(self.total_cost),
            "schedule": [row.to_json() for row in self.schedule],
        }


def schedule(terms: Offer) -> tuple[Instalment, ...]:
    """The repayment schedule of ``terms``, month by month, fees included (module docstring)."""
    principal, months = terms.principal, terms.term_months
    monthly = terms.annual_rate / _HUNDRED / PERIODS_PER_YEAR
    fees = sum((fee.per_payment(principal, months) for fee in terms.fees if fee.timing == "monthly"), Decimal("0.00"))
    rows: list[Instalment] = []
    balance = principal
    level = _level_payment(principal, monthly, months) if terms.method == "equal_instalments" else None
    for month in range(1, months + 1):
        last = month == months
        if terms.method == "bullet":
            interest = to_fen(principal * monthly * months) if last else Decimal("0.00")
            repaid = balance if last else Decimal("0.00")
        else:
            interest = to_fen(balance * monthly)
            if last:
                repaid = balance
            elif terms.method == "equal_instalments":
                assert level is not None
                repaid = min(balance, level - interest)
            elif terms.method == "equal_principal":
                repaid = to_fen(principal / months)
            else:  # interest_only
                repaid = Decimal("0.00")
        balance -= repaid
        rows.append(Instalment(month, repaid, interest, fees, balance))
    return tuple(rows)


def _level_payment(principal: Decimal, monthly: Decimal, months: int) -> Decimal:
    if monthly == 0:
        return to_fen(principal / months)
    with localcontext() as context:
        context.prec = PRECISION
        payment = principal * monthly / (_ONE - (_ONE + monthly) ** -months)
    return to_fen(payment)


def all_in_cost(terms: Offer) -> AllInCost:
    """The all-in annual cost of ``terms`` (module docstring). ``rule/fees-exceed-principal``
    when the up-front fees leave the borrower nothing."""
    upfront = sum(
        (fee.per_payment(terms.principal, terms.term_months) for fee in terms.fees if fee.timing == "upfront"),
        Decimal("0.00"),
    )
    received = terms.principal - upfront
    if received <= 0:
        raise RuleViolation(
            _("The fees paid up front ({fees} yuan) leave nothing of the principal.", fees=format_amount(upfront)),
            code="rule/fees-exceed-principal",
        )
    rows = schedule(terms)
    monthly = irr((received, *(-row.payment for row in rows)))
    with localcontext() as context:
        context.prec = PRECISION
        nominal = (monthly * PERIODS_PER_YEAR * _HUNDRED).quantize(_PERCENT_PLACES, rounding=ROUND_HALF_UP)
        effective = (((_ONE + monthly) ** PERIODS_PER_YEAR - _ONE) * _HUNDRED).quantize(
            _PERCENT_PLACES, rounding=ROUND_HALF_UP
        )
    return AllInCost(nominal, effective, monthly, received, upfront, rows)


def npv(rate: Decimal, flows: Sequence[Decimal]) -> Decimal:
    """``Σ flows[k] / (1 + rate)^k`` (Horner's scheme, in a :data:`PRECISION`-digit context)."""
    with localcontext() as context:
        context.prec = PRECISION
        factor = _ONE / (_ONE + rate)
        total = Decimal(0)
        for flow in reversed(flows):
            total = total * factor + flow
        return total


def irr(flows: Sequence[Decimal]) -> Decimal:
    """The rate per period at which the borrower's ``flows`` (the first positive, the others zero
    or negative, repaying at least the first) are worth nothing: bisection on a bracket that
    starts at [0, 1] and doubles its top until the value changes sign, to :data:`TOLERANCE`, in
    at most :data:`MAX_ITERATIONS` steps. The value grows with the rate (each payment is worth
    less), so the root is unique. 0 when the payments exactly repay what was received."""
    if not flows or flows[0] <= 0 or any(flow > 0 for flow in flows[1:]):
        raise ValueError("a borrower's cash flows: money received first, payments after")
    if sum(flows) > 0:
        raise ValueError("the payments repay less than was received: no positive rate")
    if sum(flows) == 0:
        return Decimal(0)
    low, high = Decimal(0), _ONE
    while npv(high, flows) <= 0:
        if high >= MAX_MONTHLY_RATE:
            raise ValueError("no rate of a loan makes these flows worth nothing")
        low, high = high, high * 2
    for _step in range(MAX_ITERATIONS):
        if high - low <= TOLERANCE:
            break
        middle = (low + high) / 2
        if npv(middle, flows) > 0:
            high = middle
        else:
            low = middle
    return (low + high) / 2


__all__ = [
    "CENT",
    "FEE_BASES",
    "FEE_KINDS",
    "FEE_TIMINGS",
    "MAX_AMOUNT",
    "MAX_RATE",
    "MAX_TERM_MONTHS",
    "REPAYMENT_METHODS",
    "AllInCost",
    "Fee",
    "Instalment",
    "Offer",
    "all_in_cost",
    "check_fee",
    "check_method",
    "check_rate",
    "check_term",
    "irr",
    "npv",
    "offer",
    "parse_percent",
    "schedule",
]
