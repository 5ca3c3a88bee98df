"""Money in finance: yuan (CNY) as :class:`~decimal.Decimal` with two places (fen). Pure.

Amounts arrive as decimal strings (``"1200.00"``, ``"1200"``) and leave as decimal strings with
two places; a float never enters (it cannot hold 0.10 exactly), so :func:`parse_amount` refuses
one however it arrives. Every refusal is a :class:`~shared.errors.RuleViolation` (422) whose code
starts with ``rule/amount-``:

- ``rule/amount-invalid``: not a plain decimal string or an exact number (a float, a bool, NaN,
  Infinity, exponent notation such as ``"1e5"``, spaces, underscores, an empty text);
- ``rule/amount-too-large``: more than :data:`MAX_AMOUNT` (checked before the places, so an
  amount of any size or exponent is this rule, never an error of the decimal module);
- ``rule/amount-places``: more than two decimal places;
- ``rule/amount-positive``: zero or less (``rule/amount-negative`` where zero is allowed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.errors import RuleViolation
from shared.i18n import _

CURRENCY = "CNY"
"""The only currency the park's financing is written in."""
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")
"""Just under a trillion yuan: what a ``Numeric(14, 2)`` column holds, far above any park deal."""
MAX_DIGITS = 40
"""A text longer than this is not an amount anybody meant (refused before it is parsed)."""

_PLAIN = re.compile(r"(?P<sign>[+-]?)(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")


def parse_amount(value: Any, *, where: str = "amount", allow_zero: bool = False) -> Decimal:
    """``value`` as yuan with two places (``Decimal("1200.00")``), from a decimal string, an int
    or a :class:`~decimal.Decimal`; more than zero unless ``allow_zero`` (then at least zero).
    Refusals as the module says, each naming ``where`` (the field) in its ``where`` extra."""
    amount = _exact(value, where)
    if amount > MAX_AMOUNT:
        raise RuleViolation(
            _("{where}: an amount of at most 999999999999.99 yuan.", where=where),
            code="rule/amount-too-large",
            where=where,
        )
    if amount < 0 or (amount == 0 and not allow_zero):
        if allow_zero:
            raise RuleViolation(
                _("{where}: an amount of zero or more.", where=where), code="rule/amount-negative", where=where
            )
        raise RuleViolation(
            _("{where}: an amount of more than zero.", where=where), code="rule/amount-positive", where=where
        )
    # Below MAX_AMOUNT the whole part has at most 12 digits: quantizing to fen stays within the
    # context's 28 digits, whatever exponent the value carried.
    fen = amount.quantize(CENT)
    if fen != amount:
        raise RuleViolation(
            _("{where}: an amount has at most two decimal places (fen).", where=where),
            code="rule/amount-places",
            where=where,
        )
    return fen


def _exact(value: Any, where: str) -> Decimal:
    if isinstance(value, str):
        match = _PLAIN.fullmatch(value) if len(value) <= MAX_DIGITS else None
        if match is not None:
            return Decimal(value)
    elif isinstance(value, Decimal) and value.is_finite():
        return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise RuleViolation(
        _('{where}: an amount of yuan as a decimal string, such as "1200.00".', where=where),
        code="rule/amount-invalid",
        where=where,
    )


def to_fen(value: Decimal) -> Decimal:
    """``value`` rounded to fen, half up (as a Chinese bank rounds interest: 0.005 → 0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal) -> str:
    """The JSON text of an amount: two places, no exponent (``"1200.00"``, ``"0.00"``)."""
    return f"{to_fen(value):.2f}"


@dataclass(frozen=True, order=True)
class Money:
    """An amount of yuan with two places. Build it with :meth:`of` (which checks) or from a value
    already in fen; arithmetic stays in fen and never leaves CNY."""

    amount: Decimal
    currency: str = CURRENCY

    def __post_init__(self) -> None:
        if self.currency != CURRENCY:
            raise ValueError(f"finance counts in {CURRENCY} only, not {self.currency}")
        if not self.amount.is_finite() or self.amount != self.amount.quantize(CENT):
            raise ValueError(f"an amount of money has two places, not {self.amount}")

    @classmethod
    def of(cls, value: Any, *, where: str = "amount", allow_zero: bool = False) -> Money:
        """:func:`parse_amount` of ``value``, as money."""
        return cls(parse_amount(value, where=where, allow_zero=allow_zero))

    @classmethod
    def zero(cls) -> Money:
        return cls(Decimal("0.00"))

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + other.amount)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - other.amount)

    def times(self, factor: Decimal) -> Money:
        """This amount times ``factor``, rounded to fen half up."""
        return Money(to_fen(self.amount * factor))

    def to_json(self) -> dict[str, str]:
        """``{"amount": "1200.00", "currency": "CNY"}``: the shape of money in every answer and event."""
        return {"amount": format_amount(self.amount), "currency": self.currency}

    def __str__(self) -> str:
        return f"{format_amount(self.amount)} {self.currency}"
