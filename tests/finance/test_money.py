"""Money: yuan from decimal strings only, two places, every refusal with its code."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.finance.rules.money import MAX_AMOUNT, Money, format_amount, parse_amount, to_fen
from shared.errors import RuleViolation


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1200", Decimal("1200.00")),
        ("1200.5", Decimal("1200.50")),
        ("0.01", Decimal("0.01")),
        ("+7", Decimal("7.00")),
        ("0001200.00", Decimal("1200.00")),
        ("999999999999.99", MAX_AMOUNT),
        (42, Decimal("42.00")),
        (Decimal("3.10"), Decimal("3.10")),
    ],
)
def test_an_amount_is_read_with_two_places(text: object, amount: Decimal) -> None:
    parsed = parse_amount(text)
    assert parsed == amount
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1200.0, "rule/amount-invalid"),
        (0.1, "rule/amount-invalid"),
        (True, "rule/amount-invalid"),
        (None, "rule/amount-invalid"),
        ("NaN", "rule/amount-invalid"),
        ("Infinity", "rule/amount-invalid"),
        ("-inf", "rule/amount-invalid"),
        (Decimal("NaN"), "rule/amount-invalid"),
        (Decimal("Infinity"), "rule/amount-invalid"),
        ("1e5", "rule/amount-invalid"),
        ("1E+400", "rule/amount-invalid"),
        ("1_000", "rule/amount-invalid"),
        (" 12", "rule/amount-invalid"),
        ("12 ", "rule/amount-invalid"),
        ("", "rule/amount-invalid"),
        ("1,000.00", "rule/amount-invalid"),
        (".5", "rule/amount-invalid"),
        ("١٢", "rule/amount-invalid"),  # Arabic-Indic digits: Decimal() would take them
        ("9" * 41, "rule/amount-invalid"),
        ("1000000000000", "rule/amount-too-large"),
        ("9" * 40, "rule/amount-too-large"),
        (Decimal("1E+400"), "rule/amount-too-large"),
        (10**40, "rule/amount-too-large"),
        ("1.234", "rule/amount-places"),
        ("0.001", "rule/amount-places"),
        (Decimal("1E-400"), "rule/amount-places"),
        ("0", "rule/amount-positive"),
        ("0.00", "rule/amount-positive"),
        ("-0", "rule/amount-positive"),
        ("-5", "rule/amount-positive"),
    ],
)
def test_what_is_not_an_amount_is_refused_by_its_rule(value: object, code: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        parse_amount(value, where="principal")
    assert refused.value.code == code
    assert refused.value.extra["where"] == "principal"
    assert "principal" in str(refused.value.detail)


def test_zero_is_an_amount_where_allowed_and_a_negative_one_is_not() -> None:
    assert parse_amount("0", allow_zero=True) == Decimal("0.00")
    with pytest.raises(RuleViolation) as refused:
        parse_amount("-0.01", allow_zero=True)
    assert refused.value.code == "rule/amount-negative"


def test_money_is_json_as_a_string_with_two_places_and_its_currency() -> None:
    money = Money.of("1200.5")
    assert money.to_json() == {"amount": "1200.50", "currency": "CNY"}
    assert str(money) == "1200.50 CNY"
    assert (money + Money.of("0.50")).to_json()["amount"] == "1201.00"
    assert (money - Money.of("200.5")).amount == Decimal("1000.00")
    assert Money.of("100").times(Decimal("0.0435") / 12).amount == Decimal("0.36")  # 0.3625 → 0.36
    assert Money.zero().to_json() == {"amount": "0.00", "currency": "CNY"}


def test_money_never_leaves_cny_or_fen() -> None:
    with pytest.raises(ValueError, match="CNY"):
        Money(Decimal("1.00"), "USD")
    with pytest.raises(ValueError, match="two places"):
        Money(Decimal("1.005"))


def test_rounding_to_fen_is_half_up_and_formatting_has_no_exponent() -> None:
    assert to_fen(Decimal("0.005")) == Decimal("0.01")
    assert to_fen(Decimal("0.015")) == Decimal("0.02")  # half-even would give 0.02 too; 0.025 tells them apart
    assert to_fen(Decimal("0.025")) == Decimal("0.03")
    assert to_fen(Decimal("-0.005")) == Decimal("-0.01")
    assert format_amount(Decimal("1E+3")) == "1000.00"
    assert format_amount(Decimal("0")) == "0.00"


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2))
def test_every_amount_in_fen_reads_back_from_its_json(amount: Decimal) -> None:
    assert parse_amount(format_amount(amount)) == amount
    assert Money.of(Money(amount).to_json()["amount"]).amount == amount


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_text_is_an_amount_or_a_refusal_with_a_code(text: str) -> None:
    try:
        amount = parse_amount(text)
    except RuleViolation as refused:
        assert refused.code.startswith("rule/amount-")
    else:
        assert Decimal(0) < amount <= MAX_AMOUNT
