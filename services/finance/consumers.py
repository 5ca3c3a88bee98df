"""Finance's reactions to other services' events: event type → handler ``(event, *, uow)``.

For now only the organisation directory, which every service keeps from ``identity.organisation.*``.
"""

from __future__ import annotations

from collections.abc import Callable

from services.finance.handlers.valuations import on_valuation_completed, on_valuation_failed, on_valuation_opened
from services.finance.models import TABLES
from shared.directory import directory_handlers
from shared.revocation import revocation_handlers

HANDLERS: dict[str, Callable[..., None]] = {
    **directory_handlers(TABLES.directory),
    **revocation_handlers(TABLES.revocations),
    "consulting.valuation.opened": on_valuation_opened,
    "consulting.valuation.completed": on_valuation_completed,
    "consulting.valuation.failed": on_valuation_failed,
}
