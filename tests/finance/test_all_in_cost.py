"""The all-in annual cost: worked examples checked against independent computations (exact
fractions, a float NPV written here), the refusals, and properties (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.finance.rules.cost import (
    PERIODS_PER_YEAR,
    AllInCost,
    Fee,
    Offer,
    all_in_cost,
    check_fee,
    irr,
    npv,
    offer,
)
from shared.errors import RuleViolation


def float_npv(annual_percent: float, flows: tuple[Decimal, ...]) -> float:
    """The borrower's flows discounted at a nominal annual rate (monthly = annual / 12): written
    here in floats, independent of the Decimal code under test."""
    monthly = annual_percent / 100 / 12
    return sum(float(flow) / (1 + monthly) ** month for month, flow in enumerate(flows))


def assert_rate_is_the_root(cost: AllInCost) -> None:
    """The answered rate is the IRR to its two places: the flows are worth less than nothing a
    hundredth of a percent below it and more than nothing a hundredth above it (the value grows
    with the rate), and about nothing at the solved monthly rate."""
    shown = float(cost.annual_rate)
    assert float_npv(shown - 0.01, cost.cash_flows) < 0 < float_npv(shown + 0.01, cost.cash_flows)
    assert abs(npv(cost.monthly_rate, cost.cash_flows)) < Decimal("0.0001")


def fee(kind: str, basis: str, value: str, timing: str) -> dict[str, str]:
    return {"kind": kind, "basis": basis, "value": value, "timing": timing}


# Worked examples ------------------------------------------------------------------------------


def test_equal_instalments_without_fees_cost_their_nominal_rate() -> None:
    """(1) 100,000 yuan over 12 months at 6%, equal instalments (等额本息), no fees: 6.00%."""
    cost = all_in_cost(offer("100000.00", 12, "6", "equal_instalments"))
    r = Fraction(6, 100 * 12)
    payment = Fraction(100000) * r / (1 - (1 + r) ** -12)  # exact: 8606.6429…
    assert cost.schedule[0].payment == Decimal("8606.64") == round(Decimal(payment.numerator) / payment.denominator, 2)
    assert all(row.payment == Decimal("8606.64") for row in cost.schedule[:-1])
    assert cost.schedule[-1].payment == Decimal("8606.69")  # the last month clears the fen rounding left
    assert cost.schedule[-1].balance == Decimal("0.00")
    assert sum(row.principal for row in cost.schedule) == Decimal("100000.00")
    assert cost.total_interest == Decimal("3279.73") == 11 * Decimal("8606.64") + Decimal("8606.69") - 100000
    assert cost.total_fees == Decimal("0.00")
    assert cost.total_cost == cost.total_interest
    assert cost.annual_rate == Decimal("6.00")
    assert cost.effective_annual_rate == Decimal("6.17")  # (1 + 0.5%)^12 − 1
    assert_rate_is_the_root(cost)


def test_a_monthly_fee_of_one_percent_costs_21_46_percent_a_year() -> None:
    """(2) The "月费率 1%" loan of the PBoC's notice: 12,000 yuan, 1,000 of principal a month and
    a fee of 1% of the principal (120 yuan) each month. The 12% it seems to cost is the fee on the
    whole principal while half of it, on average, has been repaid: 21.46% a year by IRR."""
    cost = all_in_cost(offer("12000", 12, "0", "equal_principal", [fee("service", "percent", "1", "monthly")]))
    assert [row.payment for row in cost.schedule] == [Decimal("1120.00")] * 12
    assert cost.cash_flows[0] == Decimal("12000.00")
    assert cost.total_interest == Decimal("0.00")
    assert cost.total_fees == cost.total_cost == Decimal("1440.00")
    assert cost.annual_rate == Decimal("21.46")
    assert cost.effective_annual_rate == Decimal("23.70")  # (1 + i)^12 − 1, shown beside it
    assert_rate_is_the_root(cost)


def test_a_flat_fee_of_100_yuan_a_month_on_12000_costs_17_97_percent() -> None:
    """The same loan with a flat 100 yuan a month (0.83% a month on the principal): 17.97%."""
    cost = all_in_cost(offer("12000", 12, "0", "equal_principal", [fee("service", "flat", "100", "monthly")]))
    assert [row.payment for row in cost.schedule] == [Decimal("1100.00")] * 12
    assert cost.total_fees == Decimal("1200.00")
    assert cost.annual_rate == Decimal("17.97")
    assert_rate_is_the_root(cost)


def test_a_guarantee_fee_up_front_raises_an_interest_only_loan_from_4_35_to_6_42_percent() -> None:
    """(3) 1,000,000 yuan for 12 months at 4.35%, interest monthly and the principal at the end
    (先息后本), with a guarantee fee of 2% of the principal a year paid up front: the borrower
    receives 980,000, pays 3,625 of interest a month and 1,000,000 with the last: 6.42%."""
    cost = all_in_cost(
        offer("1000000", 12, "4.35", "interest_only", [fee("guarantee", "percent_per_year", "2", "upfront")])
    )
    assert cost.received == Decimal("980000.00")
    assert cost.upfront_fees == Decimal("20000.00")
    assert [row.payment for row in cost.schedule] == [Decimal("3625.00")] * 11 + [Decimal("1003625.00")]
    assert cost.total_interest == Decimal("43500.00")
    assert cost.total_fees == Decimal("20000.00")
    assert cost.total_cost == Decimal("63500.00")
    assert cost.annual_rate == Decimal("6.42")
    assert_rate_is_the_root(cost)
    without = all_in_cost(offer("1000000", 12, "4.35", "interest_only"))
    assert without.annual_rate == Decimal("4.35")
    assert_rate_is_the_root(without)


def test_the_guarantee_fee_paid_monthly_costs_less_than_paid_up_front() -> None:
    """The same fee spread over the months (1,666.67 a month) costs less: the borrower keeps the money longer."""
    monthly = all_in_cost(
        offer("1000000", 12, "4.35", "interest_only", [fee("guarantee", "percent_per_year", "2", "monthly")])
    )
    assert monthly.schedule[0].fees == Decimal("1666.67")
    assert monthly.annual_rate == Decimal("6.35")
    assert_rate_is_the_root(monthly)


def test_equal_principal_pays_interest_on_the_balance_and_costs_its_nominal_rate() -> None:
    """(4) 120,000 yuan over 12 months at 6%, equal principal (等额本金): 10,000 of principal a
    month, interest 600, 550, … 50 on the balance (3,900 in all): 6.00%. With an arrangement fee
    of 1% up front (1,200 yuan) it costs 7.90%."""
    cost = all_in_cost(offer("120000", 12, "6", "equal_principal"))
    assert [row.principal for row in cost.schedule] == [Decimal("10000.00")] * 12
    assert [row.interest for row in cost.schedule] == [Decimal(f"{50 * k}.00") for k in range(12, 0, -1)]
    assert cost.total_interest == Decimal("3900.00")
    assert cost.annual_rate == Decimal("6.00")
    assert_rate_is_the_root(cost)
    arranged = all_in_cost(offer("120000", 12, "6", "equal_principal", [fee("arrangement", "percent", "1", "upfront")]))
    assert arranged.received == Decimal("118800.00")
    assert arranged.total_cost == Decimal("5100.00")
    assert arranged.annual_rate == Decimal("7.90")
    assert_rate_is_the_root(arranged)


def test_a_bullet_loan_costs_less_than_its_simple_rate_by_the_monthly_convention() -> None:
    """Principal and simple interest in one payment after 12 months at 4.35%: the monthly IRR
    times 12 is 12 × ((1.0435)^(1/12) − 1) = 4.27%, its effective rate the 4.35% itself."""
    cost = all_in_cost(offer("1000000", 12, "4.35", "bullet"))
    assert [row.payment for row in cost.schedule] == [Decimal("0.00")] * 11 + [Decimal("1043500.00")]
    assert cost.annual_rate == Decimal("4.27")
    assert cost.effective_annual_rate == Decimal("4.35")
    assert_rate_is_the_root(cost)


def test_a_thirty_year_loan_with_a_monthly_guarantee_fee() -> None:
    cost = all_in_cost(
        offer("1000000", 360, "4.9", "equal_instalments", [fee("guarantee", "percent_per_year", "1", "monthly")])
    )
    assert len(cost.schedule) == 360
    assert cost.schedule[0].principal + cost.schedule[0].interest == Decimal("5307.27")
    assert cost.schedule[-1].balance == Decimal("0.00")
    assert cost.annual_rate == Decimal("6.22")
    assert_rate_is_the_root(cost)


def test_a_loan_at_no_interest_and_no_fee_costs_nothing() -> None:
    cost = all_in_cost(offer("1000", 7, "0", "equal_instalments"))
    assert cost.annual_rate == Decimal("0.00")
    assert cost.monthly_rate == 0
    assert [row.payment for row in cost.schedule] == [Decimal("142.86")] * 6 + [Decimal("142.84")]


def test_the_answer_as_json_is_decimal_strings() -> None:
    cost = all_in_cost(offer("12000", 12, "0", "equal_principal", [fee("service", "percent", "1", "monthly")]))
    answer = cost.to_json()
    assert answer["annual_rate"] == "21.46"
    assert answer["total_cost"] == "1440.00"
    assert answer["received"] == "12000.00"
    assert answer["schedule"][0] == {
        "month": 1,
        "principal": "1000.00",
        "interest": "0.00",
        "fees": "120.00",
        "payment": "1120.00",
        "balance": "11000.00",
    }


# The solver -----------------------------------------------------------------------------------


def test_irr_of_a_known_annuity() -> None:
    """1,000 received, 110 a month for 10 months: 1.77154% a month (a spreadsheet's
    RATE(10, -110, 1000) = 0.0177154269)."""
    rate = irr((Decimal(1000), *[Decimal(-110)] * 10))
    assert abs(rate - Decimal("0.0177154269")) < Decimal("1e-10")
    assert abs(npv(rate, (Decimal(1000), *[Decimal(-110)] * 10))) < Decimal("1e-7")


@pytest.mark.parametrize(
    "flows",
    [(), (Decimal(-1), Decimal(2)), (Decimal(10), Decimal(5)), (Decimal(10), Decimal(-5))],
)
def test_irr_refuses_flows_that_are_not_a_borrowers(flows: tuple[Decimal, ...]) -> None:
    with pytest.raises(ValueError):
        irr(flows)


def test_irr_finds_rates_above_100_percent_a_month() -> None:
    """The bracket grows until it holds the root: 100 received, 400 repaid after a month: 300%."""
    assert abs(irr((Decimal(100), Decimal(-400))) - 3) < Decimal("1e-10")


# Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "code", "where"),
    [
        (("0", 12, "6", "equal_instalments"), "rule/amount-positive", "principal"),
        ((1000.0, 12, "6", "equal_instalments"), "rule/amount-invalid", "principal"),
        (("1000", 0, "6", "equal_instalments"), "rule/term-invalid", "term_months"),
        (("1000", 361, "6", "equal_instalments"), "rule/term-invalid", "term_months"),
        (("1000", "12", "6", "equal_instalments"), "rule/term-invalid", "term_months"),
        (("1000", True, "6", "equal_instalments"), "rule/term-invalid", "term_months"),
        (("1000", 12, "36.0001", "equal_instalments"), "rule/rate-cap", "annual_rate"),
        (("1000", 12, "-0.01", "equal_instalments"), "rule/rate-cap", "annual_rate"),
        (("1000", 12, "4.35001", "equal_instalments"), "rule/rate-invalid", "annual_rate"),
        (("1000", 12, 4.35, "equal_instalments"), "rule/rate-invalid", "annual_rate"),
        (("1000", 12, "NaN", "equal_instalments"), "rule/rate-invalid", "annual_rate"),
        (("1000", 12, "4e1", "equal_instalments"), "rule/rate-invalid", "annual_rate"),
        (("1000", 12, "6", "balloon"), "rule/repayment-method", "repayment_method"),
    ],
)
def test_an_offer_out_of_bounds_is_refused(arguments: tuple[Any, ...], code: str, where: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        offer(*arguments)
    assert refused.value.code == code
    assert refused.value.extra["where"] == where


def test_the_bounds_themselves_are_accepted() -> None:
    assert offer("0.01", 1, "0", "bullet").term_months == 1
    assert offer("999999999999.99", 360, "36", "equal_principal").annual_rate == Decimal(36)


@pytest.mark.parametrize(
    ("raw", "code", "where"),
    [
        ({"kind": "guarantee"}, "rule/fee-invalid", "fees[0]"),
        ("2%", "rule/fee-invalid", "fees[0]"),
        (fee("stamp_duty", "flat", "5", "upfront"), "rule/fee-kind", "fees[0].kind"),
        (fee("arrangement", "percent_per_year", "1", "upfront"), "rule/fee-basis", "fees[0].basis"),
        (fee("service", "daily", "1", "upfront"), "rule/fee-basis", "fees[0].basis"),
        (fee("arrangement", "flat", "500", "monthly"), "rule/fee-timing", "fees[0].timing"),
        (fee("service", "flat", "-1", "upfront"), "rule/fee-negative", "fees[0].value"),
        (fee("service", "percent", "-0.5", "monthly"), "rule/fee-negative", "fees[0].value"),
        (fee("service", "percent", "100.01", "upfront"), "rule/fee-too-large", "fees[0].value"),
        (fee("service", "flat", "1000000000000", "upfront"), "rule/fee-too-large", "fees[0].value"),
        (fee("service", "flat", "1.001", "upfront"), "rule/fee-invalid", "fees[0].value"),
        (fee("service", "percent", "0.00001", "upfront"), "rule/fee-invalid", "fees[0].value"),
        ({**fee("service", "flat", "1", "upfront"), "value": 1.5}, "rule/fee-invalid", "fees[0].value"),
    ],
)
def test_a_fee_out_of_bounds_is_refused(raw: object, code: str, where: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        offer("1000", 12, "6", "equal_instalments", [raw])
    assert refused.value.code == code
    assert refused.value.extra["where"] == where


def test_a_fee_is_read_back_from_its_json() -> None:
    checked = check_fee(fee("guarantee", "percent_per_year", "1.5", "monthly"))
    assert checked == Fee("guarantee", "percent_per_year", Decimal("1.5"), "monthly")
    assert check_fee(checked.to_json()) == checked
    assert check_fee(fee("service", "flat", "80", "monthly")).to_json()["value"] == "80.00"


def test_fees_up_front_that_leave_nothing_are_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        all_in_cost(offer("1000", 12, "6", "bullet", [fee("arrangement", "flat", "1000", "upfront")]))
    assert refused.value.code == "rule/fees-exceed-principal"
    assert "1000.00" in str(refused.value.detail)


# Properties -----------------------------------------------------------------------------------

principals = st.decimals(min_value=Decimal("10000"), max_value=Decimal("100000000"), places=2)
terms = st.integers(min_value=1, max_value=360)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("36"), places=2)
fees = st.one_of(
    st.builds(
        lambda kind, timing, value: fee(kind, "percent_per_year", str(value), timing),
        st.just("guarantee"),
        st.sampled_from(["upfront", "monthly"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5"), places=2),
    ),
    st.builds(
        lambda timing, value: fee("service", "flat", str(value), timing),
        st.sampled_from(["upfront", "monthly"]),
        st.decimals(min_value=Decimal("1"), max_value=Decimal("500"), places=2),
    ),
    st.builds(
        lambda value: fee("arrangement", "percent", str(value), "upfront"),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3"), places=2),
    ),
)


def payable(terms: Offer) -> AllInCost:
    """The cost of ``terms``; an offer whose up-front fees eat the principal (a guarantee fee a
    year for 30 years, paid at once) is refused, and is no case of these properties."""
    try:
        return all_in_cost(terms)
    except RuleViolation as refused:
        assert refused.code == "rule/fees-exceed-principal"
        assume(False)
        raise


methods = st.sampled_from(["equal_instalments", "equal_principal", "interest_only", "bullet"])


@settings(max_examples=60, deadline=None)
@given(principals, terms, rates)
def test_equal_instalments_without_fees_cost_exactly_their_rate(principal: Decimal, term: int, rate: Decimal) -> None:
    assert all_in_cost(offer(principal, term, rate, "equal_instalments")).annual_rate == rate


@settings(max_examples=60, deadline=None)
@given(principals, terms, rates, methods, fees)
def test_a_fee_never_lowers_the_all_in_cost(
    principal: Decimal, term: int, rate: Decimal, method: str, extra: dict[str, str]
) -> None:
    bare = all_in_cost(offer(principal, term, rate, method))
    charged = payable(offer(principal, term, rate, method, [extra]))
    assert charged.monthly_rate >= bare.monthly_rate
    assert charged.annual_rate >= bare.annual_rate
    assert charged.total_cost > bare.total_cost


@settings(max_examples=60, deadline=None)
@given(principals, terms, rates, rates, methods, st.lists(fees, max_size=2))
def test_the_all_in_cost_grows_with_the_rate(
    principal: Decimal, term: int, one: Decimal, other: Decimal, method: str, extra: list[dict[str, str]]
) -> None:
    low, high = sorted((one, other))
    assert (
        payable(offer(principal, term, low, method, extra)).annual_rate
        <= payable(offer(principal, term, high, method, extra)).annual_rate
    )


@settings(max_examples=60, deadline=None)
@given(principals, terms, rates, methods, st.lists(fees, max_size=3))
def test_the_answer_is_the_root_of_the_borrowers_flows(
    principal: Decimal, term: int, rate: Decimal, method: str, extra: list[dict[str, str]]
) -> None:
    cost = payable(offer(principal, term, rate, method, extra))
    assert cost.schedule[-1].balance == 0
    assert sum(row.principal for row in cost.schedule) == principal
    assert sum(cost.cash_flows) == -cost.total_cost
    assert (
        float_npv(float(cost.annual_rate) - 0.01, cost.cash_flows)
        < 0
        < float_npv(float(cost.annual_rate) + 0.01, cost.cash_flows)
        or cost.annual_rate == 0
    )
    assert cost.annual_rate == (cost.monthly_rate * PERIODS_PER_YEAR * 100).quantize(Decimal("0.01"))
