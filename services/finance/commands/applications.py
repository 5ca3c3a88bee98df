"""Commands of applications: drafting one, editing it, moving it along its lifecycle. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class DraftApplication:
    """A tenant drafts an application for a product: ``amount`` as the decimal string the tenant
    wrote (checked by ``rules.money.parse_amount``), ``answers`` to the product's own fields."""

    actor: Principal
    product_id: str
    amount: str
    term_months: int
    purpose: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    """When (UTC); None: now. Only tests and the demo seed pass it."""


@dataclass(frozen=True)
class EditApplication:
    """The tenant changes a draft, or an application partners review (its offers lapse), under
    ``If-Match`` (``expected_versions``; None: ``*``). A field left None stays as it is."""

    actor: Principal
    application_id: str
    expected_versions: frozenset[int] | None = None
    amount: str | None = None
    term_months: int | None = None
    purpose: str | None = None
    answers: dict[str, Any] | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class ActOnApplication:
    """One of the actions of :data:`services.finance.handlers.applications.STEPS` (submit,
    start_pre_review, route, turn_down, withdraw) under ``If-Match``: ``partner_org_ids`` for
    ``route``, ``reason`` for ``turn_down`` (and, optionally, ``withdraw``)."""

    actor: Principal
    application_id: str
    action: str
    expected_versions: frozenset[int] | None = None
    reason: str | None = None
    partner_org_ids: tuple[str, ...] = ()
    at: datetime | None = None
