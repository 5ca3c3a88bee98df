"""Eligibility: a product's rules checked, and every failure of a profile named at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.finance.rules.eligibility import (
    EligibilityRules,
    Profile,
    Range,
    check_eligibility,
    check_rules,
    years_in_park,
)
from shared.errors import RuleViolation
from shared.i18n import render

TODAY = date(2026, 11, 30)
RULES = check_rules(
    {
        "sectors": ["biomedicine", "health_it"],
        "min_years_in_park": 2,
        "revenue": {"min": "1000000", "max": "50000000"},
        "employees": {"min": 10, "max": 300},
        "min_granted_patents": 1,
    }
)
FITTING = Profile(
    sector="health_it",
    moved_in_on=date(2024, 11, 30),
    annual_revenue=Decimal("1000000.00"),
    employees=300,
    granted_patents=1,
)


def test_a_company_that_meets_every_rule_is_eligible() -> None:
    assert check_eligibility(RULES, FITTING, TODAY) == []


def test_a_product_without_rules_admits_anybody_even_with_an_empty_profile() -> None:
    assert check_eligibility(check_rules(None), Profile(), TODAY) == []
    assert check_eligibility(check_rules({}), Profile(), TODAY) == []


def test_every_failure_is_named_at_once_with_its_code_field_and_text() -> None:
    failing = Profile(
        sector="logistics",
        moved_in_on=date(2024, 12, 1),
        annual_revenue=Decimal("50000000.01"),
        employees=9,
        granted_patents=0,
    )
    failures = check_eligibility(RULES, failing, TODAY)
    assert [(f.code, f.field) for f in failures] == [
        ("rule/sector-not-eligible", "sector"),
        ("rule/years-in-park", "moved_in_on"),
        ("rule/revenue-out-of-range", "annual_revenue"),
        ("rule/employees-out-of-range", "employees"),
        ("rule/patents-too-few", "granted_patents"),
    ]
    assert [str(f.detail) for f in failures] == [
        "This product is for companies in biomedicine, health_it; the company's sector is logistics.",
        "This product needs 2 full years in the park; the company has 1.",
        "The annual revenue this product needs is from 1000000.00 to 50000000.00 yuan; "
        "the company's is 50000000.01 yuan.",
        "The head count this product needs is from 10 to 300; the company has 9 employees.",
        "This product needs at least 1 granted patent(s); the company has 0.",
    ]
    assert failures[0].to_json("en") == {
        "code": "rule/sector-not-eligible",
        "detail": "This product is for companies in biomedicine, health_it; the company's sector is logistics.",
        "field": "sector",
    }


def test_what_the_profile_does_not_say_is_a_failure_of_each_rule_that_needs_it() -> None:
    failures = check_eligibility(RULES, Profile(sector="health_it"), TODAY)
    assert [(f.code, f.field) for f in failures] == [
        ("rule/profile-incomplete", "moved_in_on"),
        ("rule/profile-incomplete", "annual_revenue"),
        ("rule/profile-incomplete", "employees"),
        ("rule/profile-incomplete", "granted_patents"),
    ]


def test_open_ended_ranges_name_their_one_bound() -> None:
    rules = check_rules({"revenue": {"min": "500000"}, "employees": {"max": 50}})
    failures = check_eligibility(rules, Profile(annual_revenue=Decimal("499999.99"), employees=51), TODAY)
    assert [str(f.detail) for f in failures] == [
        "The annual revenue this product needs is at least 500000.00 yuan; the company's is 499999.99 yuan.",
        "The head count this product needs is at most 50; the company has 51 employees.",
    ]
    assert check_eligibility(rules, Profile(annual_revenue=Decimal("500000.00"), employees=50), TODAY) == []


@pytest.mark.parametrize(
    ("moved_in_on", "today", "years"),
    [
        (date(2024, 3, 15), date(2025, 3, 14), 0),
        (date(2024, 3, 15), date(2025, 3, 15), 1),
        (date(2024, 2, 29), date(2025, 2, 28), 0),
        (date(2024, 2, 29), date(2025, 3, 1), 1),
        (date(2024, 2, 29), date(2028, 2, 29), 4),
        (date(2027, 1, 1), date(2026, 11, 30), 0),  # moving in later: none yet, never negative
    ],
)
def test_years_in_the_park_are_counted_by_anniversaries(moved_in_on: date, today: date, years: int) -> None:
    assert years_in_park(moved_in_on, today) == years


@pytest.mark.parametrize(
    ("raw", "code", "where"),
    [
        ([], "rule/eligibility-invalid", "eligibility"),
        ({"turnover": {"min": "1"}}, "rule/eligibility-invalid", "eligibility"),
        ({"sectors": "biomedicine"}, "rule/eligibility-invalid", "eligibility.sectors"),
        ({"sectors": ["Bio Medicine"]}, "rule/eligibility-invalid", "eligibility.sectors"),
        ({"min_years_in_park": -1}, "rule/eligibility-invalid", "eligibility.min_years_in_park"),
        ({"min_years_in_park": 1.5}, "rule/eligibility-invalid", "eligibility.min_years_in_park"),
        ({"min_years_in_park": True}, "rule/eligibility-invalid", "eligibility.min_years_in_park"),
        ({"revenue": {}}, "rule/eligibility-invalid", "eligibility.revenue"),
        ({"revenue": {"least": "1"}}, "rule/eligibility-invalid", "eligibility.revenue"),
        ({"revenue": {"min": 1e6}}, "rule/eligibility-invalid", "eligibility.revenue.min"),
        ({"revenue": {"min": "-1"}}, "rule/eligibility-invalid", "eligibility.revenue.min"),
        ({"revenue": {"min": "2", "max": "1"}}, "rule/eligibility-range", "eligibility.revenue"),
        ({"employees": {"min": 10, "max": 9}}, "rule/eligibility-range", "eligibility.employees"),
        ({"employees": {"min": "10"}}, "rule/eligibility-invalid", "eligibility.employees.min"),
        ({"min_granted_patents": "1"}, "rule/eligibility-invalid", "eligibility.min_granted_patents"),
    ],
)
def test_rules_out_of_shape_are_refused(raw: Any, code: str, where: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_rules(raw)
    assert refused.value.code == code
    assert refused.value.extra["where"] == where


def test_rules_read_back_from_their_json() -> None:
    assert check_rules(RULES.to_json()) == RULES
    assert RULES.to_json()["revenue"] == {"min": "1000000.00", "max": "50000000.00"}
    assert check_rules({"employees": {"min": 5}}) == EligibilityRules(employees=Range(5, None))
    assert check_rules({"employees": {"min": 5, "max": None}}).to_json() == {"employees": {"min": 5}}


def test_a_failure_reads_in_chinese() -> None:
    failures = check_eligibility(check_rules({"min_granted_patents": 2}), Profile(granted_patents=1), TODAY)
    assert render(failures[0].detail, "zh") == "该产品要求至少2项已授权专利；该企业有1项。"
