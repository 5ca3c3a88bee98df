"""A partner's review of an application: the steps its partner takes, and the tenant's answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.principal import Principal


@dataclass(frozen=True)
class ActOnReview:
    """One step of partner ``partner_org_id``'s review of application ``application_id``:
    ``action`` is ``start_review``, ``request_info`` (``document_types``, ``questions``,
    ``note``), ``provide_info`` (the tenant: ``answers``, ``note``) or ``decline``
    (``reason_code`` of the decline reasons, ``note``). ``expected_versions``: the review's
    versions ``If-Match`` named (None: ``*``)."""

    actor: Principal
    application_id: str
    partner_org_id: str | None
    """``None``: the caller's own review (a partner), or the one review asking the tenant
    (``provide_info``): :func:`services.finance.handlers.reviews.find_review`."""
    action: str
    expected_versions: frozenset[int] | None = None
    document_types: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    answers: tuple[str, ...] = field(default=())
    note: str | None = None
    reason_code: str | None = None
    at: datetime | None = None
    """When the step is taken (UTC); None: now. The API never passes it."""
