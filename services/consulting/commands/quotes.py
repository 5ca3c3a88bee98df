"""Quotes on a case: the firm's proposal and the tenant's answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shared.principal import Principal


@dataclass(frozen=True)
class ProposeQuote:
    """The firm assigned proposes ``fee`` (CNY, as given: checked by ``rules.check_fee``)."""

    actor: Principal
    case_id: str
    fee: Decimal | str | int
    description: str = ""
    at: datetime | None = None
    """When the action is taken (UTC); None: now. Only the demo seed passes it, to give the demo
    desk a past; the API never does."""


@dataclass(frozen=True)
class AnswerQuote:
    """The tenant accepts (``accept``) or rejects (``reject``, with an optional reason) a quote."""

    actor: Principal
    case_id: str
    quote_id: str
    action: str
    expected_versions: frozenset[int] | None = None
    reason: str | None = None
    at: datetime | None = None
    """When the action is taken (UTC); None: now. Only the demo seed passes it, to give the demo
    desk a past; the API never does."""
