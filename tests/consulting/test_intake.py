"""Intake forms (rules/intake.py): definitions refused with where the fault is, answers cleaned or
refused all at once, and the property that answers built from a valid form always pass."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.consulting.rules.intake import (
    DEFAULT_MAX_LENGTH,
    FIELD_TYPES,
    check_answers,
    check_intake_fields,
    phone_number,
)
from shared.errors import RuleViolation
from shared.identifiers import credit_code_valid


def field(code: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"code": code, "label": code.title(), "label_zh": "中文" + code, "type": kind, **more}


CHOICES = [
    {"code": "labour", "label": "Labour", "label_zh": "劳动"},
    {"code": "supply", "label": "Supply", "label_zh": "供货"},
    {"code": "lease", "label": "Lease", "label_zh": "租赁"},
]

FORM = check_intake_fields(
    [
        field("summary", "text", required=True, max_length=50),
        field("details", "long_text"),
        field("pages", "integer", min=1, max=500),
        field("amount", "number", min="0", max="1000000.50"),
        field("deadline", "date", min="2026-01-01", max="2030-12-31"),
        field("urgent", "boolean", required=True),
        field("contract_type", "choice", choices=CHOICES, required=True),
        field("parties", "multi_choice", choices=CHOICES),
        field("email", "email"),
        field("phone", "phone"),
        field("credit_code", "credit_code"),
    ]
)


def refusal(error: pytest.ExceptionInfo[RuleViolation]) -> dict[str, list[str]]:
    return {key: [str(text) for text in texts] for key, texts in error.value.extra["errors"].items()}


# Definitions -----------------------------------------------------------------------------------


def test_a_definition_is_normalised() -> None:
    fields = check_intake_fields(
        [
            {"code": "name", "label": " Name ", "label_zh": "名称", "type": "text"},
            {"code": "size", "label": "Size", "label_zh": "规模", "type": "number", "min": 0.5, "required": True},
        ]
    )
    assert fields == [
        {"code": "name", "label": "Name", "label_zh": "名称", "type": "text", "required": False, "max_length": 200},
        {"code": "size", "label": "Size", "label_zh": "规模", "type": "number", "required": True, "min": "0.5"},
    ]
    assert check_intake_fields(fields) == fields  # normalising twice changes nothing
    assert check_intake_fields([]) == []


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ("not a list", "intake_fields"),
        ([field("a", "text"), field("a", "integer")], "intake_fields.1.code"),
        ([field("Contract-Type", "text")], "intake_fields.0.code"),
        ([field("a__b", "text")], "intake_fields.0.code"),
        ([field("a", "colour")], "intake_fields.0.type"),
        ([field("a", "choice")], "intake_fields.0.choices"),
        ([field("a", "multi_choice", choices=[])], "intake_fields.0.choices"),
        ([field("a", "choice", choices=[CHOICES[0], CHOICES[0]])], "intake_fields.0.choices.1.code"),
        ([field("a", "choice", choices=[{"code": "x", "label": "X"}])], "intake_fields.0.choices.0.label_zh"),
        ([field("a", "integer", min=5, max=4)], "intake_fields.0.min"),
        ([field("a", "integer", min=1.5)], "intake_fields.0.min"),
        ([field("a", "number", min="1e400")], "intake_fields.0.min"),
        ([field("a", "date", min="2027-01-01", max="2026-12-31")], "intake_fields.0.min"),
        ([field("a", "date", max="31/12/2026")], "intake_fields.0.max"),
        ([field("a", "text", max_length=0)], "intake_fields.0.max_length"),
        ([field("a", "text", choices=CHOICES)], "intake_fields.0"),
        ([{**field("a", "text"), "label_zh": "  "}], "intake_fields.0.label_zh"),
        ([{"code": "a", "label": "A", "type": "text"}], "intake_fields.0.label_zh"),
        ([field("a", "text", required="yes")], "intake_fields.0.required"),
        ([field("a", "text", help="Hint")], "intake_fields.0.help_zh"),
        ([42], "intake_fields.0"),
        ([field(f"f{i}", "text") for i in range(51)], "intake_fields"),
    ],
)
def test_a_bad_definition_is_refused_naming_where(fields: Any, where: str) -> None:
    with pytest.raises(RuleViolation) as error:
        check_intake_fields(fields)
    assert error.value.code == "rule/intake-definition"
    assert error.value.status == 422
    assert where in error.value.extra["errors"]
    assert where in str(error.value.detail) or where.startswith(next(iter(error.value.extra["errors"])))


# Answers ---------------------------------------------------------------------------------------


def test_answers_are_cleaned() -> None:
    answers = check_answers(
        FORM,
        {
            "summary": "  Review our supply contract ",
            "pages": "12",
            "amount": 1500.5,
            "deadline": "2027-03-01",
            "urgent": False,
            "contract_type": "supply",
            "parties": ["lease", "labour"],
            "email": "Legal@Example.CN",
            "phone": "+86 138-0013-8000",
            "credit_code": "91350100m000100y43",
            "details": "",
        },
    )
    assert answers == {
        "summary": "Review our supply contract",
        "pages": 12,
        "amount": "1500.5",
        "deadline": "2027-03-01",
        "urgent": False,
        "contract_type": "supply",
        "parties": ["labour", "lease"],  # the form's order
        "email": "Legal@example.cn",
        "phone": "13800138000",
        "credit_code": "91350100M000100Y43",
    }


def test_every_bad_answer_is_reported_at_once() -> None:
    with pytest.raises(RuleViolation) as error:
        check_answers(
            FORM,
            {
                "summary": "x" * 51,
                "pages": 0,
                "amount": "-1",
                "deadline": "2031-01-01",
                "contract_type": "loan",
                "parties": ["labour", "labour"],
                "email": "not an address",
                "phone": "12345",
                "credit_code": "91350100M000100Y44",
                "colour": "red",
            },
        )
    assert error.value.code == "rule/intake-answers"
    assert error.value.status == 422
    errors = refusal(error)
    assert errors == {
        "answers.colour": ["This form has no such field."],
        "answers.summary": ["At most 50 characters."],
        "answers.pages": ["At least 1."],
        "answers.amount": ["At least 0."],
        "answers.deadline": ["At most 2030-12-31."],
        "answers.urgent": ["An answer is required."],
        "answers.contract_type": ["Not one of the choices: labour, supply, lease."],
        "answers.parties": ["A choice is given twice."],
        "answers.email": ["An email address is required."],
        "answers.phone": ["A mainland China mobile (11 digits) or landline number with its area code is required."],
        "answers.credit_code": ["A unified social credit code (18 characters, its check character right) is required."],
    }


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("summary", "two\nlines"),
        ("summary", 42),
        ("details", "x" * (DEFAULT_MAX_LENGTH["long_text"] + 1)),
        ("pages", True),
        ("pages", 2.5),
        ("pages", "12a"),
        ("amount", "NaN"),
        ("amount", "Infinity"),
        ("amount", "1.0000001"),
        ("amount", [1]),
        ("deadline", "2027-02-30"),
        ("deadline", "20270301"),
        ("urgent", "true"),
        ("contract_type", ["labour"]),
        ("parties", "labour"),
        ("parties", ["loan"]),
        ("email", "a@b"),
        ("phone", "0288-5123456"),
        ("phone", "010-12345678"),
        ("credit_code", "91350100M000100Y4"),
    ],
)
def test_a_wrong_value_is_refused(code: str, value: Any) -> None:
    answers: dict[str, Any] = {"summary": "s", "urgent": True, "contract_type": "labour", code: value}
    with pytest.raises(RuleViolation) as error:
        check_answers(FORM, answers)
    assert list(error.value.extra["errors"]) == [f"answers.{code}"]


def test_unanswered_optional_fields_are_left_out_and_required_ones_refused() -> None:
    assert check_answers(FORM, {"summary": "s", "urgent": False, "contract_type": "lease", "parties": []}) == {
        "summary": "s",
        "urgent": False,
        "contract_type": "lease",
    }
    with pytest.raises(RuleViolation) as error:
        check_answers(FORM, None)
    assert set(refusal(error)) == {"answers.summary", "answers.urgent", "answers.contract_type"}
    with pytest.raises(RuleViolation) as error:
        check_answers(FORM, ["summary"])
    assert "answers" in refusal(error)
    assert check_answers([], None) == {}


@pytest.mark.parametrize(
    ("written", "spelled"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("028-85123456", "028-85123456"),
        ("(028) 8512 3456", "028-85123456"),
        ("02885123456", "028-85123456"),
        ("+86 28 8512 3456", "028-85123456"),
        ("010 62345678", "010-62345678"),
        ("0831-2345678", "0831-2345678"),
        ("028-85123456-123", "028-85123456-123"),
        ("028-85123456转88", "028-85123456-88"),
    ],
)
def test_phone_numbers_have_one_spelling(written: str, spelled: str) -> None:
    assert phone_number(written) == spelled


@pytest.mark.parametrize("written", ["12800138000", "1380013800", "12345", "0288-5123456", "028-1234567", "abc"])
def test_not_a_phone_number(written: str) -> None:
    assert phone_number(written) is None


def test_credit_code_check_character() -> None:
    assert credit_code_valid("91350100M000100Y43")
    assert not credit_code_valid("91350100M000100Y44")
    assert not credit_code_valid("91350100M000100Y4I")  # I is not in the alphabet


def test_messages_render_in_chinese_inside_errors() -> None:
    with pytest.raises(RuleViolation) as error:
        check_answers(FORM, {"summary": "s", "urgent": True})
    texts = error.value.extra["errors"]["answers.contract_type"]
    assert texts[0].render("en") == "An answer is required."
    assert texts[0].render("zh") == "此项必填。"


# The property: answers made from a valid form always pass -------------------------------------

CODES = st.from_regex(r"[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,4})?", fullmatch=True)


@st.composite
def field_and_answer(draw: st.DrawFn, code: str) -> tuple[dict[str, Any], Any]:
    kind = draw(st.sampled_from([t for t in FIELD_TYPES if t not in ("email", "phone", "credit_code")]))
    definition = field(code, kind, required=draw(st.booleans()))
    answer: Any
    if kind in ("text", "long_text"):
        definition["max_length"] = draw(st.integers(1, 300))
        alphabet = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
        answer = draw(st.text(alphabet, min_size=1, max_size=definition["max_length"]).filter(str.strip))
    elif kind == "integer":
        low = draw(st.integers(-(10**6), 10**6))
        high = draw(st.integers(low, low + 10**6))
        definition.update(min=low, max=high)
        answer = draw(st.integers(low, high) | st.integers(low, high).map(str))
    elif kind == "number":
        floor = draw(st.decimals(-(10**6), 10**6, places=2))
        ceiling = floor + draw(st.decimals(0, 10**6, places=2))
        definition.update(min=str(floor), max=str(ceiling))
        answer = str(draw(st.decimals(floor, ceiling, places=2)))
    elif kind == "date":
        first = draw(st.dates(date(2000, 1, 1), date(2090, 1, 1)))
        last = draw(st.dates(first, date(2099, 12, 31)))
        definition.update(min=first.isoformat(), max=last.isoformat())
        answer = draw(st.dates(first, last)).isoformat()
    elif kind == "boolean":
        answer = draw(st.booleans())
    else:
        codes = draw(st.lists(CODES, min_size=1, max_size=5, unique=True))
        definition["choices"] = [{"code": c, "label": c, "label_zh": "选" + c} for c in codes]
        if kind == "choice":
            answer = draw(st.sampled_from(codes))
        else:
            answer = draw(st.lists(st.sampled_from(codes), min_size=1, unique=True))
    return definition, answer


@st.composite
def forms(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    codes = draw(st.lists(CODES, min_size=0, max_size=8, unique=True))
    pairs = [draw(field_and_answer(code)) for code in codes]
    answered = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    answers = {d["code"]: a for (d, a), given_ in zip(pairs, answered, strict=True) if given_ or d["required"]}
    return [d for d, _ in pairs], answers


@settings(max_examples=200, deadline=None)
@given(forms())
def test_valid_answers_always_pass(form: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    fields, answers = form
    definition = check_intake_fields(fields)
    cleaned = check_answers(definition, answers)
    assert set(cleaned) == set(answers)
    for code, value in cleaned.items():
        kind = next(f["type"] for f in definition if f["code"] == code)
        if kind == "number":
            assert Decimal(value) == Decimal(answers[code])
        elif kind == "integer":
            assert value == int(answers[code])
    assert check_answers(definition, cleaned) == cleaned  # cleaning is idempotent
