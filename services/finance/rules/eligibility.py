"""Eligibility: the rules a product declares about who may apply, and the service's own check of
a company's profile against them. Pure.

A product's rules (:class:`EligibilityRules`, from JSON by :func:`check_rules`), each optional:

- ``sectors``: the sector codes admitted (snake_case, as the park files its tenants);
- ``min_years_in_park``: whole years since the company moved in (anniversaries in park time:
  moved in on 2024-03-15, it has 1 year on 2025-03-15; moved in on 29 February, its anniversary
  in a common year is 1 March);
- ``revenue``: last year's revenue in yuan, ``{"min": "…", "max": "…"}`` (either bound may be absent);
- ``employees``: head count, ``{"min": n, "max": n}``;
- ``min_granted_patents``: granted patents (an IP-pledge loan needs one to pledge).

:func:`check_eligibility` answers EVERY failure at once (a list of :class:`Failure`, empty when
eligible), so a submission can say all that is missing in one answer. Codes:
``rule/sector-not-eligible``, ``rule/years-in-park``, ``rule/revenue-out-of-range``,
``rule/employees-out-of-range``, ``rule/patents-too-few``, and ``rule/profile-incomplete`` (the
profile lacks what a rule needs; ``field`` names it). Rules themselves are refused by
:func:`check_rules` with ``rule/eligibility-invalid`` (``where`` names the rule), a range whose
minimum is above its maximum with ``rule/eligibility-range``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.finance.rules.money import format_amount, parse_amount
from shared.errors import RuleViolation
from shared.i18n import Message, _

RULES = ("sectors", "min_years_in_park", "revenue", "employees", "min_granted_patents")
MAX_YEARS = 100
MAX_EMPLOYEES = 10_000_000
MAX_PATENTS = 1_000_000
_SECTOR = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


@dataclass(frozen=True)
class Failure:
    """One reason a request does not fit: a stable ``code``, a marked ``detail`` a person reads,
    and the ``field`` of the request or profile it is about."""

    code: str
    detail: Message
    field: str

    def to_json(self, locale: str) -> dict[str, str]:
        """The shape of one failure in an answer's ``failures``, its detail in ``locale``."""
        return {"code": self.code, "detail": self.detail.render(locale), "field": self.field}


@dataclass(frozen=True)
class Range:
    """A closed range; ``None`` at either end is unbounded."""

    min: Any = None
    max: Any = None

    def contains(self, value: Any) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


@dataclass(frozen=True)
class EligibilityRules:
    sectors: frozenset[str] | None = None
    min_years_in_park: int | None = None
    revenue: Range | None = None
    employees: Range | None = None
    min_granted_patents: int | None = None

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        if self.sectors is not None:
            answer["sectors"] = sorted(self.sectors)
        if self.min_years_in_park is not None:
            answer["min_years_in_park"] = self.min_years_in_park
        if self.revenue is not None:
            answer["revenue"] = {
                bound: format_amount(value)
                for bound, value in (("min", self.revenue.min), ("max", self.revenue.max))
                if value is not None
            }
        if self.employees is not None:
            answer["employees"] = {
                bound: value
                for bound, value in (("min", self.employees.min), ("max", self.employees.max))
                if value is not None
            }
        if self.min_granted_patents is not None:
            answer["min_granted_patents"] = self.min_granted_patents
        return answer


@dataclass(frozen=True)
class Profile:
    """What the check reads of a company; ``None`` is not known (a failure where a rule needs it)."""

    sector: str | None = None
    moved_in_on: date | None = None
    annual_revenue: Decimal | None = None
    employees: int | None = None
    granted_patents: int | None = None


def _invalid(where: str) -> RuleViolation:
    return RuleViolation(
        _(
            "{where}: eligibility rules are sectors (a list of sector codes), min_years_in_park, "
            "revenue (min and max in yuan), employees (min and max) and min_granted_patents.",
            where=where,
        ),
        code="rule/eligibility-invalid",
        where=where,
    )


def _whole(value: Any, where: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise _invalid(where)
    return value


def _range(raw: Any, where: str, bound: Any) -> Range:
    if not isinstance(raw, Mapping) or not raw or not set(raw) <= {"min", "max"}:
        raise _invalid(where)
    low, high = (None if raw.get(end) is None else bound(raw[end], f"{where}.{end}") for end in ("min", "max"))
    if low is not None and high is not None and low > high:
        raise RuleViolation(
            _("{where}: the minimum is above the maximum.", where=where), code="rule/eligibility-range", where=where
        )
    return Range(low, high)


def _revenue(value: Any, where: str) -> Decimal:
    try:
        return parse_amount(value, where=where, allow_zero=True)
    except RuleViolation:
        raise _invalid(where) from None


def check_rules(raw: Any) -> EligibilityRules:
    """A product's eligibility rules from JSON (an object with any of :data:`RULES`), checked."""
    if raw is None:
        return EligibilityRules()
    if not isinstance(raw, Mapping) or not set(raw) <= set(RULES):
        raise _invalid("eligibility")
    sectors = raw.get("sectors")
    if sectors is not None and (
        not isinstance(sectors, list)
        or not sectors
        or not all(isinstance(code, str) and len(code) <= 64 and _SECTOR.fullmatch(code) for code in sectors)
    ):
        raise _invalid("eligibility.sectors")
    return EligibilityRules(
        sectors=None if sectors is None else frozenset(sectors),
        min_years_in_park=_optional(raw, "min_years_in_park", lambda v, w: _whole(v, w, MAX_YEARS)),
        revenue=_optional(raw, "revenue", lambda v, w: _range(v, w, _revenue)),
        employees=_optional(raw, "employees", lambda v, w: _range(v, w, lambda n, x: _whole(n, x, MAX_EMPLOYEES))),
        min_granted_patents=_optional(raw, "min_granted_patents", lambda v, w: _whole(v, w, MAX_PATENTS)),
    )


def _optional(raw: Mapping[str, Any], name: str, check: Any) -> Any:
    return None if raw.get(name) is None else check(raw[name], f"eligibility.{name}")


def years_in_park(moved_in_on: date, today: date) -> int:
    """Whole years from ``moved_in_on`` to ``today`` (0 before the first anniversary, never negative)."""
    years = today.year - moved_in_on.year - ((today.month, today.day) < (moved_in_on.month, moved_in_on.day))
    return max(years, 0)


def _missing(field: str) -> Failure:
    return Failure(
        "rule/profile-incomplete",
        _("The company profile does not say {field}, which this product's rules need.", field=field),
        field,
    )


def check_eligibility(rules: EligibilityRules, profile: Profile, today: date) -> list[Failure]:
    """Every rule of ``rules`` that ``profile`` fails on ``today`` (park date), in the order of
    :data:`RULES`; an empty list when the company may apply."""
    failures: list[Failure] = []
    if rules.sectors is not None:
        if profile.sector is None:
            failures.append(_missing("sector"))
        elif profile.sector not in rules.sectors:
            failures.append(
                Failure(
                    "rule/sector-not-eligible",
                    _(
                        "This product is for companies in {sectors}; the company's sector is {sector}.",
                        sectors=", ".join(sorted(rules.sectors)),
                        sector=profile.sector,
                    ),
                    "sector",
                )
            )
    if rules.min_years_in_park is not None:
        if profile.moved_in_on is None:
            failures.append(_missing("moved_in_on"))
        else:
            years = years_in_park(profile.moved_in_on, today)
            if years < rules.min_years_in_park:
                failures.append(
                    Failure(
                        "rule/years-in-park",
                        _(
                            "This product needs {required} full years in the park; the company has {years}.",
                            required=rules.min_years_in_park,
                            years=years,
                        ),
                        "moved_in_on",
                    )
                )
    if rules.revenue is not None:
        if profile.annual_revenue is None:
            failures.append(_missing("annual_revenue"))
        elif not rules.revenue.contains(profile.annual_revenue):
            failures.append(
                Failure(
                    "rule/revenue-out-of-range",
                    _(
                        "The annual revenue this product needs is {range} yuan; the company's is {revenue} yuan.",
                        range=_range_words(rules.revenue, format_amount),
                        revenue=format_amount(profile.annual_revenue),
                    ),
                    "annual_revenue",
                )
            )
    if rules.employees is not None:
        if profile.employees is None:
            failures.append(_missing("employees"))
        elif not rules.employees.contains(profile.employees):
            failures.append(
                Failure(
                    "rule/employees-out-of-range",
                    _(
                        "The head count this product needs is {range}; the company has {employees} employees.",
                        range=_range_words(rules.employees, str),
                        employees=profile.employees,
                    ),
                    "employees",
                )
            )
    if rules.min_granted_patents is not None:
        if profile.granted_patents is None:
            failures.append(_missing("granted_patents"))
        elif profile.granted_patents < rules.min_granted_patents:
            failures.append(
                Failure(
                    "rule/patents-too-few",
                    _(
                        "This product needs at least {required} granted patent(s); the company has {patents}.",
                        required=rules.min_granted_patents,
                        patents=profile.granted_patents,
                    ),
                    "granted_patents",
                )
            )
    return failures


def _range_words(bounds: Range, show: Any) -> Message:
    if bounds.min is not None and bounds.max is not None:
        return _("from {min} to {max}", min=show(bounds.min), max=show(bounds.max))
    if bounds.min is not None:
        return _("at least {min}", min=show(bounds.min))
    return _("at most {max}", max=show(bounds.max))
