"""A service item's intake form: the questions a tenant answers when submitting a case. Pure.

A form is a list of field definitions (stored as JSON on the item)::

    {"code": "contract_type", "label": "Contract type", "label_zh": "合同类型", "type": "choice",
     "required": true, "choices": [{"code": "labour", "label": "Labour", "label_zh": "劳动"}]}

Every field has ``code`` (snake_case, unique in the form), ``label`` and ``label_zh`` (both
languages), ``type`` (:data:`FIELD_TYPES`) and ``required`` (default false); it may carry
``help``/``help_zh`` (a hint shown under the question, both or neither). By type:

- ``text`` (one line) and ``long_text``: ``max_length`` (default :data:`DEFAULT_MAX_LENGTH`, at
  most :data:`MAX_LENGTH_LIMIT`);
- ``integer`` and ``number`` (a decimal): ``min``/``max``; ``date`` (ISO ``yyyy-mm-dd``):
  ``min``/``max`` as ISO dates;
- ``choice`` and ``multi_choice``: ``choices``, each ``{"code", "label", "label_zh"}``;
- ``boolean``, ``email``, ``phone`` (a mainland China mobile or landline number) and
  ``credit_code`` (the 18-character unified social credit code of a Chinese organisation, which
  company registration, tax and licence work always asks for; its check character is verified).

:func:`check_intake_fields` refuses a bad definition (``rule/intake-definition``, 422) and answers
it normalised; :func:`check_answers` refuses a tenant's answers (``rule/intake-answers``, 422)
with every bad field at once in ``errors`` (``answers.<code>`` → texts) and answers them cleaned,
ready for JSON: integers as ``int``, numbers as decimal strings (``"12.50"``), dates as ISO
strings, phones and credit codes in one canonical spelling, multiple choices in the form's order.
An unanswered optional field is left out of the cleaned answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import RuleViolation
from shared.i18n import Message, _
from shared.identifiers import credit_code_valid

FIELD_TYPES = (
    "text",
    "long_text",
    "integer",
    "number",
    "date",
    "boolean",
    "choice",
    "multi_choice",
    "email",
    "phone",
    "credit_code",
)
CHOICE_TYPES = frozenset({"choice", "multi_choice"})
RANGE_TYPES = frozenset({"integer", "number", "date"})
LENGTH_TYPES = frozenset({"text", "long_text"})

DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 5000}
"""The longest answer of a text field whose definition sets no ``max_length``."""
MAX_LENGTH_LIMIT = 20000
MAX_FIELDS = 50
MAX_CHOICES = 100
MAX_LABEL = 200
MAX_HELP = 500
MAX_DIGITS = 15
"""Integers and numbers are below 10**15 in size (a fee, a head count, an area: never more), so
that no answer is a thousand-digit string."""
MAX_DECIMALS = 6

CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_CODE = 40
_COMMON_KEYS = frozenset({"code", "label", "label_zh", "type", "required", "help", "help_zh"})
_KEYS_OF_TYPE = {
    **{kind: frozenset() for kind in FIELD_TYPES},
    "text": frozenset({"max_length"}),
    "long_text": frozenset({"max_length"}),
    "integer": frozenset({"min", "max"}),
    "number": frozenset({"min", "max"}),
    "date": frozenset({"min", "max"}),
    "choice": frozenset({"choices"}),
    "multi_choice": frozenset({"choices"}),
}

DEFINITION = "rule/intake-definition"
ANSWERS = "rule/intake-answers"


# Definitions ---------------------------------------------------------------------------------


class _Problems:
    """The problems found in a definition or in answers, keyed by where they are."""

    def __init__(self) -> None:
        self.errors: dict[str, list[Message]] = {}

    def add(self, where: str, text: Message) -> None:
        self.errors.setdefault(where, []).append(text)

    def __bool__(self) -> bool:
        return bool(self.errors)


def _label(problems: _Problems, where: str, value: Any, *, required: bool = True, limit: int = MAX_LABEL) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.add(where, _("A text in this language is required."))
        return ""
    text = value.strip()
    if len(text) > limit:
        problems.add(where, _("At most {limit} characters.", limit=limit))
    return text


def _code(problems: _Problems, where: str, value: Any) -> str:
    if not isinstance(value, str) or not CODE.fullmatch(value) or len(value) > MAX_CODE:
        problems.add(
            where,
            _("A code is snake_case: lower-case letters, digits and single underscores, starting with a letter."),
        )
        return value if isinstance(value, str) else ""
    return value


def _bound(problems: _Problems, where: str, kind: str, value: Any) -> int | Decimal | date | None:
    """A ``min`` or ``max`` of a definition in its type, or None (reported) when it is not one."""
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**MAX_DIGITS:
            return value
        problems.add(where, _("A whole number is required."))
    elif kind == "number":
        number = _decimal(value)
        if number is not None:
            return number
        problems.add(where, _("A number is required."))
    else:
        day = _iso_date(value)
        if day is not None:
            return day
        problems.add(where, _("A date as yyyy-mm-dd is required."))
    return None


def _bound_json(value: int | Decimal | date) -> int | str:
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _choices(problems: _Problems, where: str, value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        problems.add(where, _("A choice field needs at least one choice."))
        return []
    if len(value) > MAX_CHOICES:
        problems.add(where, _("At most {limit} choices.", limit=MAX_CHOICES))
    normalised: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, choice in enumerate(value):
        at = f"{where}.{index}"
        if not isinstance(choice, Mapping):
            problems.add(at, _("A choice is an object with code, label and label_zh."))
            continue
        unknown = sorted(set(choice) - {"code", "label", "label_zh"})
        if unknown:
            problems.add(at, _("Unknown keys: {keys}.", keys=", ".join(map(str, unknown))))
        code = _code(problems, f"{at}.code", choice.get("code"))
        if code in seen:
            problems.add(f"{at}.code", _("The code {code} is used twice.", code=code))
        seen.add(code)
        normalised.append(
            {
                "code": code,
                "label": _label(problems, f"{at}.label", choice.get("label")),
                "label_zh": _label(problems, f"{at}.label_zh", choice.get("label_zh")),
            }
        )
    return normalised


def _field(problems: _Problems, where: str, definition: Any, seen: set[str]) -> dict[str, Any]:
    if not isinstance(definition, Mapping):
        problems.add(where, _("A field is an object with code, label, label_zh and type."))
        return {}
    kind = definition.get("type")
    if kind not in FIELD_TYPES:
        problems.add(f"{where}.type", _("Unknown type; one of: {types}.", types=", ".join(FIELD_TYPES)))
        kind = None
    allowed = _COMMON_KEYS | (_KEYS_OF_TYPE[kind] if kind else frozenset())
    unknown = sorted(str(key) for key in set(definition) - allowed)
    if unknown and kind:
        problems.add(where, _("Keys not used by a field of this type: {keys}.", keys=", ".join(unknown)))
    code = _code(problems, f"{where}.code", definition.get("code"))
    if code in seen:
        problems.add(f"{where}.code", _("The code {code} is used twice.", code=code))
    seen.add(code)
    required = definition.get("required", False)
    if not isinstance(required, bool):
        problems.add(f"{where}.required", _("true or false is required."))
    field: dict[str, Any] = {
        "code": code,
        "label": _label(problems, f"{where}.label", definition.get("label")),
        "label_zh": _label(problems, f"{where}.label_zh", definition.get("label_zh")),
        "type": kind,
        "required": required is True,
    }
    help_en, help_zh = definition.get("help"), definition.get("help_zh")
    if help_en is not None or help_zh is not None:
        field["help"] = _label(problems, f"{where}.help", help_en, limit=MAX_HELP)
        field["help_zh"] = _label(problems, f"{where}.help_zh", help_zh, limit=MAX_HELP)
    if kind in CHOICE_TYPES:
        field["choices"] = _choices(problems, f"{where}.choices", definition.get("choices"))
    elif kind in LENGTH_TYPES:
        length = definition.get("max_length", DEFAULT_MAX_LENGTH[kind])
        if isinstance(length, int) and not isinstance(length, bool) and 1 <= length <= MAX_LENGTH_LIMIT:
            field["max_length"] = length
        else:
            problems.add(f"{where}.max_length", _("A whole number from 1 to {limit}.", limit=MAX_LENGTH_LIMIT))
    elif kind in RANGE_TYPES:
        bounds = {
            key: _bound(problems, f"{where}.{key}", kind, definition[key])
            for key in ("min", "max")
            if definition.get(key) is not None
        }
        low, high = bounds.get("min"), bounds.get("max")
        if low is not None and high is not None and low > high:  # type: ignore[operator]
            problems.add(f"{where}.min", _("min is more than max."))
        field.update({key: _bound_json(value) for key, value in bounds.items() if value is not None})
    return field


def check_intake_fields(fields: Any) -> list[dict[str, Any]]:
    """``fields`` checked as an intake form and answered normalised (labels trimmed, ``required``
    set, a text field's ``max_length`` filled in, bounds in their JSON spelling, only the keys of
    the field's type). Refuses with :class:`RuleViolation` ``rule/intake-definition`` whose
    ``errors`` names every fault by where it is (``intake_fields.2.choices``)."""
    problems = _Problems()
    normalised: list[dict[str, Any]] = []
    if not isinstance(fields, list):
        problems.add("intake_fields", _("An intake form is a list of fields."))
    else:
        if len(fields) > MAX_FIELDS:
            problems.add("intake_fields", _("At most {limit} fields.", limit=MAX_FIELDS))
        seen: set[str] = set()
        normalised = [_field(problems, f"intake_fields.{i}", f, seen) for i, f in enumerate(fields)]
    if problems:
        where = next(iter(problems.errors))
        raise RuleViolation(
            _("The intake form is not valid ({where}); see errors.", where=where),
            code=DEFINITION,
            errors=problems.errors,
        )
    return normalised


# Answers -------------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_LANDLINE = re.compile(r"([2-9]\d{6,7})(?:(?:-|ext\.?|转)(\d{1,6}))?")


def _decimal(value: Any) -> Decimal | None:
    """``value`` as a finite decimal below 10**15 with at most six places, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= 10**MAX_DIGITS:
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        return None
    return number


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return "0" if text in {"-0", "0"} else text


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def phone_number(value: str) -> str | None:
    """A mainland China phone number in one spelling, or None: a mobile as its eleven digits
    (``13800138000``; a +86 prefix dropped), a landline as area code, hyphen, number and an
    optional extension (``028-85123456``, ``010-12345678-123``). Spaces and hyphens in between
    are forgiven. Beijing's 010 and the 02x codes have three digits, the others four."""
    compact = re.sub(r"[\s()（）]", "", value)
    mobile = _MOBILE.fullmatch(compact.replace("-", ""))
    if mobile:
        return mobile.group(1)
    if compact.startswith("+86"):
        compact = "0" + compact[3:].lstrip("-").lstrip("0")
    area_length = 3 if compact.startswith(("01", "02")) else 4
    area, rest = compact[:area_length], compact[area_length:]
    landline = _LANDLINE.fullmatch(rest[1:] if rest.startswith("-") else rest)
    if not re.fullmatch(r"0[1-9]\d{1,2}", area) or not landline:
        return None
    number, extension = landline.groups()
    return f"{area}-{number}" + (f"-{extension}" if extension else "")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def _answer(field: Mapping[str, Any], value: Any) -> tuple[Any, Message | None]:
    """One answer cleaned, or the reason it is refused."""
    kind = field["type"]
    if kind in LENGTH_TYPES:
        if not isinstance(value, str):
            return None, _("A text is required.")
        text = value.strip()
        if kind == "text" and ("\n" in text or "\r" in text):
            return None, _("One line only.")
        if "\x00" in text:
            return None, _("The text holds a NUL character.")
        limit = field.get("max_length", DEFAULT_MAX_LENGTH[kind])
        if len(text) > limit:
            return None, _("At most {limit} characters.", limit=limit)
        return text, None
    if kind == "integer":
        number: Any = value
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,15}\s*", value):
            number = int(value)
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        if not isinstance(number, int) or isinstance(number, bool) or abs(number) >= 10**MAX_DIGITS:
            return None, _("A whole number is required.")
        return _in_range(field, number, number)
    if kind == "number":
        decimal = _decimal(value)
        if decimal is None:
            return None, _("A number with at most {places} decimal places is required.", places=MAX_DECIMALS)
        return _in_range(field, decimal, _decimal_text(decimal))
    if kind == "date":
        day = _iso_date(value.strip() if isinstance(value, str) else value)
        if day is None:
            return None, _("A date as yyyy-mm-dd is required.")
        return _in_range(field, day, day.isoformat())
    if kind == "boolean":
        if not isinstance(value, bool):
            return None, _("true or false is required.")
        return value, None
    if kind == "choice":
        codes = [choice["code"] for choice in field["choices"]]
        if not isinstance(value, str) or value not in codes:
            return None, _("Not one of the choices: {choices}.", choices=", ".join(codes))
        return value, None
    if kind == "multi_choice":
        codes = [choice["code"] for choice in field["choices"]]
        if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
            return None, _("A list of choices is required.")
        wrong = [code for code in value if code not in codes]
        if wrong:
            return None, _("Not among the choices: {codes}.", codes=", ".join(wrong))
        if len(set(value)) != len(value):
            return None, _("A choice is given twice.")
        return [code for code in codes if code in value], None
    if kind == "email":
        address = value.strip() if isinstance(value, str) else ""
        if len(address) > 254 or not _EMAIL.fullmatch(address):
            return None, _("An email address is required.")
        local, domain = address.rsplit("@", 1)
        return f"{local}@{domain.lower()}", None
    if kind == "phone":
        phone = phone_number(value) if isinstance(value, str) and len(value) <= 40 else None
        if phone is None:
            return None, _("A mainland China mobile (11 digits) or landline number with its area code is required.")
        return phone, None
    # credit_code
    code = value.strip().upper() if isinstance(value, str) else ""
    if not credit_code_valid(code):
        return None, _("A unified social credit code (18 characters, its check character right) is required.")
    return code, None


def _in_range(field: Mapping[str, Any], value: Any, cleaned: Any) -> tuple[Any, Message | None]:
    low, high = field.get("min"), field.get("max")
    if low is not None and value < _parse_bound(field["type"], low):
        return None, _("At least {min}.", min=str(low))
    if high is not None and value > _parse_bound(field["type"], high):
        return None, _("At most {max}.", max=str(high))
    return cleaned, None


def _parse_bound(kind: str, bound: int | str) -> int | Decimal | date:
    """A stored ``min``/``max`` (its JSON spelling) as a value of the field's type."""
    if kind == "number":
        return Decimal(str(bound))
    if kind == "date":
        return date.fromisoformat(str(bound))
    return int(bound)


def check_answers(fields: Iterable[Mapping[str, Any]], answers: Any) -> dict[str, Any]:
    """A tenant's ``answers`` (code → value) to the intake form ``fields`` (a definition
    :func:`check_intake_fields` accepted), cleaned for storing (see the module). A missing answer,
    ``null``, a blank text and an empty list all count as unanswered: refused for a required
    field, left out otherwise (``false`` is an answer). Refuses with ONE :class:`RuleViolation`
    ``rule/intake-answers`` whose ``errors`` maps ``answers.<code>`` to the texts of every bad
    field, unknown codes included; ``answers`` itself when it is not an object."""
    if answers is None:
        answers = {}
    problems = _Problems()
    cleaned: dict[str, Any] = {}
    if not isinstance(answers, Mapping):
        problems.add("answers", _("The answers are an object of field codes and values."))
        answers = {}
    fields = list(fields)
    known = {field["code"] for field in fields}
    for code in answers:
        if code not in known:
            problems.add(f"answers.{code}", _("This form has no such field."))
    for field in fields:
        code = field["code"]
        value = answers.get(code)
        if _blank(value):
            if field.get("required"):
                problems.add(f"answers.{code}", _("An answer is required."))
            continue
        answer, refusal = _answer(field, value)
        if refusal is not None:
            problems.add(f"answers.{code}", refusal)
        else:
            cleaned[code] = answer
    if problems:
        raise RuleViolation(
            _("Some answers of the intake form are missing or not valid; see errors."),
            code=ANSWERS,
            errors=problems.errors,
        )
    return cleaned
