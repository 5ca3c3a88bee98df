"""IP-pledge loans: the patents pledged, pre-checked against the pledge registration's refusal
rules, their numbers, and the loan-to-value ratio from a valuation.

CNIPA (the national IP administration) refuses to register a pledge of a patent that is not
granted, whose annual fees are unpaid, whose holder is not the borrower (the pledgor), that is
pledged already, or that expires before the loan ends. :func:`check_patents` finds each of these
for each patent, all at once, so the tenant fixes everything in one go.

A patent number (专利号) is ``ZL`` and its application number: since 2003 twelve digits (year,
kind, serial) and a check digit after a point, ``ZL202010566088.9``; before, eight digits and a
check digit, ``ZL01105715.7``. The check digit is the sum of the digits weighted 2, 3, 4, 5, 6,
7, 8, 9, 2, 3, 4, 5 from the left, modulo 11; 10 is written ``X``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from shared.errors import RuleViolation
from shared.i18n import Message, _

_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_NUMBER = re.compile(r"^(?:ZL|CN)?(\d{8}|\d{12})\.?([0-9X])$")
_CENT = Decimal("0.01")


def check_digit(digits: str) -> str:
    """The check digit of an application number's 8 or 12 ``digits``: weighted 2…9, 2…5 from the
    left, the sum modulo 11, 10 written ``X``."""
    if not (digits.isascii() and digits.isdigit() and len(digits) in (8, 12)):
        raise ValueError("an application number has 8 or 12 digits")
    remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=False)) % 11
    return "X" if remainder == 10 else str(remainder)


def parse_patent_number(text: str) -> str:
    """A patent number as written (``ZL202010566088.9``, ``zl 2020 1056 6088.9``, ``CN…``,
    full-width digits, without the point) in its one form, ``ZL`` + digits + ``.`` + check digit.
    ``rule/patent-number-format`` (422) when it is not one; ``rule/patent-check-digit`` (422) when
    its check digit is not the one its digits give (a typing error)."""
    plain = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()
    found = _NUMBER.match(plain)
    if not found:
        raise RuleViolation(
            _("{number} is not a patent number; write it like ZL202010566088.9.", number=text),
            code="rule/patent-number-format",
        )
    digits, given = found.groups()
    if check_digit(digits) != given:
        raise RuleViolation(
            _("The check digit of {number} does not match its digits; check the number.", number=text),
            code="rule/patent-check-digit",
        )
    return f"ZL{digits}.{given}"


@dataclass(frozen=True)
class Patent:
    """A patent as the tenant lists it for a pledge: ``number`` (as :func:`parse_patent_number`
    answers it), title, holder (as registered), grant date (None: not granted yet), expiry,
    annual fees paid until (None: never paid), and the registrations of pledges on it still in
    force."""

    number: str
    title: str
    holder: str
    granted_on: date | None
    expires_on: date
    fees_paid_until: date | None
    pledges: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatentFailure:
    """One reason the registration would refuse one patent: ``code``, the text, the patent."""

    code: str
    message: Message
    patent: str


PATENT_CHECKS = (
    "rule/patent-not-granted",
    "rule/patent-fees-unpaid",
    "rule/patent-holder",
    "rule/patent-pledged",
    "rule/patent-expires",
)
"""The refusals :func:`check_patents` names, in the order it checks them."""


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on, kept to the last day of a shorter month
    (31 January + 1 month is 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError("no such month")  # pragma: no cover - every month has 28 days


def _same_holder(holder: str, applicant: str) -> bool:
    def plain(name: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()

    return bool(plain(holder)) and plain(holder) == plain(applicant)


def check_patents(
    patents: Iterable[Patent], *, applicant: str, loan_start: date, term_months: int, today: date
) -> list[PatentFailure]:
    """Every reason the pledge registration would refuse each patent, all at once (empty: none):
    not granted (``rule/patent-not-granted``), annual fees unpaid at ``today``
    (``rule/patent-fees-unpaid``), a holder other than the ``applicant`` (the registered name,
    compared without spaces or case: ``rule/patent-holder``), pledged already
    (``rule/patent-pledged``), expiring before the loan ends, ``term_months`` after
    ``loan_start`` (``rule/patent-expires``). Nothing pledged at all is ``rule/patent-none`` (422)."""
    listed = list(patents)
    if not listed:
        raise RuleViolation(_("An IP-pledge loan lists at least one patent."), code="rule/patent-none")
    loan_end = add_months(loan_start, term_months)
    failures: list[PatentFailure] = []
    for p in listed:

        def fail(code: str, message: Message, patent: Patent = p) -> None:
            failures.append(PatentFailure(code, message, patent.number))

        if p.granted_on is None or p.granted_on > today:
            fail("rule/patent-not-granted", _("Patent {number} is not granted.", number=p.number))
        if p.fees_paid_until is None or p.fees_paid_until < today:
            fail(
                "rule/patent-fees-unpaid",
                _("The annual fees of patent {number} are unpaid.", number=p.number),
            )
        if not _same_holder(p.holder, applicant):
            fail(
                "rule/patent-holder",
                _(
                    "Patent {number} is held by {holder}, not by {applicant}.",
                    number=p.number,
                    holder=p.holder,
                    applicant=applicant,
                ),
            )
        if p.pledges:
            fail(
                "rule/patent-pledged",
                _(
                    "Patent {number} is pledged already (registration {registration}).",
                    number=p.number,
                    registration=", ".join(p.pledges),
                ),
            )
        if p.expires_on < loan_end:
            fail(
                "rule/patent-expires",
                _(
                    "Patent {number} expires on {expiry}, before the loan ends on {end}.",
                    number=p.number,
                    expiry=p.expires_on.isoformat(),
                    end=loan_end.isoformat(),
                ),
            )
    return failures


def loan_to_value(loan: Decimal, valuation: Decimal) -> Decimal:
    """The loan-to-value ratio, percent with two places (half up): ``loan`` over the appraised
    ``valuation`` of the patents. A valuation of zero or less is ``rule/valuation-positive``
    (422); Decimals only, never floats."""
    if not isinstance(valuation, Decimal) or not valuation.is_finite() or valuation <= 0:
        raise RuleViolation(_("A valuation is an amount of more than zero yuan."), code="rule/valuation-positive")
    if not isinstance(loan, Decimal) or not loan.is_finite() or loan < 0:
        raise RuleViolation(_("A loan is an amount of zero yuan or more."), code="rule/loan-amount")
    return (loan * 100 / valuation).quantize(_CENT, rounding=ROUND_HALF_UP)
