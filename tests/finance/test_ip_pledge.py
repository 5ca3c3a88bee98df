"""IP-pledge pre-checks (services/finance/rules/ip_pledge.py): CNIPA patent numbers and their
check digit, tried on numbers published by their holders; each refusal of the pledge registration
named, all at once; the loan-to-value ratio in Decimal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.finance.rules.ip_pledge import (
    PATENT_CHECKS,
    Patent,
    add_months,
    check_digit,
    check_patents,
    loan_to_value,
    parse_patent_number,
)
from shared.errors import RuleViolation
from shared.i18n import render

PUBLISHED = [
    "ZL202010566088.9",
    "ZL201510958772.0",
    "ZL200510096239.4",
    "ZL202322865413.3",
    "ZL201811564288.X",
    "ZL202510942578.7",
    "ZL201710601862.3",
    "ZL01105715.7",
]
"""Patent numbers as their holders publish them (a university's, a company's pages; the last one
of 2001, before twelve-digit numbers); 201710601862.3 is the worked example of the algorithm's
description. Each has the check digit the weights 2…9, 2…5 modulo 11 give, one with X (10)."""


@pytest.mark.parametrize("number", PUBLISHED)
def test_published_numbers_have_the_check_digit_of_the_algorithm(number):
    digits, given = number[2:].split(".")
    assert check_digit(digits) == given
    assert parse_patent_number(number) == number


def test_the_check_digit_by_hand():
    # 2*2+0*3+1*4+7*5+1*6+0*7+6*8+0*9+1*2+8*3+6*4+2*5 = 157 = 14*11 + 3
    assert check_digit("201710601862") == "3"
    assert sum(int(d) * w for d, w in zip("201710601862", (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True)) == 157


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("zl202010566088.9", "ZL202010566088.9"),
        ("ZL 2020 1056 6088.9", "ZL202010566088.9"),
        ("202010566088.9", "ZL202010566088.9"),
        ("CN2020105660889", "ZL202010566088.9"),
        ("ＺＬ２０２０１０５６６０８８．９", "ZL202010566088.9"),
        ("zl201811564288.x", "ZL201811564288.X"),
    ],
)
def test_a_number_as_written_is_read_in_its_one_form(written, number):
    assert parse_patent_number(written) == number


def test_the_brief_s_example_number_has_a_wrong_check_digit():
    # ZL202310123456.7 is a made-up number: its digits give 6.
    assert check_digit("202310123456") == "6"
    with pytest.raises(RuleViolation) as refused:
        parse_patent_number("ZL202310123456.7")
    assert refused.value.code == "rule/patent-check-digit"
    assert parse_patent_number("ZL202310123456.6") == "ZL202310123456.6"


@pytest.mark.parametrize("digit", [d for d in "0123456789X" if d != "9"])
def test_every_other_check_digit_is_refused(digit):
    with pytest.raises(RuleViolation) as refused:
        parse_patent_number(f"ZL202010566088.{digit}")
    assert refused.value.code == "rule/patent-check-digit"


@pytest.mark.parametrize("text", ["", "ZL", "ZL2020105660.9", "ZL2020105660889.1", "ZLABCDEFGHIJKL.1", "US1234567.8"])
def test_what_is_not_a_patent_number(text):
    with pytest.raises(RuleViolation) as refused:
        parse_patent_number(text)
    assert refused.value.code == "rule/patent-number-format" and refused.value.status == 422
    assert "ZL202010566088.9" in render(refused.value.detail, "zh")


def test_check_digit_takes_digits_only():
    with pytest.raises(ValueError):
        check_digit("2020105660８８")


# The registration's refusals ------------------------------------------------------------------

TODAY = date(2026, 11, 30)
GOOD = Patent(
    number="ZL202010566088.9",
    title="Image processing method",
    holder="Suzhou Lumen Technology Co., Ltd.",
    granted_on=date(2022, 3, 1),
    expires_on=date(2040, 6, 10),
    fees_paid_until=date(2027, 6, 9),
)
APPLICANT = "Suzhou Lumen Technology Co., Ltd."


def check(*patents: Patent, term: int = 24, applicant: str = APPLICANT) -> list[tuple[str, str]]:
    failures = check_patents(patents, applicant=applicant, loan_start=TODAY, term_months=term, today=TODAY)
    return [(f.patent, f.code) for f in failures]


def test_a_good_patent_passes():
    assert check(GOOD) == []
    assert check(GOOD, applicant="  suzhou lumen technology co., ltd. ") == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"granted_on": None}, "rule/patent-not-granted"),
        ({"granted_on": date(2026, 12, 1)}, "rule/patent-not-granted"),
        ({"fees_paid_until": date(2026, 11, 29)}, "rule/patent-fees-unpaid"),
        ({"fees_paid_until": None}, "rule/patent-fees-unpaid"),
        ({"holder": "Wang Lei"}, "rule/patent-holder"),
        ({"pledges": ("Z2025320000123",)}, "rule/patent-pledged"),
        ({"expires_on": date(2028, 11, 29)}, "rule/patent-expires"),
    ],
)
def test_each_refusal_is_named(change, code):
    patent = Patent(**{**GOOD.__dict__, **change})
    failures = check_patents([patent], applicant=APPLICANT, loan_start=TODAY, term_months=24, today=TODAY)
    assert [f.code for f in failures] == [code]
    assert failures[0].patent == GOOD.number
    for locale in ("en", "zh"):
        assert GOOD.number in render(failures[0].message, locale)
    assert render(failures[0].message, "en") != render(failures[0].message, "zh")


def test_fees_paid_until_today_and_expiry_on_the_loan_s_last_day_pass():
    assert check(Patent(**{**GOOD.__dict__, "fees_paid_until": TODAY, "expires_on": date(2028, 11, 30)})) == []


def test_every_failure_of_every_patent_at_once():
    bad = Patent(
        number="ZL201811564288.X",
        title="Massive access",
        holder="Someone Else Ltd.",
        granted_on=None,
        expires_on=date(2027, 1, 1),
        fees_paid_until=None,
        pledges=("Z2024110000001",),
    )
    found = check(GOOD, bad, term=36)
    assert found == [(bad.number, code) for code in PATENT_CHECKS]


def test_a_pledge_lists_a_patent():
    with pytest.raises(RuleViolation) as refused:
        check_patents([], applicant=APPLICANT, loan_start=TODAY, term_months=12, today=TODAY)
    assert refused.value.code == "rule/patent-none"


@pytest.mark.parametrize(
    ("day", "months", "then"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 30), 24, date(2028, 11, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 5, 31), 360, date(2056, 5, 31)),
    ],
)
def test_months_on(day, months, then):
    assert add_months(day, months) == then


# Loan to value ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loan", "valuation", "ratio"),
    [
        ("3000000.00", "10000000.00", "30.00"),
        ("1000000.00", "3000000.00", "33.33"),
        ("2000000.00", "3000000.00", "66.67"),
        ("1.00", "800.00", "0.13"),  # 0.125 rounds half up
        ("0", "5000.00", "0.00"),
    ],
)
def test_loan_to_value_in_percent_with_two_places(loan, valuation, ratio):
    found = loan_to_value(Decimal(loan), Decimal(valuation))
    assert found == Decimal(ratio) and str(found) == ratio


@pytest.mark.parametrize("valuation", [Decimal("0"), Decimal("-1"), Decimal("NaN"), 1000.0])
def test_a_valuation_is_more_than_zero(valuation):
    with pytest.raises(RuleViolation) as refused:
        loan_to_value(Decimal("100"), valuation)
    assert refused.value.code == "rule/valuation-positive"


def test_a_loan_is_a_decimal():
    with pytest.raises(RuleViolation) as refused:
        loan_to_value(100.0, Decimal("1000"))  # type: ignore[arg-type]
    assert refused.value.code == "rule/loan-amount"
