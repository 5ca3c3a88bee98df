"""The free-hour counters (:class:`QuotaUsage`): read without a lock, written last. Every change
of a reservation that counts against the quota goes through here (placing, moving, a transition
out of the counted states), so the counter equals the sum of ``quota_minutes`` of the
organisation's counted reservations of that kind and month.

Concurrency. Pricing reads the counter with a plain ``SELECT`` (:func:`free_minutes`): no lock,
so bookings of one tenant do not queue behind each other while they check their rules, write
their reservation and wait on its exclusion constraint. A handler only *notes* what it spends
(:func:`take`) and gives back (:func:`give_back`); :func:`settle`, the handler's last step,
writes the counters: one ``UPDATE … RETURNING`` per counter (an ``INSERT … ON CONFLICT DO
UPDATE … RETURNING`` when it may be new), in sorted key order. Only then is a counter's row
locked, until commit; what follows is the outbox and audit lines, which wait for nobody.

- **Never overspent.** The counter returned is exact (the row is locked now). If it is above
  the month's allowance, another booking spent the same free minutes meanwhile: the
  reservations that took minutes from that counter are priced again, exactly, in the order they
  were placed, and the counter corrected. A reservation's event and audit line are written only
  after that (the ``announce`` given to :func:`take`), so they carry the final price.
- **No deadlock.** Two transactions lock the counters they share in one order (sorted), and a
  transaction holding a counter never waits for a reservation row (it wrote those first). So a
  move from May to June and another from June to May of one tenant at the same moment both go
  through; before, each locked its old month first and waited for the other's.

SQLite serialises writers anyway (``BEGIN IMMEDIATE``); the same code runs there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, event, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.booking.models import QuotaRule, QuotaUsage, Reservation
from services.booking.rules import Interval, counts_for_quota, free_minutes_left, price_of, quota_month
from shared.db import UnitOfWork

Counter = tuple[str, str, str]
"""A counter's key: (organisation, space kind, park month ``YYYY-MM``)."""

_PENDING = "booking.quota"


@dataclass(frozen=True)
class Spending:
    """What one reservation spends of one counter."""

    counter: Counter
    minutes: int


@dataclass
class _Pending:
    """The counter changes a transaction has noted and not yet written."""

    changes: dict[Counter, int] = field(default_factory=dict)
    allowances: dict[tuple[str, str], int] = field(default_factory=dict)
    takers: dict[Counter, list[Reservation]] = field(default_factory=dict)
    announcements: list[Callable[[], None]] = field(default_factory=list)

    def move(self, counter: Counter, minutes: int) -> None:
        self.changes[counter] = self.changes.get(counter, 0) + minutes


def _pending(uow: UnitOfWork) -> _Pending:
    pending: _Pending = uow.session.info.setdefault(_PENDING, _Pending())
    return pending


def allowance(uow: UnitOfWork, org_id: str, space_kind: str) -> int:
    """Free hours per month of ``org_id`` for ``space_kind`` (its own rule, else ``*``'s, else 0),
    read once per transaction."""
    known = _pending(uow).allowances
    if (org_id, space_kind) not in known:
        rule = uow.session.get(QuotaRule, (org_id, space_kind)) or uow.session.get(QuotaRule, ("*", space_kind))
        known[org_id, space_kind] = rule.free_hours_per_month if rule is not None else 0
    return known[org_id, space_kind]


def spending(reservation: Reservation) -> Spending | None:
    """What ``reservation`` spends now (None when it spends nothing)."""
    if not reservation.quota_minutes or not counts_for_quota(reservation.status):
        return None
    counter = (reservation.org_id, reservation.space.kind, quota_month(reservation.start_utc))
    return Spending(counter, reservation.quota_minutes)


def free_minutes(
    uow: UnitOfWork, org_id: str, space_kind: str, month: str, *, returning: Spending | None = None
) -> int:
    """What ``org_id`` has left of its free hours on ``space_kind`` in ``month``, read without a
    lock: the counter as committed, plus what this transaction noted and has not written yet,
    less ``returning`` (the minutes of a reservation about to be priced again). :func:`settle`
    makes it exact."""
    hours = allowance(uow, org_id, space_kind)
    if hours <= 0:
        return 0
    counter = (org_id, space_kind, month)
    used = uow.session.execute(
        select(QuotaUsage.minutes).where(
            QuotaUsage.org_id == org_id, QuotaUsage.space_kind == space_kind, QuotaUsage.month == month
        )
    ).scalar()
    used = (used or 0) + _pending(uow).changes.get(counter, 0)
    if returning is not None and returning.counter == counter:
        used -= returning.minutes
    return free_minutes_left(hours, max(0, used))


def give_back(uow: UnitOfWork, spent: Spending | None) -> None:
    """Note that what a reservation spent (:func:`spending`, read before it changed) comes back:
    it stops counting, or it was priced again. Written by :func:`settle`."""
    if spent is not None:
        _pending(uow).move(spent.counter, -spent.minutes)


def take(uow: UnitOfWork, reservation: Reservation, announce: Callable[[], None]) -> None:
    """Note that ``reservation`` (just written, priced from an unlocked read) spends its
    ``quota_minutes``; ``announce`` (its event and audit line) runs in :func:`settle` once its
    price is final. Call it last, once nothing about the reservation can fail any more (a
    series places each occurrence in a savepoint: a refused one must leave nothing noted)."""
    pending = _pending(uow)
    spent = spending(reservation)
    if spent is not None:
        pending.move(spent.counter, spent.minutes)
        pending.takers.setdefault(spent.counter, []).append(reservation)
    pending.announcements.append(announce)


def settle(uow: UnitOfWork) -> None:
    """Write every counter change this transaction noted, in sorted key order, each with one
    statement returning the new value, as the handler's last statements; the reservations
    placed or moved are announced (event, audit line) just before. The last thing a handler
    does before building its answer.

    When a counter comes back above its allowance (another booking spent the same free minutes
    after our unlocked read), the announcements and the counters are rolled back to a savepoint
    taken before them, and written again the safe way round: each counter first (its row locked,
    so the value is exact), the takers of an overspent one priced again, then the announcements
    with the final prices. Rare: only a booking that takes the last free minutes of a month
    while another does the same pays for it."""
    pending: _Pending | None = uow.session.info.pop(_PENDING, None)
    if pending is None:
        return
    if not any(pending.takers.values()):  # nothing took free minutes: nothing can be overspent
        for announce in pending.announcements:
            announce()
        _write(uow, pending, price_again=False)
        return
    savepoint = uow.session.begin_nested()
    for announce in pending.announcements:
        announce()
    uow.session.flush()  # the audit lines too: the counters are the last statements
    if _write(uow, pending, price_again=False):
        savepoint.commit()
        return
    savepoint.rollback()  # the counters' row locks taken inside it are released too
    _write(uow, pending, price_again=True)
    for announce in pending.announcements:
        announce()


def _write(uow: UnitOfWork, pending: _Pending, *, price_again: bool) -> bool:
    """Apply the noted changes in sorted key order; False as soon as one counter is overspent
    (unless ``price_again``: then its takers are priced again, exactly, and it is corrected)."""
    for counter in sorted(pending.changes):
        minutes = pending.changes[counter]
        if minutes == 0:
            continue  # given back and taken again in one counter: nothing moves
        total = _add(uow, counter, minutes)
        if minutes <= 0 or total is None:
            continue
        takers = pending.takers.get(counter, [])
        if not _overspent(pending, counter, total, takers):
            continue
        if not price_again:
            return False
        _price_again(uow, pending, counter, total, takers)
    return True


def _overspent(pending: _Pending, counter: Counter, total: int, takers: list[Reservation]) -> bool:
    org_id, space_kind, _month = counter
    taken = sum(reservation.quota_minutes for reservation in takers)
    return taken > 0 and total > pending.allowances.get((org_id, space_kind), 0) * 60


def _price_again(uow: UnitOfWork, pending: _Pending, counter: Counter, total: int, takers: list[Reservation]) -> None:
    """What is left of the allowance (exact: the row is locked) goes to our takers in the order
    they were placed; the rest is billed; the counter is corrected."""
    org_id, space_kind, _month = counter
    taken = sum(reservation.quota_minutes for reservation in takers)
    left = max(0, pending.allowances.get((org_id, space_kind), 0) * 60 - (total - taken))
    for reservation in takers:
        usage = Interval(reservation.start_utc, reservation.end_utc)
        price = price_of(reservation.space.policy(), usage.minutes, free_minutes_left=left)
        left -= price.quota_minutes
        reservation.price = price.price
        reservation.quota_minutes, reservation.billable_minutes = price.quota_minutes, price.billable_minutes
    retaken = sum(reservation.quota_minutes for reservation in takers)
    _add(uow, counter, retaken - taken)


def _add(uow: UnitOfWork, counter: Counter, minutes: int) -> int | None:
    """Move the counter by ``minutes`` in one statement (never below zero); returns its new
    value (None: a give-back found no counter)."""
    org_id, space_kind, month = counter
    if minutes < 0:
        lowered = uow.session.execute(
            update(QuotaUsage)
            .where(QuotaUsage.org_id == org_id, QuotaUsage.space_kind == space_kind, QuotaUsage.month == month)
            .values(minutes=case((QuotaUsage.minutes + minutes > 0, QuotaUsage.minutes + minutes), else_=0))
            .returning(QuotaUsage.minutes)
        ).scalar()
        return None if lowered is None else int(lowered)
    values: dict[str, Any] = {"org_id": org_id, "space_kind": space_kind, "month": month, "minutes": minutes}
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    upsert = insert(QuotaUsage).values(**values)
    statement = upsert.on_conflict_do_update(
        index_elements=["org_id", "space_kind", "month"],
        set_={"minutes": QuotaUsage.minutes + upsert.excluded.minutes},
    ).returning(QuotaUsage.minutes)
    return int(uow.session.execute(statement).scalar_one())


@event.listens_for(Session, "before_commit")
def _nothing_left_unsettled(session: Session) -> None:
    """A handler that noted counter changes and forgot :func:`settle` is a bug: the counter
    would drift from the reservations. Refuse to commit it."""
    if session.in_nested_transaction():
        return  # a savepoint (a series' occurrence): the transaction goes on
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is not None and (pending.changes or pending.announcements):
        raise RuntimeError("booking: quota changes noted but not settled (call handlers.quota.settle)")
