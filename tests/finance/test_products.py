"""Products: their terms checked, subsidy windows read in park time, a request's every misfit named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.finance.rules import names
from services.finance.rules.products import (
    PRODUCT_KINDS,
    WINDOW_STATES,
    ProductTerms,
    check_request,
    check_terms,
    check_window,
    request_failures,
    window_state,
)
from shared.clock import PARK_TZ
from shared.errors import RuleViolation
from shared.i18n import label, render

OPENS = datetime(2026, 3, 1, 9, 0, tzinfo=PARK_TZ)
CLOSES = datetime(2026, 3, 31, 17, 0, tzinfo=PARK_TZ)
CALL = check_window(OPENS, CLOSES, 5)
MONTHLY_FEE = {"kind": "service", "basis": "flat", "value": "50", "timing": "monthly"}


def loan(**changes: Any) -> ProductTerms:
    terms: dict[str, Any] = {
        "amount_min": "100000",
        "amount_max": "5000000",
        "term_min": 6,
        "term_max": 36,
        "rate_min": "3.45",
        "rate_max": "6.5",
        "fees": [{"kind": "guarantee", "basis": "percent_per_year", "value": "1.5", "timing": "upfront"}],
    }
    terms.update(changes)
    return check_terms(terms.pop("kind", "guaranteed_loan"), **terms)


def test_a_product_is_answered_checked_and_normalised() -> None:
    product = loan(eligibility={"sectors": ["biomedicine"], "min_years_in_park": 1})
    assert product.amount_min == Decimal("100000.00")
    assert product.rate_max == Decimal("6.5")
    assert product.to_json() == {
        "kind": "guaranteed_loan",
        "amount": {"min": "100000.00", "max": "5000000.00", "currency": "CNY"},
        "term_months": {"min": 6, "max": 36},
        "rate": {"min": "3.45", "max": "6.5"},
        "fees": [{"kind": "guarantee", "basis": "percent_per_year", "value": "1.5", "timing": "upfront"}],
        "eligibility": {"sectors": ["biomedicine"], "min_years_in_park": 1},
    }


def test_ranges_may_be_a_single_value() -> None:
    product = loan(amount_min="500000", amount_max="500000", term_min=12, term_max=12, rate_min="0", rate_max="0")
    assert request_failures(product, Decimal("500000.00"), 12, OPENS) == []


@pytest.mark.parametrize(
    ("changes", "code", "where"),
    [
        ({"kind": "crowdfunding"}, "rule/product-kind", "kind"),
        ({"amount_min": "5000001"}, "rule/amount-range", "amount_min"),
        ({"term_min": 37}, "rule/term-range", "term_min"),
        ({"rate_min": "6.51"}, "rule/rate-range", "rate_min"),
        ({"amount_min": "0"}, "rule/amount-positive", "amount_min"),
        ({"amount_max": 5e6}, "rule/amount-invalid", "amount_max"),
        ({"term_max": 361}, "rule/term-invalid", "term_max"),
        ({"rate_max": "37"}, "rule/rate-cap", "rate_max"),
        ({"fees": [{**MONTHLY_FEE, "value": "-5"}]}, "rule/fee-negative", "fees[0].value"),
        ({"eligibility": {"sectors": []}}, "rule/eligibility-invalid", "eligibility.sectors"),
    ],
)
def test_a_product_out_of_shape_is_refused(changes: dict[str, Any], code: str, where: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        loan(**changes)
    assert refused.value.code == code
    assert refused.value.extra["where"] == where


# Windows --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (OPENS - timedelta(seconds=1), "not_open"),
        (OPENS, "open"),
        (datetime(2026, 3, 1, 1, 0, tzinfo=UTC), "open"),  # 09:00 in the park
        (datetime(2026, 3, 1, 0, 59, tzinfo=UTC), "not_open"),  # 08:59 in the park
        (CLOSES - timedelta(seconds=1), "open"),
        (CLOSES, "grace"),
        (datetime(2026, 4, 5, 16, 59, tzinfo=PARK_TZ), "grace"),
        (datetime(2026, 4, 5, 17, 0, tzinfo=PARK_TZ), "closed"),
        (datetime(2026, 4, 5, 9, 0, tzinfo=UTC), "closed"),  # 17:00 in the park
    ],
)
def test_a_window_is_read_in_park_time(now: datetime, state: str) -> None:
    assert window_state(CALL, now) == state
    assert state in WINDOW_STATES


def test_a_window_without_grace_closes_at_its_closing() -> None:
    window = check_window(OPENS, CLOSES)
    assert window_state(window, CLOSES - timedelta(microseconds=1)) == "open"
    assert window_state(window, CLOSES) == "closed"


def test_a_naive_moment_is_a_bug() -> None:
    with pytest.raises(ValueError, match="aware"):
        window_state(CALL, datetime(2026, 3, 10, 12, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ((CLOSES, OPENS, 0), "rule/window-order"),
        ((OPENS, OPENS, 0), "rule/window-order"),
        ((OPENS, CLOSES, -1), "rule/window-grace"),
        ((OPENS, CLOSES, 91), "rule/window-grace"),
        ((OPENS, CLOSES, True), "rule/window-grace"),
        ((OPENS, CLOSES, 1.5), "rule/window-grace"),
        ((datetime(2026, 3, 1, 9, 0), CLOSES, 0), "rule/window-invalid"),  # noqa: DTZ001
        ((OPENS, "2026-03-31", 0), "rule/window-invalid"),
    ],
)
def test_a_window_out_of_shape_is_refused(arguments: tuple[Any, ...], code: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_window(*arguments)
    assert refused.value.code == code


# Requests -------------------------------------------------------------------------------------


def test_a_request_inside_every_range_fits() -> None:
    assert request_failures(loan(), Decimal("100000.00"), 6, OPENS) == []
    assert request_failures(loan(), Decimal("5000000.00"), 36, OPENS) == []
    check_request(loan(), Decimal("300000.00"), 12, OPENS)


def test_every_misfit_of_a_request_is_named_at_once() -> None:
    subsidy = loan(kind="subsidy", window=CALL)
    after = datetime(2026, 5, 1, 9, 0, tzinfo=PARK_TZ)
    failures = request_failures(subsidy, Decimal("99999.99"), 37, after)
    assert [(f.code, f.field) for f in failures] == [
        ("rule/amount-out-of-range", "amount"),
        ("rule/term-out-of-range", "term_months"),
        ("rule/window-closed", "window"),
    ]
    assert (
        str(failures[0].detail)
        == "This product is for amounts from 100000.00 to 5000000.00 yuan; 99999.99 yuan is outside."
    )
    assert str(failures[1].detail) == "This product runs from 6 to 36 months; 37 months is outside."
    assert str(failures[2].detail) == "This call closed for applications at 2026-03-31 17:00 (park time)."
    with pytest.raises(RuleViolation) as refused:
        check_request(subsidy, Decimal("99999.99"), 37, after)
    assert refused.value.code == "rule/amount-out-of-range"
    assert refused.value.extra["failures"] == [
        {"code": "rule/amount-out-of-range", "field": "amount"},
        {"code": "rule/term-out-of-range", "field": "term_months"},
        {"code": "rule/window-closed", "field": "window"},
    ]


def test_a_call_not_open_yet_says_when_it_opens() -> None:
    failures = request_failures(loan(kind="subsidy", window=CALL), Decimal("200000"), 12, OPENS - timedelta(days=1))
    assert [f.code for f in failures] == ["rule/window-not-open"]
    assert str(failures[0].detail) == "This call opens for applications at 2026-03-01 09:00 (park time)."


def test_in_the_grace_period_only_a_draft_begun_before_the_closing_may_be_submitted() -> None:
    subsidy = loan(kind="subsidy", window=CALL)
    in_grace = CLOSES + timedelta(days=2)
    assert request_failures(subsidy, Decimal("200000"), 12, in_grace, drafted_at=CLOSES - timedelta(hours=1)) == []
    late = request_failures(subsidy, Decimal("200000"), 12, in_grace, drafted_at=CLOSES)
    assert [f.code for f in late] == ["rule/window-closed"]
    assert [f.code for f in request_failures(subsidy, Decimal("200000"), 12, in_grace)] == ["rule/window-closed"]
    after_grace = CALL.grace_ends_at
    begun_in_time = request_failures(subsidy, Decimal("200000"), 12, after_grace, drafted_at=OPENS)
    assert [f.code for f in begun_in_time] == ["rule/window-closed"]


# Names ----------------------------------------------------------------------------------------


def test_every_kind_and_state_has_its_name_in_both_languages() -> None:
    for kind in PRODUCT_KINDS:
        assert label(names.PRODUCT_KIND, kind) != kind
    for state in WINDOW_STATES:
        assert label(names.WINDOW_STATE, state) != state
    assert render(label(names.PRODUCT_KIND, "ip_pledge_loan"), "en") == "IP-pledge loan"
    assert render(label(names.PRODUCT_KIND, "ip_pledge_loan"), "zh") == "知识产权质押贷款"
    assert render(label(names.REPAYMENT_METHOD, "equal_instalments"), "zh") == "等额本息"
    assert render(label(names.REPAYMENT_METHOD, "equal_principal"), "zh") == "等额本金"
    assert render(label(names.REPAYMENT_METHOD, "interest_only"), "zh") == "先息后本"
