"""A service's dead letters: list them, and replay one or all through the service's inbox.

Replay hands the stored envelope to :meth:`Inbox.deliver` again, in the process that asks
(the CLI or the staff API), so it works the same on every transport. The inbox keeps replay
idempotent: an event that was meanwhile handled is a duplicate and has no second effect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from shared.bus.inbox import Inbox, Outcome


@dataclass(frozen=True)
class DeadLetter:
    id: int
    event_id: str
    type: str
    error: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None
    envelope: dict[str, Any]


def list_dead_letters(
    inbox: Inbox, *, include_replayed: bool = False, limit: int = 100, offset: int = 0
) -> tuple[list[DeadLetter], int]:
    table = inbox.tables.dead_letters
    query = select(table)
    if not include_replayed:
        query = query.where(table.c.replayed_at.is_(None))
    with inbox.database.reading() as session:
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = session.execute(query.order_by(table.c.id).limit(limit).offset(offset)).all()
    return [_letter(row) for row in rows], int(total)


def get_dead_letter(inbox: Inbox, letter_id: int) -> DeadLetter | None:
    table = inbox.tables.dead_letters
    with inbox.database.reading() as session:
        row = session.execute(select(table).where(table.c.id == letter_id)).first()
    return _letter(row) if row else None


def replay(inbox: Inbox, letter_id: int, *, by: str) -> Outcome:
    """Deliver a dead letter again. Unless it fails once more, mark it replayed by ``by``;
    a renewed failure stays on the same letter with the latest error."""
    letter = get_dead_letter(inbox, letter_id)
    if letter is None:
        raise LookupError(letter_id)
    if letter.replayed_at is not None:
        return Outcome.DUPLICATE  # delivered already; who replayed it, and when, stays on record
    outcome = inbox.deliver(letter.envelope, dead_letter_id=letter_id)
    if outcome is not Outcome.DEAD_LETTERED:
        table = inbox.tables.dead_letters
        with inbox.database.unit_of_work() as uow:
            uow.session.execute(
                update(table).where(table.c.id == letter_id).values(replayed_at=datetime.now(UTC), replayed_by=by)
            )
            uow.commit()
    return outcome


def replay_all(inbox: Inbox, *, by: str) -> dict[int, Outcome]:
    letters, _ = list_dead_letters(inbox, limit=10_000)
    return {letter.id: replay(inbox, letter.id, by=by) for letter in letters}


def _letter(row: Any) -> DeadLetter:
    try:
        envelope = json.loads(row.envelope)
    except ValueError:
        envelope = {"raw": row.envelope}
    return DeadLetter(
        id=row.id,
        event_id=row.event_id,
        type=row.type,
        error=row.error,
        attempts=row.attempts,
        failed_at=row.failed_at,
        replayed_at=row.replayed_at,
        envelope=envelope,
    )
