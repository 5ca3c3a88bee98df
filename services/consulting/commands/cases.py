"""Commands of cases: submitting one, moving it along the lifecycle, rating it. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class SubmitCase:
    """A tenant asks for a service item of the catalogue; ``answers`` answer its intake form."""

    actor: Principal
    item_id: str
    subject: str
    description: str
    answers: dict[str, Any] = field(default_factory=dict)
    priority: str = "normal"
    at: datetime | None = None
    """When the action is taken (UTC); None: now. Only the demo seed passes it, to give the demo
    desk a past; the API never does."""


@dataclass(frozen=True)
class ActOnCase:
    """One of the lifecycle's caller actions (``rules.CALLER_ACTIONS``) on one case, under
    ``If-Match`` (``expected_versions``; None: ``*``). The fields an action does not take stay None:
    ``priority`` (triage), ``firm_org_id`` (assign), ``solution`` (propose_solution), ``reason``
    (decline, wait, reject_solution, cancel); ``stars`` and ``comment`` rate the case along with
    an accepted solution (accept_solution)."""

    actor: Principal
    case_id: str
    action: str
    expected_versions: frozenset[int] | None = None
    reason: str | None = None
    priority: str | None = None
    firm_org_id: str | None = None
    solution: str | None = None
    stars: int | None = None
    comment: str | None = None
    at: datetime | None = None
    """When the action is taken (UTC); None: now. Only the demo seed passes it, to give the demo
    desk a past; the API never does."""


@dataclass(frozen=True)
class RateCase:
    """The tenant's stars (1-5) and comment for a closed case."""

    actor: Principal
    case_id: str
    stars: int
    comment: str | None = None
    at: datetime | None = None
    """When the action is taken (UTC); None: now. Only the demo seed passes it, to give the demo
    desk a past; the API never does."""
