"""Offers: a partner makes one, a bureau approves a subsidy's amount, the tenant accepts or
declines, the partner withdraws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class MakeOffer:
    """The routed partner's offer on an application its review has under way. Values as the
    client wrote them (decimal strings): the rules check them."""

    actor: Principal
    application_id: str
    amount: Any
    annual_rate: Any
    term_months: Any
    repayment_method: Any
    expires_at: datetime
    fees: tuple[Any, ...] = ()
    conditions: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class ApproveSubsidy:
    """A bureau the subsidy application is routed to approves ``amount`` (a decimal string)."""

    actor: Principal
    application_id: str
    amount: Any
    conditions: str | None = None
    expected_versions: frozenset[int] | None = None
    """The bureau's review's versions ``If-Match`` named (None: ``*``)."""
    at: datetime | None = None


@dataclass(frozen=True)
class AnswerOffer:
    """``accept`` or ``decline`` (a tenant admin of the applying organisation), ``withdraw`` (the
    partner that made it), at the offer's versions ``If-Match`` named."""

    actor: Principal
    offer_id: str
    action: str
    expected_versions: frozenset[int] | None = None
    reason: str | None = None
    at: datetime | None = None
