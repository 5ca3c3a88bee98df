"""The free-hour counters (:class:`QuotaUsage`): read one under a row lock, move it in the
caller's transaction. Every change of a reservation that counts against the quota goes through
here (placing, moving, a transition out of the counted states), so the counter equals the sum of
``quota_minutes`` of the organisation's counted reservations of that kind and month.

Concurrency: :func:`minutes_used` upserts the row and returns its value in one statement
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``), which takes the row's lock on PostgreSQL
until commit; a second booking of the same organisation, kind and month waits there and then
reads what the first spent, so the free hours cannot be spent twice. Other organisations, kinds
and months never wait. SQLite serialises writers anyway (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.booking.models import QuotaRule, QuotaUsage, Reservation
from services.booking.rules import counts_for_quota, free_minutes_left, quota_month
from shared.db import UnitOfWork


def allowance(uow: UnitOfWork, org_id: str, space_kind: str) -> int:
    """Free hours per month of ``org_id`` for ``space_kind`` (its own rule, else ``*``'s, else 0)."""
    rule = uow.session.get(QuotaRule, (org_id, space_kind)) or uow.session.get(QuotaRule, ("*", space_kind))
    return rule.free_hours_per_month if rule is not None else 0


def minutes_used(uow: UnitOfWork, org_id: str, space_kind: str, month: str) -> int:
    """The counter of (``org_id``, ``space_kind``, ``month``), created at 0 if new, locked until
    the caller's commit."""
    return _add(uow, org_id, space_kind, month, 0)


def _add(uow: UnitOfWork, org_id: str, space_kind: str, month: str, minutes: int) -> int:
    """Upsert the counter plus ``minutes`` (>= 0) in one statement; returns its new value."""
    values: dict[str, Any] = {"org_id": org_id, "space_kind": space_kind, "month": month, "minutes": minutes}
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    upsert = insert(QuotaUsage).values(**values)
    statement = upsert.on_conflict_do_update(
        index_elements=["org_id", "space_kind", "month"],
        set_={"minutes": QuotaUsage.minutes + upsert.excluded.minutes},  # adding 0 still locks the row
    ).returning(QuotaUsage.minutes)
    return int(uow.session.execute(statement).scalar_one())


def free_minutes(uow: UnitOfWork, org_id: str, space_kind: str, month: str) -> int:
    """What ``org_id`` has left of its free hours on ``space_kind`` in ``month`` (locks the counter
    when there is an allowance to spend)."""
    hours = allowance(uow, org_id, space_kind)
    if hours <= 0:
        return 0
    return free_minutes_left(hours, minutes_used(uow, org_id, space_kind, month))


def spend(uow: UnitOfWork, org_id: str, space_kind: str, month: str, minutes: int) -> None:
    """Move the counter by ``minutes`` (negative: give back), never below zero."""
    if minutes > 0:
        _add(uow, org_id, space_kind, month, minutes)
        return
    if minutes == 0:
        return
    uow.session.execute(
        update(QuotaUsage)
        .where(QuotaUsage.org_id == org_id, QuotaUsage.space_kind == space_kind, QuotaUsage.month == month)
        .values(minutes=case((QuotaUsage.minutes + minutes > 0, QuotaUsage.minutes + minutes), else_=0))
    )


def give_back(uow: UnitOfWork, reservation: Reservation) -> None:
    """Return what ``reservation`` spends (it stops counting, or is about to be priced again)."""
    _count(uow, reservation, -1)


def take(uow: UnitOfWork, reservation: Reservation) -> None:
    """Add what ``reservation`` spends to its counter (it was just placed or priced again)."""
    _count(uow, reservation, +1)


def _count(uow: UnitOfWork, reservation: Reservation, sign: int) -> None:
    if reservation.quota_minutes and counts_for_quota(reservation.status):
        month = quota_month(reservation.start_utc)
        spend(uow, reservation.org_id, reservation.space.kind, month, sign * reservation.quota_minutes)
