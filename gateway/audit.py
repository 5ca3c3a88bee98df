"""The gateway's audit trail: one append-only row per state change, in the change's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.models import AuditEntry
from shared.clock import utcnow
from shared.db import UnitOfWork

SYSTEM = "system"
"""The actor of changes nobody asked for directly (e.g. a token family revoked on reuse)."""


def record(
    uow: UnitOfWork,
    *,
    actor: str,
    entity: str,
    entity_id: str,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Add an entry to ``uow``; it commits (or vanishes) together with the change it describes."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        action=action,
        from_state=dict(before) if before is not None else None,
        to_state=dict(after) if after is not None else None,
        reason=reason,
        correlation_id=uow.context.get("correlationid"),
    )
    uow.session.add(entry)
    return entry


def family_revoked(uow: UnitOfWork, *, actor: str, family_id: str, reason: str) -> AuditEntry:
    """Record that a sign-in (a refresh-token family) was ended, and why."""
    return record(
        uow,
        actor=actor,
        entity="refresh_token_family",
        entity_id=family_id,
        action="revoked",
        before={"revoked": False},
        after={"revoked": True},
        reason=reason,
    )
